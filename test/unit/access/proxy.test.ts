import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as https from 'node:https';
import type { AddressInfo } from 'node:net';
import { WebSocketServer } from 'ws';
import { carrierHandshake } from '../../../src/access/carrier.js';
import { silentLogger } from '../../../src/access/types.js';
import { HttpClient } from '../../../src/access/http.js';
import { AccessError } from '../../../src/access/errors.js';
import { parseConnectTo } from '../../../src/access/connect-to.js';
import { bypassesProxy, parseNoProxy, parseProxyUrl, proxyFromEnv } from '../../../src/access/proxy.js';
import { redact } from '../../../src/access/redact.js';
import { startConnectProxy, type ConnectProxy } from '../../sandbox/connect-proxy.js';
import { startServer, testCert, type TestServer } from './helpers.js';

// ---- environment and NO_PROXY grammar (Go's httpproxy, plus ALL_PROXY) ----

test('proxyFromEnv: HTTPS_PROXY, then https_proxy, then ALL_PROXY, then all_proxy; empty means unset', () => {
  assert.equal(proxyFromEnv({}), undefined);
  assert.equal(proxyFromEnv({ HTTPS_PROXY: '', https_proxy: ' ' }), undefined);
  assert.equal(proxyFromEnv({ HTTP_PROXY: 'http://p:1' }), undefined, 'HTTP_PROXY is for http:// URLs, which Access never uses');
  assert.equal(proxyFromEnv({ HTTPS_PROXY: 'http://a:1', https_proxy: 'http://b:2', ALL_PROXY: 'http://c:3' })!.proxy.host, 'a');
  assert.equal(proxyFromEnv({ HTTPS_PROXY: '', https_proxy: 'http://b:2', ALL_PROXY: 'http://c:3' })!.proxy.host, 'b');
  assert.equal(proxyFromEnv({ ALL_PROXY: 'http://c:3', all_proxy: 'http://d:4' })!.proxy.host, 'c');
  const s = proxyFromEnv({ all_proxy: 'http://d:4', no_proxy: '.corp' })!;
  assert.equal(s.proxy.source, 'all_proxy');
  assert.deepEqual(
    s.noProxy.map((r) => r.value),
    ['.corp'],
  );
  assert.deepEqual(
    proxyFromEnv({ HTTPS_PROXY: 'p:1', NO_PROXY: 'a', no_proxy: 'b' })!.noProxy.map((r) => r.value),
    ['.a'],
  );
});

test('parseProxyUrl: scheme defaults to http, ports default as in Go, credentials are percent-decoded', () => {
  const p = parseProxyUrl('proxy.corp:3128', 'HTTPS_PROXY');
  assert.deepEqual([p.protocol, p.host, p.port, p.username, p.display], ['http:', 'proxy.corp', 3128, undefined, 'http://proxy.corp:3128']);
  assert.equal(parseProxyUrl('http://proxy.corp', 'X').port, 80);
  assert.equal(parseProxyUrl('https://proxy.corp', 'X').port, 443);
  assert.equal(parseProxyUrl('http://[::1]:8080', 'X').display, 'http://[::1]:8080');
  const c = parseProxyUrl('http://j%40doe:p%3Ass%2Fw%25rd@proxy:8080/', 'X');
  assert.equal(c.username, 'j@doe');
  assert.equal(c.password, 'p:ss/w%rd');
  assert.equal(c.display, 'http://proxy:8080', 'display has no credentials');
});

test('parseProxyUrl: bad or unsupported values are config errors that never quote the value', () => {
  for (const bad of [
    'socks5://u:secretpw@h:1080',
    'http://u:secretpw@h:1/path',
    'http://u:secretpw@',
    'ftp://u:secretpw@h',
    'http://u:%zzsecretpw@h:1',
  ]) {
    assert.throws(
      () => parseProxyUrl(bad, 'HTTPS_PROXY'),
      (err: unknown) => {
        assert.ok(err instanceof AccessError && err.code === 'config', String(err));
        assert.match(err.message, /HTTPS_PROXY/);
        assert.doesNotMatch(`${err.message} ${err.hint ?? ''}`, /secretpw/);
        return true;
      },
      bad,
    );
  }
  assert.match(
    String(
      (() => {
        try {
          parseProxyUrl('socks5h://h:1080', 'ALL_PROXY');
        } catch (e) {
          return (e as Error).message;
        }
        return '';
      })(),
    ),
    /socks5h proxy/,
  );
});

test('NO_PROXY: domains match themselves and by suffix; .name and *.name only subdomains', () => {
  const rules = parseNoProxy(' corp.example ,.internal, *.lab.test , other.test:8443');
  const by = (h: string, port = 443): boolean => bypassesProxy(rules, h, port);
  assert.equal(by('corp.example'), true);
  assert.equal(by('ssh.corp.example'), true);
  assert.equal(by('CORP.EXAMPLE.'), true, 'case and a final dot do not matter');
  assert.equal(by('notcorp.example'), false, 'suffix at a label boundary only');
  assert.equal(by('internal'), false);
  assert.equal(by('a.internal'), true);
  assert.equal(by('lab.test'), false);
  assert.equal(by('x.lab.test'), true);
  assert.equal(by('other.test', 8443), true);
  assert.equal(by('other.test', 443), false, 'the port must match when given');
  assert.equal(by('ssh.sandbox.test'), false);
});

test('NO_PROXY: IPs, CIDRs, *, and loopback always direct; IP rules never match names', () => {
  const rules = parseNoProxy('10.0.0.0/8,192.168.1.5,[2001:db8::1]:443,fd00::/8');
  const by = (h: string, port = 443): boolean => bypassesProxy(rules, h, port);
  assert.equal(by('10.20.30.40'), true);
  assert.equal(by('11.0.0.1'), false);
  assert.equal(by('192.168.1.5'), true);
  assert.equal(by('192.168.1.6'), false);
  assert.equal(by('2001:db8::1'), true);
  assert.equal(by('[2001:db8::1]', 443), true);
  assert.equal(by('2001:db8::1', 8443), false);
  assert.equal(by('fd12::1'), true);
  assert.equal(by('10.example'), false);
  for (const h of ['localhost', 'a.localhost', '127.0.0.1', '127.9.9.9', '::1']) assert.equal(bypassesProxy([], h, 443), true, h);
  assert.equal(bypassesProxy([], 'ssh.sandbox.test', 443), false);
  assert.equal(bypassesProxy(parseNoProxy('*'), 'anything.example', 443), true);
  assert.deepEqual(parseNoProxy(',, :80 ,.'), [], 'empty and host-less entries are skipped');
});

test('redact masks credentials in URLs', () => {
  assert.equal(redact('using http://jdoe:s3cret@proxy:3128 now'), 'using http://[redacted]@proxy:3128 now');
  assert.equal(redact('Proxy-Authorization: Basic amRvZTpzM2NyZXQ='), 'Proxy-Authorization: [redacted]');
});

// ---- the client through a CONNECT proxy ----

let server: TestServer;
let proxy: ConnectProxy;
const cert = testCert();
/** The client fromEnv would build, trusting the test certificate. */
const client = (env: Record<string, string>, opts: { timeoutMs?: number } = {}): HttpClient =>
  new HttpClient({
    extraCaPem: cert.cert,
    proxy: proxyFromEnv(env)!,
    userAgent: 'access-ssh/9.9.9',
    ...opts,
    ...(env['ACCESS_SSH_CONNECT_TO'] ? { connectTo: parseConnectTo(env['ACCESS_SSH_CONNECT_TO']) } : {}),
  });

before(async () => {
  server = await startServer((req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end(`hello ${req.host}`);
  });
  proxy = await startConnectProxy({
    hosts: { 'ssh.sandbox.test': `127.0.0.1:${server.port}`, 'edge.internal': `127.0.0.1:${server.port}` },
    auth: { user: 'j@doe', password: 'p:ss w%rd' },
  });
});
after(async () => {
  await proxy.close();
  await server.close();
});

const withCreds = (): string => `http://j%40doe:p%3Ass%20w%25rd@127.0.0.1:${proxy.port}`;

test('a request goes through CONNECT <name>:443 with Basic credentials; SNI, Host and User-Agent unchanged', async () => {
  proxy.behaviour = { kind: 'tunnel' };
  const before = proxy.seen.length;
  const res = await client({ HTTPS_PROXY: withCreds() }).request({ method: 'GET', url: 'https://ssh.sandbox.test/x' });
  assert.equal(res.status, 200);
  assert.equal(res.body.toString(), 'hello ssh.sandbox.test');
  const asked = proxy.seen.slice(before);
  assert.equal(asked.length, 1);
  assert.equal(asked[0]!.target, 'ssh.sandbox.test:443', 'the proxy resolves the name');
  assert.equal(asked[0]!.headers['host'], 'ssh.sandbox.test:443');
  assert.equal(asked[0]!.headers['user-agent'], 'access-ssh/9.9.9');
  assert.equal(asked[0]!.headers['proxy-authorization'], `Basic ${Buffer.from('j@doe:p:ss w%rd').toString('base64')}`);
  const seen = server.seen.at(-1)!;
  assert.equal(seen.sni, 'ssh.sandbox.test');
  assert.equal(seen.host, 'ssh.sandbox.test');
  assert.equal(seen.headers['user-agent'], 'access-ssh/9.9.9');
  assert.equal(seen.headers['proxy-authorization'], undefined, 'credentials go to the proxy only');
});

test('with ACCESS_SSH_CONNECT_TO the CONNECT asks for its destination (as curl --connect-to with a proxy)', async () => {
  proxy.behaviour = { kind: 'tunnel' };
  const before = proxy.seen.length;
  const res = await client({ HTTPS_PROXY: withCreds(), ACCESS_SSH_CONNECT_TO: 'ssh.sandbox.test:443:edge.internal:8443' }).request({
    method: 'GET',
    url: 'https://ssh.sandbox.test/',
  });
  assert.equal(res.body.toString(), 'hello ssh.sandbox.test');
  assert.equal(proxy.seen.slice(before)[0]!.target, 'edge.internal:8443');
  assert.equal(server.seen.at(-1)!.sni, 'ssh.sandbox.test');
});

test('NO_PROXY hosts and loopback go direct', async () => {
  const before = proxy.seen.length;
  const env = { HTTPS_PROXY: withCreds(), NO_PROXY: '.sandbox.test', ACCESS_SSH_CONNECT_TO: `::127.0.0.1:${server.port}` };
  const res = await client(env).request({ method: 'GET', url: 'https://ssh.sandbox.test/' });
  assert.equal(res.status, 200);
  assert.equal(proxy.seen.length, before, 'the proxy was not asked');
});

test('the websocket takes the proxy too, with the same SNI, Host and User-Agent', async () => {
  proxy.behaviour = { kind: 'tunnel' };
  const hs = https.createServer({ key: cert.key, cert: cert.cert });
  const wss = new WebSocketServer({ server: hs });
  const got: { host?: string | undefined; ua?: string | undefined; sni?: string | undefined } = {};
  wss.on('connection', (ws, req) => {
    got.host = req.headers.host;
    got.ua = req.headers['user-agent'];
    got.sni = (req.socket as unknown as { servername?: string }).servername;
    ws.on('message', (data) => ws.send(data));
  });
  await new Promise<void>((r) => hs.listen(0, '127.0.0.1', r));
  const wsPort = (hs.address() as AddressInfo).port;
  const wsProxy = await startConnectProxy({ hosts: { 'ssh.sandbox.test': `127.0.0.1:${wsPort}` } });
  try {
    const c = new HttpClient({ extraCaPem: cert.cert, proxy: proxyFromEnv({ HTTPS_PROXY: wsProxy.url })!, userAgent: 'access-ssh/9.9.9' });
    const r = await carrierHandshake(c, new URL('wss://ssh.sandbox.test/'), {}, silentLogger);
    assert.ok(r.ok);
    const ws = r.ws;
    const echoed = new Promise<string>((resolve) => ws.once('message', (d: Buffer) => resolve(d.toString('utf8'))));
    ws.resume();
    ws.send(Buffer.from('ping'));
    assert.equal(await echoed, 'ping');
    ws.close();
    assert.equal(wsProxy.seen[0]!.target, 'ssh.sandbox.test:443');
    assert.deepEqual(got, { host: 'ssh.sandbox.test', ua: 'access-ssh/9.9.9', sni: 'ssh.sandbox.test' });
  } finally {
    await wsProxy.close();
    wss.close();
    hs.closeAllConnections();
    await new Promise<void>((r) => hs.close(() => r()));
  }
});

async function refusal(env: Record<string, string>, opts: { timeoutMs?: number } = {}): Promise<AccessError> {
  try {
    await client(env, opts).request({ method: 'GET', url: 'https://ssh.sandbox.test/' });
  } catch (err) {
    assert.ok(err instanceof AccessError, String(err));
    return err;
  }
  assert.fail('the request succeeded');
}

function assertNamesProxyOnly(err: AccessError, port: number): void {
  assert.equal(err.code, 'proxy');
  assert.match(err.message, new RegExp(`^The proxy http://127\\.0\\.0\\.1:${port} \\(HTTPS_PROXY\\)`));
  assert.match(err.message, /tunnel to ssh\.sandbox\.test:443/);
  const all = `${err.message}\n${err.hint ?? ''}\n${err.stack ?? ''}`;
  assert.doesNotMatch(all, /p%3Ass|p:ss|j%40doe|j@doe|cDpzc/, 'no credential in the error');
}

test('407 without credentials: the error names the proxy and says credentials are needed', async () => {
  proxy.behaviour = { kind: 'tunnel' };
  const err = await refusal({ HTTPS_PROXY: proxy.url });
  assertNamesProxyOnly(err, proxy.port);
  assert.match(err.message, /407 Proxy Authentication Required/);
  assert.match(err.hint ?? '', /needs credentials/);
});

test('407 with wrong credentials: says the credentials were not accepted, without them', async () => {
  const err = await refusal({ HTTPS_PROXY: `http://j%40doe:wrong@127.0.0.1:${proxy.port}` });
  assertNamesProxyOnly(err, proxy.port);
  assert.match(err.message, /did not accept the user name and password/);
  assert.doesNotMatch(err.message + (err.hint ?? ''), /wrong/);
});

test('407 offering only NTLM/Negotiate: says Basic is all we speak', async () => {
  proxy.behaviour = { kind: 'status', status: 407, headers: { 'proxy-authenticate': 'Negotiate' } };
  const err = await refusal({ HTTPS_PROXY: withCreds() });
  assertNamesProxyOnly(err, proxy.port);
  assert.match(err.message, /accepts only negotiate/);
});

test('403, a non-HTTP answer, a hang-up, silence, and no proxy at all: each names the proxy', async () => {
  proxy.behaviour = { kind: 'status', status: 403 };
  let err = await refusal({ HTTPS_PROXY: withCreds() });
  assertNamesProxyOnly(err, proxy.port);
  assert.match(err.message, /403 Forbidden/);
  assert.match(err.hint ?? '', /policy/);

  proxy.behaviour = { kind: 'garbage' };
  err = await refusal({ HTTPS_PROXY: withCreds() });
  assertNamesProxyOnly(err, proxy.port);
  assert.match(err.message, /not HTTP/);

  proxy.behaviour = { kind: 'hangup' };
  err = await refusal({ HTTPS_PROXY: withCreds() });
  assertNamesProxyOnly(err, proxy.port);
  assert.match(err.message, /closed the connection/);

  proxy.behaviour = { kind: 'silent' };
  err = await refusal({ HTTPS_PROXY: withCreds() }, { timeoutMs: 1000 });
  assert.ok(err.code === 'proxy' || err.code === 'timeout', err.code);
  assert.match(err.message, new RegExp(`127\\.0\\.0\\.1:${proxy.port}`));
  assert.doesNotMatch(err.message, /p%3Ass|j%40doe/);

  // A port where nothing listens (the server was closed).
  const gone = await startConnectProxy({ hosts: {} });
  const port = gone.port;
  await gone.close();
  err = await refusal({ HTTPS_PROXY: `http://j%40doe:p%3Ass@127.0.0.1:${port}` });
  assertNamesProxyOnly(err, port);
  assert.match(err.message, /cannot be reached: .*ECONNREFUSED/);
  proxy.behaviour = { kind: 'tunnel' };
});

test('the websocket handshake through a refusing proxy fails with the proxy error', async () => {
  proxy.behaviour = { kind: 'status', status: 403 };
  const c = client({ HTTPS_PROXY: withCreds() });
  const err = await carrierHandshake(c, new URL('wss://ssh.sandbox.test/'), {}, silentLogger).then(
    () => assert.fail('the handshake went through'),
    (e: unknown) => e,
  );
  assert.ok(err instanceof AccessError && err.code === 'proxy');
  assertNamesProxyOnly(err, proxy.port);
  proxy.behaviour = { kind: 'tunnel' };
});

test('HttpClient.fromEnv reads the proxy variables and refuses a bad one', () => {
  const c = HttpClient.fromEnv({ HTTPS_PROXY: 'http://u:p@proxy.corp:3128', NO_PROXY: '.corp' }, undefined, {
    timeoutMs: 2500,
    userAgent: 'access-ssh/1.0.0',
  });
  assert.equal(c.proxy?.proxy.display, 'http://proxy.corp:3128');
  assert.equal(c.timeoutMs, 2500);
  assert.equal(c.userAgent, 'access-ssh/1.0.0');
  assert.deepEqual(c.route('ssh.corp', 443), { host: 'ssh.corp', port: 443 });
  assert.equal(c.route('ssh.example.com', 443).proxy?.host, 'proxy.corp');
  assert.throws(
    () => HttpClient.fromEnv({ ALL_PROXY: 'socks5://u:pw@h:1080' }),
    (err: unknown) => err instanceof AccessError && err.code === 'config' && !err.message.includes('pw'),
  );
});
