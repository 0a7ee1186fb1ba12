// --timeout / ACCESS_SSH_TIMEOUT (the per-request limit) and the User-Agent the
// helper sends, through the whole CLI.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import { parseTimeout, userAgent, version } from '../../../src/cli/run.js';
import { cliInProcess, type CliResult } from '../../support/cli.js';
import { startServer, testCert } from '../access/helpers.js';

const cli = (argv: string[], env: Record<string, string>): Promise<CliResult> => cliInProcess(argv, env, { openUrl: async () => {} });

test('parseTimeout: Go durations or seconds, 1s to 1h', () => {
  assert.equal(parseTimeout('30'), 30_000);
  assert.equal(parseTimeout('2.5'), 2_500);
  assert.equal(parseTimeout('30s'), 30_000);
  assert.equal(parseTimeout('1m30s'), 90_000);
  assert.equal(parseTimeout('1500ms'), 1_500);
  assert.equal(parseTimeout('1h'), 3_600_000);
  for (const bad of ['', '0', '999ms', '2h', '-5', '5 s', '5x', 's', '1e3']) assert.equal(parseTimeout(bad), undefined, bad);
});

test('a bad --timeout or ACCESS_SSH_TIMEOUT is a usage error (exit 2)', async () => {
  let r = await cli(['token', 'https://ssh.sandbox.test', '--timeout', 'soon'], {});
  assert.equal(r.code, 2);
  assert.match(r.stderr, /--timeout \(or ACCESS_SSH_TIMEOUT\) must be a duration/);
  r = await cli(['token', 'https://ssh.sandbox.test'], { ACCESS_SSH_TIMEOUT: '0' });
  assert.equal(r.code, 2);
});

test('--timeout and ACCESS_SSH_TIMEOUT set the per-request limit (the flag wins)', async () => {
  // Accepts TCP and never answers: every request waits for the limit.
  const sockets: net.Socket[] = [];
  const mute = net.createServer((s) => sockets.push(s));
  await new Promise<void>((r) => mute.listen(0, '127.0.0.1', r));
  const port = (mute.address() as AddressInfo).port;
  try {
    const env = { ACCESS_SSH_CONNECT_TO: `::127.0.0.1:${port}` };
    let r = await cli(['login', 'https://ssh.sandbox.test/', '--timeout', '1500ms'], { ...env, ACCESS_SSH_TIMEOUT: '20' });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /No answer from ssh\.sandbox\.test within 1\.5s via 127\.0\.0\.1:\d+/);
    r = await cli(['login', 'https://ssh.sandbox.test/'], { ...env, ACCESS_SSH_TIMEOUT: '1' });
    assert.match(r.stderr, /within 1s/);
  } finally {
    for (const s of sockets) s.destroy();
    mute.close();
  }
});

test('every request carries User-Agent access-ssh/<version>', async () => {
  assert.equal(userAgent(), `access-ssh/${version()}`);
  assert.match(version(), /^[0-9]+\.[0-9]+\.[0-9]+/);
  const server = await startServer((_req, res) => {
    res.writeHead(200);
    res.end();
  });
  try {
    const r = await cli(['login', 'https://ssh.sandbox.test/'], {
      ACCESS_SSH_CONNECT_TO: `::127.0.0.1:${server.port}`,
      NODE_EXTRA_CA_CERTS: testCert().certFile,
    });
    assert.equal(r.code, 1, 'no Access metadata: discovery fails after one request');
    assert.ok(server.seen.length >= 1);
    for (const seen of server.seen) assert.equal(seen.headers['user-agent'], `access-ssh/${version()}`);
  } finally {
    await server.close();
  }
});
