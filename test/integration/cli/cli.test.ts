// The helper as a real process (compiled main.js) against the sandbox edge: login
// through $BROWSER, token, ssh-gen (fast path makes no request), ssh (stdout carries
// only the stream), --non-interactive.

import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import * as path from 'node:path';
import { startEchoServer } from '../../unit/access/helpers.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { openLikeBrowser } from '../../sandbox/fake-browser.js';
import { tempDir } from '../../support/tmp.js';

const MAIN = path.join(__dirname, '../../../src/cli/main.js');
const BROWSER_SH = path.join(__dirname, '../../../../test/sandbox/browser.sh');
const HOST = 'ssh.sandbox.test';

interface Proc {
  code: number;
  stdout: Buffer;
  stderr: string;
}

function runMain(args: string[], env: NodeJS.ProcessEnv, input?: Buffer, timeoutMs = 60_000): Promise<Proc> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [MAIN, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? -1, stdout: Buffer.concat(out), stderr: err });
    });
    child.stdin.on('error', () => {});
    if (input) child.stdin.end(input);
    else child.stdin.end();
  });
}

describe('the helper process against the sandbox', () => {
  let sandbox: Sandbox;
  let echo: net.Server;
  // Made when the suite is defined, removed after it (node:test's suite-level after).
  const home = tempDir({ after }, 'cli-home-');
  let env: NodeJS.ProcessEnv;
  before(async () => {
    let port: number;
    ({ server: echo, port } = await startEchoServer());
    sandbox = await startSandbox({ sshd: false, origins: { [HOST]: { host: '127.0.0.1', port } } });
    env = { PATH: process.env['PATH'], HOME: home, ...sandbox.env, BROWSER: BROWSER_SH, FAKE_BROWSER_LOG: path.join(home, 'browser.log') };
  });
  after(async () => {
    await sandbox.stop();
    await new Promise((r) => echo.close(r));
  });

  test('--non-interactive without a token fails at once naming "Access: Sign In"', async () => {
    for (const cmd of ['ssh-gen', 'ssh']) {
      const before = { ...sandbox.counters };
      const r = await runMain([cmd, '--hostname', HOST, '--non-interactive'], env);
      assert.equal(r.code, 1, r.stderr);
      assert.equal(r.stdout.length, 0);
      const lines = r.stderr.trim().split('\n');
      assert.ok(lines.length <= 2, r.stderr);
      assert.match(r.stderr, /^access-ssh: Not signed in to Cloudflare Access for ssh\.sandbox\.test\n/);
      assert.match(r.stderr, /"Access: Sign In"/);
      // A command the user can run: this very helper (no `access-ssh` on the PATH needed).
      assert.ok(r.stderr.includes(`run: ${process.execPath} `) && / login https:\/\/ssh\.sandbox\.test\n$/.test(r.stderr), r.stderr);
      assert.doesNotMatch(r.stderr, /\n\s+at /, 'no stack trace');
      // At once: no login was started and waited on (runMain kills a hang after 60 s).
      assert.equal(sandbox.counters.transferPolls, before.transferPolls, 'no login polled');
      assert.equal(sandbox.counters.loginPage, before.loginPage, 'no login page');
    }
    assert.equal(fs.existsSync(path.join(home, 'browser.log')), false, 'no browser opened');
  });

  test('token without a login: exit 1, a sign-in command that runs', async () => {
    const r = await runMain(['token', `https://${HOST}`], env);
    assert.equal(r.code, 1);
    assert.equal(r.stdout.length, 0);
    assert.ok(r.stderr.includes(`run: ${process.execPath} `) && / login https:\/\/ssh\.sandbox\.test\n$/.test(r.stderr), r.stderr);
    // Run through the extension's launcher, the hint names the launcher, quoted.
    const viaLauncher = await runMain(['token', `https://${HOST}`], { ...env, ACCESS_SSH_LAUNCHER: '/home/j d/.vscode/access-ssh' });
    assert.match(viaLauncher.stderr, /run: '\/home\/j d\/\.vscode\/access-ssh' login https:\/\/ssh\.sandbox\.test\n$/);
  });

  test('login opens $BROWSER, prints the URL on stderr, stores the token; token prints it', async () => {
    const r = await runMain(['login', `https://${HOST}`, '--loglevel', 'debug'], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.match(r.stderr, /https:\/\/ssh\.sandbox\.test\/cdn-cgi\/access\/cli\?/);
    assert.match(r.stderr, /Signed in to ssh\.sandbox\.test as jdoe@example\.com/);
    assert.equal(fs.readFileSync(path.join(home, 'browser.log'), 'utf8').trim().split('\n').length, 1);
    const t = await runMain(['token', `https://${HOST}`], env);
    assert.equal(t.code, 0, t.stderr);
    const token = t.stdout.toString();
    assert.match(token, /^eyJ[\w-]+\.eyJ[\w-]+\.[\w-]+$/);
    assert.ok(!r.stderr.includes(token), 'the debug log never shows the token');
  });

  test('ssh-gen: a certificate, then the fast path makes no request at all', async () => {
    const signs = sandbox.counters.certSigns;
    const r = await runMain(['ssh-gen', '--hostname', HOST], env);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout.length, 0);
    assert.equal(sandbox.counters.certSigns - signs, 1);
    const key = path.join(home, '.cloudflared', `${HOST}-cf_key`);
    assert.ok(fs.existsSync(`${key}-cert.pub`));
    const before = { ...sandbox.counters };
    const again = await runMain(['ssh-gen', '--hostname', HOST, '--loglevel', 'debug'], env);
    assert.equal(again.code, 0, again.stderr);
    assert.deepEqual({ ...sandbox.counters }, before, 'no request of any kind');
    assert.match(again.stderr, /nothing to do/);
    // A margin beyond the certificate's life renews it.
    const renewed = await runMain(['ssh-gen', '--hostname', HOST], { ...env, ACCESS_SSH_RENEW_MARGIN: '3600' });
    assert.equal(renewed.code, 0, renewed.stderr);
    assert.equal(sandbox.counters.certSigns - signs, 2);
  });

  test('ssh: stdin and stdout carry exactly the stream, messages only on stderr', async () => {
    const payload = randomBytes(2 * 1024 * 1024 + 3);
    const child = spawn(process.execPath, [MAIN, 'ssh', '--hostname', HOST, '--loglevel', 'debug'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const out: Buffer[] = [];
    let got = 0;
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out.push(d);
      got += d.length;
      // Like ssh: close our side once everything came back.
      if (got >= payload.length) child.stdin.end();
    });
    child.stdin.write(payload);
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.ok(Buffer.concat(out).equals(payload), 'stdout is exactly the echoed bytes');
    assert.match(stderr, /Carrier to ssh\.sandbox\.test is open/);
  });

  test('a browser that fails to start does not fail the login: the printed URL works', async (t) => {
    const home2 = tempDir(t, 'cli-home2-');
    const env2 = { ...env, HOME: home2, BROWSER: path.join(home2, 'no-such-browser') };
    const child = spawn(process.execPath, [MAIN, 'login', `https://${HOST}`], { env: env2, stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    let opened = false;
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString();
      const url = /https:\/\/\S+\/cdn-cgi\/access\/cli\?\S+/.exec(stderr)?.[0];
      if (url && !opened) {
        opened = true;
        void openLikeBrowser(url, undefined, sandbox.env);
      }
    });
    const code = await new Promise<number | null>((resolve) => child.on('close', resolve));
    assert.equal(code, 0, stderr);
    assert.match(stderr, /Could not start the browser/);
  });
});
