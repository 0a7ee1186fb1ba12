// The HTTPS client in a second Node process started with NODE_EXTRA_CA_CERTS.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { startServer, testCert, type TestServer } from '../../unit/access/helpers.js';

let server: TestServer;
before(async () => {
  // The one request made answers 200: the test is about which CA the child trusts.
  server = await startServer((_req, res) => {
    res.end('hello');
  });
});
after(() => server.close());

test('plain Node started with NODE_EXTRA_CA_CERTS: its default store is used (no second one), and it trusts that CA', async () => {
  const { execFile } = await import('node:child_process');
  const script = `
    const { HttpClient } = require(${JSON.stringify(path.join(__dirname, '../../../src/access/http.js'))});
    const client = HttpClient.fromEnv(process.env);
    client.request({ method: 'GET', url: 'https://ssh.sandbox.test/' }).then(
      (res) => console.log(JSON.stringify({ status: res.status, ownStore: client.ca !== undefined })),
      (err) => console.log(JSON.stringify({ error: String(err && err.message) })));`;
  // Not execFileSync: the server answers from this process's event loop.
  const run = (env: Record<string, string>): Promise<Record<string, unknown>> =>
    new Promise((resolve, reject) => {
      execFile(
        process.execPath,
        ['-e', script],
        {
          env: { PATH: process.env['PATH'] ?? '', ACCESS_SSH_CONNECT_TO: `::127.0.0.1:${server.port}`, ...env },
          encoding: 'utf8',
        },
        (err, stdout) =>
          err ? reject(new Error(err.message, { cause: err })) : resolve(JSON.parse(stdout.trim()) as Record<string, unknown>),
      );
    });
  assert.deepEqual(await run({ NODE_EXTRA_CA_CERTS: testCert().certFile }), { status: 200, ownStore: false });
  // Without it the test CA is not trusted (the server's certificate is refused).
  assert.match(String((await run({})).error), /certificate|self.signed/i);
});
