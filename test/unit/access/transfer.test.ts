import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import nacl from 'tweetnacl';
import {
  goQueryEscape,
  loginUrl,
  newTransferKeyPair,
  openTransferPayload,
  parseTransferTokens,
  pollTransfer,
  runBrowserLogin,
  TRANSFER_SERVICE,
  FEDRAMP_TRANSFER_SERVICE,
  transferServiceFor,
} from '../../../src/access/transfer.js';
import { AccessError } from '../../../src/access/errors.js';
import { APP_HOST, AUD, TEAM, appToken, orgToken, seal, startEdge, visitor, type FakeEdge } from './edge.js';
import { startServer } from './helpers.js';
import { tempDir } from '../../support/tmp.js';

const appInfo = { authDomain: TEAM, appAud: AUD, appHostname: APP_HOST };
const appUrl = new URL(`https://${APP_HOST}/`);

let edge: FakeEdge;
before(async () => {
  edge = await startEdge();
});
after(() => edge.close());

function isTransferError(re: RegExp) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof AccessError, String(err));
    assert.equal(err.code, 'transfer');
    assert.match(err.message, re);
    return true;
  };
}

test('key pair: 32-byte Curve25519 public key as padded base64url', () => {
  const kp = newTransferKeyPair();
  assert.equal(kp.publicKey.length, 32);
  assert.equal(kp.publicKeyB64.length, 44);
  assert.match(kp.publicKeyB64, /^[A-Za-z0-9_-]{43}=$/);
  assert.deepEqual(Buffer.from(kp.publicKeyB64, 'base64url'), Buffer.from(kp.publicKey));
  assert.notEqual(newTransferKeyPair().publicKeyB64, kp.publicKeyB64);
});

test('goQueryEscape matches Go url.QueryEscape', () => {
  assert.equal(goQueryEscape("a b+c=d&e/f:g~h_i-j.k!*'()é"), 'a+b%2Bc%3Dd%26e%2Ff%3Ag~h_i-j.k%21%2A%27%28%29%C3%A9');
});

test('loginUrl reproduces cloudflared buildRequestURL', () => {
  const key = 'ab-_cd==';
  assert.equal(
    loginUrl(new URL('https://ssh.example.com/'), 'AUD1', key),
    'https://ssh.example.com/cdn-cgi/access/cli?aud=AUD1&edge_token_transfer=true' +
      '&redirect_url=https%3A%2F%2Fssh.example.com%2F%3Faud%3DAUD1%26token%3Dab-_cd%253D%253D' +
      '&send_org_token=true&token=ab-_cd%3D%3D',
  );
  // The app URL's own path, port and query are kept in redirect_url; its query joins the main one.
  const u = new URL(loginUrl(new URL('https://ssh.example.com:8443/app?z=1&b=x y'), 'AUD1', key));
  assert.equal(u.host, 'ssh.example.com:8443');
  assert.equal(u.pathname, '/cdn-cgi/access/cli');
  assert.deepEqual([...u.searchParams.keys()], ['aud', 'b', 'edge_token_transfer', 'redirect_url', 'send_org_token', 'token', 'z']);
  assert.equal(u.searchParams.get('redirect_url'), 'https://ssh.example.com:8443/app?aud=AUD1&b=x+y&token=ab-_cd%3D%3D&z=1');
});

test('openTransferPayload opens a real sealed payload', () => {
  const kp = newTransferKeyPair();
  const sealed = seal('{"app_token":"a","org_token":"o"}', kp.publicKeyB64);
  assert.equal(Buffer.from(openTransferPayload(sealed.body, sealed.serviceKey, kp)).toString(), '{"app_token":"a","org_token":"o"}');
  assert.equal(Buffer.from(openTransferPayload(`${sealed.body}\n`, sealed.serviceKey, kp)).toString().length, 33);
});

test('bad payloads are clear transfer errors', () => {
  const kp = newTransferKeyPair();
  const sealed = seal('{"app_token":"a","org_token":"o"}', kp.publicKeyB64);
  assert.throws(() => openTransferPayload('***not base64***', sealed.serviceKey, kp), isTransferError(/not base64/));
  assert.throws(() => openTransferPayload(sealed.body.slice(0, -3), sealed.serviceKey, kp), isTransferError(/not base64/));
  assert.throws(() => openTransferPayload(Buffer.alloc(30).toString('base64'), sealed.serviceKey, kp), isTransferError(/too short/));
  assert.throws(() => openTransferPayload(sealed.body, undefined, kp), isTransferError(/service-public-key/));
  assert.throws(() => openTransferPayload(sealed.body, 'short', kp), isTransferError(/malformed service-public-key/));
  // Sealed by a different service key than the header says.
  const wrongService = Buffer.from(nacl.box.keyPair().publicKey).toString('base64url') + '=';
  assert.throws(() => openTransferPayload(sealed.body, wrongService, kp), isTransferError(/could not be decrypted/));
  // Sealed to someone else.
  assert.throws(() => openTransferPayload(sealed.body, sealed.serviceKey, newTransferKeyPair()), isTransferError(/could not be decrypted/));
  // Tampered ciphertext.
  const raw = Buffer.from(sealed.body, 'base64');
  raw.writeUInt8(raw.readUInt8(raw.length - 1) ^ 1, raw.length - 1);
  assert.throws(() => openTransferPayload(raw.toString('base64'), sealed.serviceKey, kp), isTransferError(/could not be decrypted/));
});

test('parseTransferTokens: not JSON, missing or empty fields', () => {
  const enc = (s: string): Uint8Array => Buffer.from(s);
  assert.deepEqual(parseTransferTokens(enc('{"app_token":"a","org_token":"o"}')), { appToken: 'a', orgToken: 'o' });
  assert.throws(() => parseTransferTokens(enc('nope')), isTransferError(/not JSON/));
  assert.throws(() => parseTransferTokens(enc('null')), isTransferError(/app_token/));
  assert.throws(() => parseTransferTokens(enc('{"org_token":"o"}')), isTransferError(/app_token/));
  // cloudflared takes what is there: an app token alone is a result.
  assert.deepEqual(parseTransferTokens(enc('{"app_token":"a"}')), { appToken: 'a' });
  assert.deepEqual(parseTransferTokens(enc('{"app_token":"a","org_token":""}')), { appToken: 'a' });
  assert.deepEqual(parseTransferTokens(enc('{"app_token":"a","org_token":null}')), { appToken: 'a' });
  assert.throws(() => parseTransferTokens(enc('{"app_token":"a","org_token":7}')), isTransferError(/org_token/));
  assert.throws(() => parseTransferTokens(enc('{"app_token":"","org_token":"o"}')), isTransferError(/app_token/));
  assert.throws(() => parseTransferTokens(enc('{"app_token":1,"org_token":"o"}')), isTransferError(/app_token/));
});

test('poll: "not yet" answers below 500 are retried, then 200 opens', async () => {
  const kp = newTransferKeyPair();
  let n = 0;
  const srv = await startServer((req, res) => {
    assert.equal(req.url, `/transfer/${kp.publicKeyB64}`);
    n += 1;
    if (n === 1) {
      res.writeHead(404);
      res.end();
      return;
    }
    if (n === 2) {
      res.writeHead(401);
      res.end();
      return;
    }
    const s = seal('{"app_token":"a","org_token":"o"}', kp.publicKeyB64);
    res.writeHead(200, { 'service-public-key': s.serviceKey });
    res.end(s.body);
  });
  try {
    const t0 = Date.now();
    const plain = await pollTransfer(srv.client(), kp, { pollDelayMs: 100 });
    assert.equal(Buffer.from(plain).toString(), '{"app_token":"a","org_token":"o"}');
    assert.equal(n, 3);
    assert.ok(Date.now() - t0 >= 180, 'waits between polls');
    assert.equal(srv.seen[0]!.host, new URL(TRANSFER_SERVICE).host);
  } finally {
    await srv.close();
  }
});

test('poll: a 200 with an empty body is "not yet" (cloudflared polls on), then the sealed 200 opens', async () => {
  const kp = newTransferKeyPair();
  let n = 0;
  const srv = await startServer((_req, res) => {
    n += 1;
    if (n <= 2) {
      res.writeHead(200, { 'content-type': 'text/plain' });
      res.end();
      return;
    }
    const s = seal('{"app_token":"a","org_token":"o"}', kp.publicKeyB64);
    res.writeHead(200, { 'service-public-key': s.serviceKey });
    res.end(s.body);
  });
  try {
    const plain = await pollTransfer(srv.client(), kp, { pollDelayMs: 20 });
    assert.equal(Buffer.from(plain).toString(), '{"app_token":"a","org_token":"o"}');
    assert.equal(n, 3);
  } finally {
    await srv.close();
  }
});

test('transferServiceFor: --fedramp, or a team under .fed.cloudflareaccess.com, uses login.fed.cloudflareaccess.org', () => {
  assert.equal(TRANSFER_SERVICE, 'https://login.cloudflareaccess.org/');
  assert.equal(FEDRAMP_TRANSFER_SERVICE, 'https://login.fed.cloudflareaccess.org/');
  assert.equal(transferServiceFor('team.cloudflareaccess.com', false), TRANSFER_SERVICE);
  assert.equal(transferServiceFor('team.cloudflareaccess.com', undefined), TRANSFER_SERVICE);
  assert.equal(transferServiceFor(undefined, undefined), TRANSFER_SERVICE);
  assert.equal(transferServiceFor('team.cloudflareaccess.com', true), FEDRAMP_TRANSFER_SERVICE);
  assert.equal(transferServiceFor('agency.fed.cloudflareaccess.com', false), FEDRAMP_TRANSFER_SERVICE);
  assert.equal(transferServiceFor('Agency.FED.cloudflareaccess.com', undefined), FEDRAMP_TRANSFER_SERVICE);
  // Only the real suffix counts.
  assert.equal(transferServiceFor('fed.cloudflareaccess.com.attacker.example', undefined), TRANSFER_SERVICE);
  assert.equal(transferServiceFor('notfed.cloudflareaccess.com', undefined), TRANSFER_SERVICE);
});

test('poll: 5xx aborts with a redacted excerpt', async () => {
  const secret = appToken();
  const srv = await startServer((_req, res) => {
    res.writeHead(502);
    res.end(`upstream broke ${secret}`);
  });
  try {
    await assert.rejects(pollTransfer(srv.client(), newTransferKeyPair(), { pollDelayMs: 10 }), (err: unknown) => {
      assert.ok(err instanceof AccessError && err.code === 'transfer');
      assert.match(err.message, /HTTP 502: upstream broke \[redacted\]/);
      assert.ok(!err.message.includes(secret));
      return true;
    });
  } finally {
    await srv.close();
  }
});

test('poll: overall timeout and abort', async () => {
  const srv = await startServer((_req, res) => {
    res.writeHead(404);
    res.end();
  });
  try {
    await assert.rejects(
      pollTransfer(srv.client(), newTransferKeyPair(), { pollDelayMs: 50, timeoutMs: 300 }),
      (err: unknown) => err instanceof AccessError && err.code === 'timeout',
    );
    const ac = new AbortController();
    setTimeout(() => ac.abort(), 150);
    await assert.rejects(
      pollTransfer(srv.client(), newTransferKeyPair(), { pollDelayMs: 50, signal: ac.signal }),
      (err: unknown) => err instanceof AccessError && err.code === 'login-cancelled',
    );
  } finally {
    await srv.close();
  }
});

test('runBrowserLogin: URL shown, url file 0600 while waiting and removed after, tokens validated', async (t) => {
  const dir = tempDir(t);
  const urlFile = path.join(dir, `${APP_HOST}-${AUD}-token.url`);
  const calls: string[] = [];
  const shown: string[] = [];
  let fileSeen: { content: string; mode: number } | undefined;
  const open = visitor(edge, calls);
  const result = await runBrowserLogin(edge.server.client(), {
    appUrl,
    appInfo,
    urlFile,
    pollDelayMs: 20,
    onLoginUrl: (u) => shown.push(u),
    openBrowser: async (u) => {
      fileSeen = { content: fs.readFileSync(urlFile, 'utf8'), mode: fs.statSync(urlFile).mode & 0o777 };
      await open(u);
    },
  });
  assert.equal(calls.length, 1);
  assert.deepEqual(shown, calls);
  assert.equal(fileSeen?.content, calls[0]);
  assert.equal(fileSeen?.mode, 0o600);
  assert.ok(!fs.existsSync(urlFile));
  assert.equal(result.appToken, edge.transfer.app);
  assert.equal(result.orgToken, edge.transfer.org);
  assert.deepEqual(result.appClaims.aud, [AUD]);
  const u = new URL(calls[0]!);
  assert.equal(u.host, APP_HOST);
  assert.equal(u.pathname, '/cdn-cgi/access/cli');
  assert.equal(u.searchParams.get('aud'), AUD);
});

test('runBrowserLogin: app token for another audience, or not a JWT, is refused', async () => {
  const saved = edge.transfer;
  try {
    edge.transfer = { app: appToken({ aud: ['someone-else'] }), org: orgToken() };
    await assert.rejects(
      runBrowserLogin(edge.server.client(), { appUrl, appInfo, pollDelayMs: 20, openBrowser: visitor(edge) }),
      isTransferError(/audience mismatch/),
    );
    edge.transfer = { app: 'not-a-jwt', org: orgToken() };
    await assert.rejects(
      runBrowserLogin(edge.server.client(), { appUrl, appInfo, pollDelayMs: 20, openBrowser: visitor(edge) }),
      isTransferError(/app token from the login is unusable/),
    );
    edge.transfer = { app: appToken(), org: 'x.y' };
    await assert.rejects(
      runBrowserLogin(edge.server.client(), { appUrl, appInfo, pollDelayMs: 20, openBrowser: visitor(edge) }),
      isTransferError(/org token/),
    );
  } finally {
    edge.transfer = saved;
  }
});

test('runBrowserLogin: a result without org_token gives the app token alone', async () => {
  const saved = edge.transfer;
  try {
    edge.transfer = { app: appToken() };
    const result = await runBrowserLogin(edge.server.client(), { appUrl, appInfo, pollDelayMs: 20, openBrowser: visitor(edge) });
    assert.equal(result.appToken, edge.transfer.app);
    assert.equal(result.orgToken, undefined);
    assert.equal(result.orgClaims, undefined);
  } finally {
    edge.transfer = saved;
  }
});

test('runBrowserLogin: the FedRAMP transfer service is polled when given', async () => {
  const before = edge.count((r) => r.host.startsWith('login.fed.cloudflareaccess.org'));
  const commercial = edge.count((r) => r.host.startsWith('login.cloudflareaccess.org'));
  const result = await runBrowserLogin(edge.server.client(), {
    appUrl,
    appInfo,
    pollDelayMs: 20,
    openBrowser: visitor(edge),
    transferService: FEDRAMP_TRANSFER_SERVICE,
  });
  assert.equal(result.appToken, edge.transfer.app);
  assert.ok(edge.count((r) => r.host.startsWith('login.fed.cloudflareaccess.org')) > before);
  assert.equal(
    edge.count((r) => r.host.startsWith('login.cloudflareaccess.org')),
    commercial,
  );
});

test('runBrowserLogin: a failing browser opener does not stop the login', async () => {
  let url = '';
  const result = await runBrowserLogin(edge.server.client(), {
    appUrl,
    appInfo,
    pollDelayMs: 20,
    onLoginUrl: (u) => {
      url = u;
      setTimeout(() => void visitor(edge)(u), 50);
    },
    openBrowser: () => Promise.reject(new Error('no display')),
  });
  assert.ok(url);
  assert.equal(result.appToken, edge.transfer.app);
});
