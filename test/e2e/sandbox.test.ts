// The sandbox edge against the wire contract (DESIGN §3), walked the way cloudflared's
// client walks it, with no product code: metadata + JWKS, browser login + transfer,
// org → app exchange, cert_sign, the websocket carrier into the real sshd.
import { strict as assert } from 'node:assert';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { connect as tlsConnect } from 'node:tls';
import { after, before, describe, it } from 'node:test';
import { createLocalJWKSet, decodeJwt, jwtVerify, type JSONWebKeySet } from 'jose';
import nacl from 'tweetnacl';
import WebSocket, { createWebSocketStream } from 'ws';
import { sandboxFetch, type Reply } from '../sandbox/client';
import { openLikeBrowser } from '../sandbox/fake-browser';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { sshArgs } from '../support/ssh-args';

const APP = 'https://ssh.sandbox.test';

function run(file: string, args: string[], env?: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(file, args, { env: env ?? process.env, timeout: 30_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

function goUrl(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function setCookies(r: Reply): { name: string; value: string; expires?: Date | undefined }[] {
  const raw = r.headers['set-cookie'];
  const list = Array.isArray(raw) ? raw : raw ? [raw] : [];
  return list.map((c) => {
    const [pair, ...attrs] = c.split(';');
    const i = pair!.indexOf('=');
    const exp = attrs.map((a) => a.trim()).find((a) => a.toLowerCase().startsWith('expires='));
    return { name: pair!.slice(0, i).trim(), value: pair!.slice(i + 1).trim(), expires: exp ? new Date(exp.slice(8)) : undefined };
  });
}

describe('sandbox edge (contract walk, no product code)', () => {
  let sb: Sandbox;
  let tmp: string;
  before(async () => {
    sb = await startSandbox({ serviceTokens: [{ clientId: 'svc-id.access', clientSecret: 'svc-secret' }] });
    tmp = mkdtempSync(join(tmpdir(), 'sandbox-contract-'));
  });
  after(async () => {
    await sb?.stop();
    rmSync(tmp, { recursive: true, force: true });
  });

  const f = (url: string, opts: Parameters<typeof sandboxFetch>[1] = {}) => sandboxFetch(url, { env: sb.env, ...opts });

  async function discover(): Promise<{ aud: string; authDomain: string }> {
    const r = await f(`${APP}/`, { method: 'HEAD', headers: { 'cf-access-metadata-request': 'true' } });
    const jwt = r.headers['cf-access-metadata'] as string;
    assert.ok(jwt, 'cf-access-metadata header');
    const jwks = JSON.parse((await f('https://sandbox.cloudflareaccess.com/cdn-cgi/access/certs')).body) as JSONWebKeySet & {
      public_cert: unknown;
      public_certs: unknown[];
    };
    assert.ok(jwks.public_cert && jwks.public_certs.length === 1);
    const { payload, protectedHeader } = await jwtVerify(jwt, createLocalJWKSet(jwks), { algorithms: ['RS256'] });
    assert.ok(protectedHeader.kid);
    assert.equal(payload.type, 'match');
    assert.equal(payload.hostname, 'ssh.sandbox.test');
    assert.equal(payload.app_hostname, 'ssh.sandbox.test');
    assert.equal(payload.auth_domain, 'sandbox.cloudflareaccess.com');
    assert.equal(typeof payload.aud, 'string');
    assert.ok(Math.abs((payload.iat ?? 0) - Date.now() / 1000) < 60);
    return { aud: payload.aud as string, authDomain: payload.auth_domain };
  }

  async function browserLogin(aud: string): Promise<{ app_token: string; org_token: string }> {
    const kp = nacl.box.keyPair();
    const pub = goUrl(kp.publicKey);
    const q = new URLSearchParams({ token: pub, aud });
    q.set('redirect_url', `${APP}?${q.toString()}`);
    q.set('send_org_token', 'true');
    q.set('edge_token_transfer', 'true');
    const poll = f(`https://login.cloudflareaccess.org/transfer/${pub}`);
    await openLikeBrowser(`${APP}/cdn-cgi/access/cli?${q.toString()}`, undefined, sb.env);
    const r = await poll;
    assert.equal(r.status, 200);
    const sealed = Buffer.from(r.body, 'base64');
    const spk = r.headers['service-public-key'] as string;
    assert.match(spk, /^[A-Za-z0-9_-]{43}=$/, 'service-public-key is base64url with padding');
    const opened = nacl.box.open(sealed.subarray(24), sealed.subarray(0, 24), Buffer.from(spk, 'base64url'), kp.secretKey);
    assert.ok(opened, 'box opens');
    const again = await f(`https://login.cloudflareaccess.org/transfer/${pub}`, { timeoutMs: 20_000 });
    assert.equal(again.status, 404, 'one-shot delivery');
    return JSON.parse(Buffer.from(opened).toString('utf8')) as { app_token: string; org_token: string };
  }

  /** cloudflared's exchangeOrgToken, hop by hop. */
  async function exchange(orgToken: string): Promise<string | undefined> {
    let url = `${APP}/`;
    let appSession: string | undefined;
    for (let hop = 0; hop < 5; hop++) {
      const u = new URL(url);
      const headers: Record<string, string> = {};
      if (u.pathname.includes('/cdn-cgi/access/login')) headers.cookie = `CF_Authorization=${orgToken}`;
      if (u.pathname.includes('/cdn-cgi/access/authorized') && appSession) headers.cookie = `CF_AppSession=${appSession}`;
      const r = await f(url, { method: 'HEAD', headers });
      for (const c of setCookies(r)) if (c.name === 'CF_AppSession') appSession ??= c.value;
      if (u.pathname.includes('/cdn-cgi/access/authorized')) {
        const c = setCookies(r).find((c) => c.name === 'CF_Authorization' && c.expires && c.expires > new Date());
        return c?.value;
      }
      if (r.status !== 302) return undefined;
      url = new URL(r.headers.location as string, url).toString();
    }
    return undefined;
  }

  function carrier(headers: Record<string, string>): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const ws = new WebSocket(`wss://ssh.sandbox.test/`, {
        headers,
        createConnection: () =>
          tlsConnect({
            host: '127.0.0.1',
            port: sb.port,
            servername: 'ssh.sandbox.test',
            ca: readFileSync(sb.caFile, 'utf8'),
            ALPNProtocols: ['http/1.1'],
          }),
      });
      ws.once('open', () => resolve(ws));
      ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`carrier answered ${res.statusCode}`), { status: res.statusCode, location: res.headers.location }));
        res.resume();
      });
      ws.once('error', reject);
    });
  }

  /** A local port whose connections are carried to the sandbox sshd. */
  async function forwarder(headers: Record<string, string>): Promise<Server> {
    const srv = createServer((sock) => {
      carrier(headers).then(
        (ws) => {
          const s = createWebSocketStream(ws);
          s.on('error', () => sock.destroy());
          sock.on('error', () => s.destroy());
          s.pipe(sock).pipe(s);
        },
        () => sock.destroy(),
      );
    });
    await new Promise<void>((r) => srv.listen(0, '127.0.0.1', r));
    return srv;
  }

  let tokens: { app_token: string; org_token: string };

  it('discovery: metadata JWT verifies against the JWKS', async () => {
    await discover();
  });

  it('browser login: form approve → sealed tokens at the transfer service', async () => {
    const { aud } = await discover();
    sb.setOptions({ autoApprove: false });
    try {
      tokens = await browserLogin(aud);
    } finally {
      sb.setOptions({ autoApprove: true });
    }
    const app = decodeJwt(tokens.app_token);
    const org = decodeJwt(tokens.org_token);
    assert.deepEqual(app.aud, [aud]);
    assert.equal(app.type, 'app');
    assert.equal(app.iss, 'https://sandbox.cloudflareaccess.com');
    assert.equal(app.email, 'jdoe@example.com');
    assert.equal(org.type, 'org');
    assert.ok(Array.isArray(org.aud) && org.aud.length === 1);
    assert.equal(sb.counters.approvals, 1);
    assert.equal(sb.counters.transferDeliveries, 1);
  });

  it('org → app exchange, and a revoked org token gets the login page instead', async () => {
    const appToken = await exchange(tokens.org_token);
    assert.ok(appToken);
    assert.equal(decodeJwt(appToken).email, 'jdoe@example.com');
    assert.equal(sb.counters.exchanges, 1);
    const bogus = await exchange(tokens.app_token); // an app token is not an org token
    assert.equal(bogus, undefined);
  });

  it('cert_sign: real ssh-keygen certificate, 3 minutes, principal jdoe; errors are {status,message}', async () => {
    const key = join(tmp, 'k');
    assert.equal((await run('ssh-keygen', ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', key])).code, 0);
    const pub = readFileSync(`${key}.pub`, 'utf8');
    const r = await f('https://sandbox.cloudflareaccess.com/cdn-cgi/access/cert_sign', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ public_key: pub, jwt: tokens.app_token, issuer: 'https://sandbox.cloudflareaccess.com' }),
    });
    assert.equal(r.status, 200, r.body);
    const res = JSON.parse(r.body) as { id: string; certificate: string; expires_at: string };
    assert.match(res.certificate, /^ecdsa-sha2-nistp256-cert-v01@openssh\.com AAAA[A-Za-z0-9+/=]+$/);
    const left = (Date.parse(res.expires_at) - Date.now()) / 1000;
    assert.ok(left > 170 && left <= 181, `expires in ${left}s`);
    writeFileSync(`${key}-cert.pub`, res.certificate + '\n');
    const l = await run('ssh-keygen', ['-L', '-f', `${key}-cert.pub`]);
    assert.match(l.stdout, /Key ID: "jdoe@example.com"/);
    assert.match(l.stdout, /Principals: \n\s+jdoe\n/);
    assert.equal(sb.counters.certSigns, 1);

    const bad = await f('https://sandbox.cloudflareaccess.com/cdn-cgi/access/cert_sign', {
      method: 'POST',
      body: JSON.stringify({ public_key: pub, jwt: tokens.org_token }),
    });
    assert.equal(bad.status, 401);
    const err = JSON.parse(bad.body) as { status: number; message: string };
    assert.equal(err.status, 401);
    assert.ok(err.message);

    // Through the carrier into the real sshd with that certificate.
    const fw = await forwarder({ 'Cf-Access-Token': tokens.app_token });
    try {
      const port = (fw.address() as { port: number }).port;
      writeFileSync(join(tmp, 'known_hosts'), `[127.0.0.1]:${port} ${sb.sshd!.hostKey}\n`);
      const ssh = await run(
        'ssh',
        sshArgs({
          port,
          key,
          knownHosts: join(tmp, 'known_hosts'),
          strictHostKeyChecking: 'yes',
          destination: 'jdoe@127.0.0.1',
          command: ['whoami'],
        }),
      );
      assert.equal(ssh.stdout.trim(), 'jdoe', ssh.stderr + sb.sshd!.log().slice(-2000));
    } finally {
      fw.close();
    }
  });

  it('carrier: 302 to /cdn-cgi/access/login without a token, with a revoked token; service token accepted', async () => {
    await assert.rejects(
      carrier({}),
      (e: { status?: number; location?: string }) => e.status === 302 && new URL(e.location!).pathname.startsWith('/cdn-cgi/access/login/'),
    );
    const ok = await carrier({ 'Cf-Access-Token': tokens.app_token });
    ok.close();
    const svc = await carrier({ 'Cf-Access-Client-Id': 'svc-id.access', 'Cf-Access-Client-Secret': 'svc-secret' });
    svc.close();
    assert.equal(sb.counters.carrierServiceToken, 1);
    await assert.rejects(
      carrier({ 'Cf-Access-Client-Id': 'svc-id.access', 'Cf-Access-Client-Secret': 'wrong' }),
      (e: { status?: number }) => e.status === 302,
    );
    sb.revokeAllTokens();
    await assert.rejects(carrier({ 'Cf-Access-Token': tokens.app_token }), (e: { status?: number }) => e.status === 302);
    assert.equal(await exchange(tokens.org_token), undefined, 'revoked org token no longer exchanges');
  });

  it('faults: status with a non-JSON body, counted down with times', async () => {
    sb.setOptions({ faults: { jwks: { status: 503, body: '<html>upstream</html>', contentType: 'text/html', times: 1 } } });
    const r1 = await f('https://sandbox.cloudflareaccess.com/cdn-cgi/access/certs');
    assert.equal(r1.status, 503);
    assert.equal(r1.body, '<html>upstream</html>');
    const r2 = await f('https://sandbox.cloudflareaccess.com/cdn-cgi/access/certs');
    assert.equal(r2.status, 200);
  });

  it('admin API over HTTPS: counters, options, revoke', async () => {
    const c = JSON.parse((await f('https://admin.sandbox.test/counters')).body) as Record<string, number>;
    assert.equal(c.certSigns, sb.counters.certSigns);
    const o = JSON.parse(
      (await f('https://admin.sandbox.test/options', { method: 'POST', body: JSON.stringify({ certTtlSeconds: 42 }) })).body,
    ) as { certTtlSeconds: number };
    assert.equal(o.certTtlSeconds, 42);
    assert.equal(sb.options().certTtlSeconds, 42);
    const rv = JSON.parse((await f('https://admin.sandbox.test/revoke', { method: 'POST', body: '{}' })).body) as { revoked: number };
    assert.equal(typeof rv.revoked, 'number');
  });
});
