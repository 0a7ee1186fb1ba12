import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { WebSocketServer } from 'ws';
import { upgrade } from '../../../src/access/websocket.js';
import { HttpClient, parseSetCookie, tlsHint } from '../../../src/access/http.js';
import { AccessError } from '../../../src/access/errors.js';
import { startServer, testCert, type TestServer } from './helpers.js';
import { tempDir } from '../../support/tmp.js';

let server: TestServer;
before(async () => {
  server = await startServer((req, res) => {
    if (req.url.startsWith('/slow')) return; // never answers
    if (req.url === '/redirect') {
      res.writeHead(302, {
        location: 'https://elsewhere.test/',
        'set-cookie': ['a=1; Path=/; Expires=Wed, 21 Oct 2099 07:28:00 GMT', 'b=2; Max-Age=60; Domain=.sandbox.test; HttpOnly'],
      });
      res.end();
      return;
    }
    res.writeHead(200, { 'content-type': 'text/plain', 'x-echo-method': req.method });
    res.end(req.method === 'POST' ? req.body : 'hello');
  });
});
after(() => server.close());

test('connect-to reroutes TCP only: SNI and Host stay the real name', async () => {
  const res = await server.client().request({ method: 'GET', url: 'https://ssh.sandbox.test/path?q=1' });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello');
  const seen = server.seen.at(-1)!;
  assert.equal(seen.sni, 'ssh.sandbox.test');
  assert.equal(seen.host, 'ssh.sandbox.test');
  assert.equal(seen.url, '/path?q=1');
  assert.equal(seen.headers['user-agent'], 'access-ssh');
});

test('non-default port keeps the port in Host', async () => {
  await server.client().request({ method: 'HEAD', url: 'https://login.cloudflareaccess.org:8443/x' });
  const seen = server.seen.at(-1)!;
  assert.equal(seen.host, 'login.cloudflareaccess.org:8443');
  assert.equal(seen.sni, 'login.cloudflareaccess.org');
});

test('POST sends the body and custom headers', async () => {
  const res = await server.client().request({
    method: 'POST',
    url: 'https://sandbox.cloudflareaccess.com/sign',
    body: '{"a":1}',
    headers: { 'Content-Type': 'application/json' },
  });
  assert.equal(res.body.toString(), '{"a":1}');
  assert.equal(server.seen.at(-1)!.headers['content-type'], 'application/json');
});

test('redirects are not followed; Set-Cookie is parsed', async () => {
  const res = await server.client().request({ method: 'HEAD', url: 'https://ssh.sandbox.test/redirect' });
  assert.equal(res.status, 302);
  assert.equal(res.headers.location, 'https://elsewhere.test/');
  assert.equal(res.setCookies.length, 2);
  assert.equal(res.setCookies[0]!.name, 'a');
  assert.equal(res.setCookies[0]!.expires?.getUTCFullYear(), 2099);
  assert.equal(res.setCookies[1]!.maxAge, 60);
  assert.equal(res.setCookies[1]!.domain, 'sandbox.test');
  assert.equal(res.setCookies[1]!.expires, undefined);
});

test('the self-signed server is refused without the extra CA', async () => {
  const client = new HttpClient({ connectTo: server.client().connectTo });
  await assert.rejects(client.request({ method: 'GET', url: 'https://ssh.sandbox.test/' }), (err: unknown) => {
    assert.ok(err instanceof AccessError);
    assert.equal(err.code, 'network');
    assert.match(err.message, /ssh\.sandbox\.test/);
    assert.match(err.hint ?? '', /NODE_EXTRA_CA_CERTS/);
    return true;
  });
});

test('a name the certificate does not cover is refused even when rerouted, with no proxy hint', async () => {
  await assert.rejects(server.client().request({ method: 'GET', url: 'https://not-covered.example/' }), (err: unknown) => {
    assert.ok(err instanceof AccessError);
    assert.equal(err.code, 'network');
    assert.equal((err.cause as NodeJS.ErrnoException).code, 'ERR_TLS_CERT_ALTNAME_INVALID');
    // A name mismatch is not a TLS-inspecting proxy's doing (a proxy re-signs for the right name).
    assert.doesNotMatch(err.hint ?? '', /proxy|NODE_EXTRA_CA_CERTS/i);
    assert.match(err.hint ?? '', /other names: check the host name/);
    return true;
  });
});

test('tlsHint: the proxy hint only for an untrusted chain', () => {
  const hint = (code: string): string => tlsHint(Object.assign(new Error(code), { code })) ?? '';
  for (const untrusted of [
    'SELF_SIGNED_CERT_IN_CHAIN',
    'DEPTH_ZERO_SELF_SIGNED_CERT',
    'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
    'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  ]) {
    assert.match(hint(untrusted), /TLS-inspecting proxy/, untrusted);
  }
  for (const notProxy of ['ERR_TLS_CERT_ALTNAME_INVALID', 'CERT_HAS_EXPIRED', 'CERT_NOT_YET_VALID', 'CERT_SIGNATURE_FAILURE']) {
    assert.ok(hint(notProxy) !== '', `${notProxy} has a hint`);
    assert.doesNotMatch(hint(notProxy), /proxy/i, notProxy);
  }
  assert.match(hint('CERT_HAS_EXPIRED'), /clock/);
});

test('fromEnv reads ACCESS_SSH_CONNECT_TO and NODE_EXTRA_CA_CERTS', async (t) => {
  const client = HttpClient.fromEnv({ ACCESS_SSH_CONNECT_TO: `::127.0.0.1:${server.port}`, NODE_EXTRA_CA_CERTS: testCert().certFile });
  const res = await client.request({ method: 'GET', url: 'https://ssh.sandbox.test/' });
  assert.equal(res.status, 200);
  assert.throws(
    () => HttpClient.fromEnv({ NODE_EXTRA_CA_CERTS: path.join(tempDir(t), 'missing.pem') }),
    (err: unknown) => err instanceof AccessError && err.code === 'config',
  );
  const notPem = path.join(tempDir(t), 'x.pem');
  fs.writeFileSync(notPem, 'garbage');
  assert.throws(
    () => HttpClient.fromEnv({ NODE_EXTRA_CA_CERTS: notPem }),
    (err: unknown) => err instanceof AccessError && err.code === 'config',
  );
  assert.throws(
    () => HttpClient.fromEnv({ ACCESS_SSH_CONNECT_TO: 'nonsense' }),
    (err: unknown) => err instanceof AccessError && err.code === 'config',
  );
});

test('timeout names the host, not the query', async () => {
  await assert.rejects(
    server.client({ timeoutMs: 200 }).request({ method: 'GET', url: 'https://ssh.sandbox.test/slow?token=SECRET' }),
    (err: unknown) => {
      assert.ok(err instanceof AccessError);
      assert.equal(err.code, 'timeout');
      assert.match(err.message, /ssh\.sandbox\.test/);
      assert.doesNotMatch(err.message, /SECRET/);
      return true;
    },
  );
});

test('abort signal cancels', async () => {
  const ac = new AbortController();
  const p = server.client().request({ method: 'GET', url: 'https://ssh.sandbox.test/slow', signal: ac.signal });
  setTimeout(() => ac.abort(), 50);
  await assert.rejects(p, (err: unknown) => err instanceof AccessError && err.code === 'network' && /cancelled/.test(err.message));
  const pre = new AbortController();
  pre.abort();
  await assert.rejects(server.client().request({ method: 'GET', url: 'https://ssh.sandbox.test/', signal: pre.signal }), /cancelled/);
});

test('connection refused is a network error naming host and route', async () => {
  const client = new HttpClient({ connectTo: [{ toHost: '127.0.0.1', toPort: 1 }] });
  await assert.rejects(client.request({ method: 'GET', url: 'https://ssh.sandbox.test/' }), (err: unknown) => {
    assert.ok(err instanceof AccessError && err.code === 'network');
    assert.match(err.message, /ssh\.sandbox\.test via 127\.0\.0\.1:1/);
    return true;
  });
});

test('only https is allowed', async () => {
  await assert.rejects(
    server.client().request({ method: 'GET', url: 'http://ssh.sandbox.test/' }),
    (err: unknown) => err instanceof AccessError && err.code === 'config',
  );
});

test('connect: the websocket takes the same route, SNI and Host', async () => {
  const { key, cert } = testCert();
  const https = await import('node:https');
  const hs = https.createServer({ key, cert });
  const wss = new WebSocketServer({ server: hs });
  const seen: { host?: string | undefined; sni?: string | false | null; token?: string; ua?: string | undefined } = {};
  wss.on('connection', (ws, req) => {
    seen.host = req.headers.host;
    seen.sni = (req.socket as import('node:tls').TLSSocket).servername;
    seen.token = req.headers['cf-access-token'] as string;
    seen.ua = req.headers['user-agent'];
    ws.on('message', (data) => ws.send(data));
  });
  await new Promise<void>((r) => hs.listen(0, '127.0.0.1', r));
  const port = (hs.address() as import('node:net').AddressInfo).port;
  try {
    const client = new HttpClient({ connectTo: [{ toHost: '127.0.0.1', toPort: port }], extraCaPem: cert, userAgent: 'access-ssh/test' });
    const socket = await client.connect('ssh.sandbox.test', 443);
    const r = await upgrade(socket, {
      path: '/',
      host: 'ssh.sandbox.test',
      headers: { 'user-agent': client.userAgent, 'cf-access-token': 'tok' },
    });
    assert.ok(r.ok);
    const ws = r.ws;
    const echoed = await new Promise<Buffer>((resolve, reject) => {
      ws.on('message', (data) => resolve(data));
      ws.on('error', reject);
      ws.resume();
      ws.send(Buffer.from([1, 2, 3]));
    });
    ws.close();
    assert.deepEqual([...echoed], [1, 2, 3]);
    assert.equal(seen.host, 'ssh.sandbox.test');
    assert.equal(seen.sni, 'ssh.sandbox.test');
    assert.equal(seen.token, 'tok');
    assert.equal(seen.ua, 'access-ssh/test');
  } finally {
    wss.close();
    hs.closeAllConnections();
    await new Promise<void>((r) => hs.close(() => r()));
  }
});

test('connect: a certificate for another name is refused with the TLS hint', async () => {
  const { key, cert } = testCert();
  const tls = await import('node:tls');
  const srv = tls.createServer({ key, cert }, (s) => s.end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
  const port = (srv.address() as import('node:net').AddressInfo).port;
  try {
    const client = new HttpClient({ connectTo: [{ toHost: '127.0.0.1', toPort: port }], extraCaPem: cert });
    await assert.rejects(client.connect('other.example.com', 443), (err: unknown) => {
      assert.ok(err instanceof AccessError && err.code === 'network', String(err));
      assert.match(err.message, /Cannot reach other\.example\.com:443 via 127\.0\.0\.1:\d+/);
      assert.match(err.hint ?? '', /other names/);
      return true;
    });
    const ac = new AbortController();
    ac.abort();
    await assert.rejects(client.connect('ssh.sandbox.test', 443, ac.signal), /cancelled/);
  } finally {
    srv.close();
  }
});

test('parseSetCookie edge cases', () => {
  assert.equal(parseSetCookie('novalue'), undefined);
  assert.equal(parseSetCookie('=x'), undefined);
  assert.deepEqual(parseSetCookie('a="q"; path=/p; expires=bogus'), { name: 'a', value: 'q', path: '/p' });
  assert.equal(parseSetCookie('CF_Authorization=x.y.z; Max-Age=abc')!.maxAge, undefined);
});
