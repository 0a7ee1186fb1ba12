// Concurrency of the helper processes (issue #4, item 2), against the sandbox:
// a login lock left by a killed process is reclaimed; a lock held by a live process
// is waited on, and the waiter shows the holder's login URL (as cloudflared does)
// instead of opening a second login. (20 ssh at once sharing one login and one
// certificate: helper.test.ts.)
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openLikeBrowser } from '../sandbox/fake-browser';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { APP, delta, explain, HELPER, helperMissing, makeClient, snapshot, type Client } from './harness';
import { waitFor } from '../support/wait';

const missing = helperMissing();

interface Running {
  child: ChildProcess;
  stderr(): string;
  done: Promise<number>;
}

function start(c: Client, args: string[], env: NodeJS.ProcessEnv = {}): Running {
  const child = spawn(process.execPath, [HELPER, ...args], { env: { ...c.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  child.stdout.resume();
  const done = new Promise<number>((resolve) => child.on('close', (code, signal) => resolve(code ?? (signal ? 128 : 1))));
  return { child, stderr: () => err, done };
}

/** A $BROWSER that only notes the URL: the login is left open. */
function lazyBrowser(c: Client): string {
  const file = join(c.home, 'lazy-browser.sh');
  writeFileSync(file, `#!/bin/sh\nprintf '%s\\n' "$1" >> "${join(c.home, 'lazy.log')}"\n`, { mode: 0o755 });
  return file;
}

const locks = (c: Client): string[] => {
  const dir = join(c.home, '.cloudflared');
  return existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.lock')) : [];
};

describe('helper processes at once', { skip: missing }, () => {
  let sb: Sandbox;
  const homes: string[] = [];
  const client = (name: string): Client => {
    const c = makeClient(sb, name);
    homes.push(c.home);
    return c;
  };
  const running: Running[] = [];
  before(async () => {
    sb = await startSandbox();
  });
  after(async () => {
    for (const r of running) if (r.child.exitCode === null && r.child.signalCode === null) r.child.kill('SIGKILL');
    await sb?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it(
    'a lock left by a killed helper (kill -9 in the middle of a login) is reclaimed: the next ssh logs in and connects',
    { timeout: 300_000 },
    async () => {
      const c = client('stale');
      const a = start(c, ['ssh-gen', '--hostname', APP], { BROWSER: lazyBrowser(c) });
      running.push(a);
      await waitFor(() => a.stderr().includes('/cdn-cgi/access/cli?'), { what: 'the login URL of the first helper', timeoutMs: 120_000 });
      const held = locks(c);
      assert.ok(held.length >= 2, `the key and token locks are held: ${held.join(', ')}`);
      assert.ok(a.child.kill('SIGKILL'));
      await a.done;
      assert.deepEqual(locks(c), held, 'the killed process left its locks behind');

      const b = snapshot(sb);
      const r = await c.ssh(['whoami'], { timeoutMs: 240_000 });
      assert.equal(r.code, 0, explain(r, sb));
      assert.equal(r.stdout.trim(), 'jdoe');
      const d = delta(sb, b);
      assert.equal(d.approvals, 1, 'one login');
      assert.equal(d.certSigns, 1, 'one certificate');
      assert.doesNotMatch(r.stderr, /Another process|Waiting for another/, 'a dead holder is not waited on');
      assert.deepEqual(locks(c), [], 'no lock left');
    },
  );

  it(
    "a live helper's login is waited on: the waiter shows that login's URL, opens no browser, and both finish with one login",
    { timeout: 300_000 },
    async () => {
      for (const cmd of ['ssh-gen', 'ssh']) {
        const c = client(`live-${cmd}`);
        const b = snapshot(sb);
        const a = start(c, ['ssh-gen', '--hostname', APP], { BROWSER: lazyBrowser(c) });
        running.push(a);
        await waitFor(() => a.stderr().includes('/cdn-cgi/access/cli?'), { what: 'the login URL of the first helper', timeoutMs: 120_000 });
        const url = /(https:\/\/\S+\/cdn-cgi\/access\/cli\?\S+)/.exec(a.stderr())![1]!;

        // The second one, with a browser that would approve at once if it were opened.
        const w = start(c, cmd === 'ssh' ? ['ssh', '--hostname', APP] : ['ssh-gen', '--hostname', APP]);
        running.push(w);
        await waitFor(() => w.stderr().includes(url), { what: `the waiting ${cmd} to show the URL`, timeoutMs: 120_000 });
        assert.match(w.stderr(), /Another process \(pid \d+\) is signing in to Cloudflare Access; finish the login at:/);
        assert.equal(c.browserOpens(), 0, 'the waiter opened no browser');

        await openLikeBrowser(url, undefined, sb.env); // the user finishes the first login
        assert.equal(await a.done, 0, a.stderr());
        // (The ProxyCommand's stdin is empty: it opens the carrier and ends.)
        assert.equal(await w.done, 0, w.stderr());
        if (cmd === 'ssh') assert.equal(delta(sb, b).carrierAccepted, 1, 'the waiting ProxyCommand connected');
        const d = delta(sb, b);
        assert.equal(d.approvals, 1, 'exactly one login');
        assert.equal(d.certSigns, 1, 'one certificate');
        assert.equal(c.browserOpens(), 0);
        assert.equal(readFileSync(join(c.home, 'lazy.log'), 'utf8').trim().split('\n').length, 1, 'one browser opened in all');
        assert.deepEqual(locks(c), [], 'no lock left');
      }
    },
  );
});
