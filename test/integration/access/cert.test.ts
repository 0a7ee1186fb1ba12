// Certificates: parsing and checks with real `ssh-keygen -s` certificates, issuing
// with a fake token source, the no-network fast path, and the whole renewal against the
// sandbox edge. cert_sign's wire contract is a unit test (test/unit/access/cert.test.ts).

import { parseAppToken } from '../../../src/access/jwt.js';
import { validateHostname } from '../../../src/ssh/validate.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sshpk from 'sshpk';
import { ensureCertificate, unusableReason } from '../../../src/access/cert.js';
import { inspectCertificate, readCertificate } from '../../../src/access/cert-check.js';
import { issueCertificate, type TokenSource } from '../../../src/access/cert-issue.js';
import { AccessError, isAccessError } from '../../../src/access/errors.js';
import { certFile, certKeyFile, certPubFile } from '../../../src/access/paths.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { silentLogger, type AppToken } from '../../../src/access/types.js';
import { HttpClient } from '../../../src/access/http.js';
import { fakeJwt, nowSeconds, startServer, type TestServer } from '../../unit/access/helpers.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { tempDir } from '../../support/tmp.js';

const HOST = validateHostname('ssh.sandbox.test');
const ISS = 'https://sandbox.cloudflareaccess.com';
const KEYGEN = '/usr/bin/ssh-keygen';

function token(claims: Record<string, unknown> = {}): AppToken {
  return parseAppToken(fakeJwt({ iss: ISS, aud: ['aud1'], email: 'jdoe@example.com', exp: nowSeconds() + 3600, ...claims })).token;
}

/** A test SSH CA made by ssh-keygen. */
function makeCa(dir: string): string {
  const ca = path.join(dir, 'ca');
  execFileSync(KEYGEN, ['-q', '-t', 'ed25519', '-N', '', '-C', 'test-ca', '-f', ca]);
  return ca;
}

interface SignArgs {
  principals?: string;
  validity?: string;
  host?: boolean;
  id?: string;
  serial?: string;
}

/** Certify the public key in `pubFile` with ssh-keygen; returns the certificate line. */
function keygenSign(ca: string, pubFile: string, a: SignArgs = {}): string {
  const work = fs.mkdtempSync(path.join(path.dirname(ca), 'sign-'));
  const pub = path.join(work, 'k.pub');
  fs.copyFileSync(pubFile, pub);
  const args = ['-q', '-s', ca, '-I', a.id ?? 'jdoe@example.com', '-z', a.serial ?? '7', '-V', a.validity ?? '-1m:+3m'];
  if (a.principals !== '') args.push('-n', a.principals ?? 'jdoe');
  if (a.host) args.push('-h');
  args.push(pub);
  execFileSync(KEYGEN, args);
  return fs.readFileSync(path.join(work, 'k-cert.pub'), 'utf8').trim();
}

/** `<host>-cf_key` (PEM, 0600) and `.pub` in `dir`, as ensureCertificate writes them. */
function writeKeyPair(dir: string, host = HOST): sshpk.PrivateKey {
  const key = sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' });
  fs.writeFileSync(certKeyFile(dir, host), key.toString('pem'), { mode: 0o600 });
  fs.writeFileSync(certPubFile(dir, host), key.toPublic().toString('ssh') + '\n');
  return key;
}

describe('reading cached certificates', () => {
  // Made when the suite is defined, removed after it (node:test's suite-level after).
  const dir = tempDir({ after }, 'cert-read-');
  let ca: string;
  before(() => {
    ca = makeCa(dir);
  });

  test('a certificate for our key is read with its fields', async () => {
    const key = writeKeyPair(dir);
    fs.writeFileSync(
      certFile(dir, HOST),
      keygenSign(ca, certPubFile(dir, HOST), { principals: 'jdoe,root', serial: '42', id: 'key-id-1' }) + '\n',
    );
    const cert = await readCertificate(dir, HOST);
    assert.ok(cert);
    assert.equal(cert.path, certFile(dir, HOST));
    assert.equal(cert.keyId, 'key-id-1');
    assert.equal(cert.serial, '42');
    assert.equal(cert.type, 'user');
    assert.deepEqual(cert.principals, ['jdoe', 'root']);
    assert.equal(cert.keyFingerprint, key.toPublic().fingerprint('sha256').toString());
    const caFp = execFileSync(KEYGEN, ['-l', '-E', 'sha256', '-f', `${ca}.pub`], { encoding: 'utf8' }).split(' ')[1];
    assert.equal(cert.caFingerprint, caFp);
    const now = Date.now() / 1000;
    assert.ok(cert.validAfter <= now && cert.validAfter > now - 3 * 60);
    assert.ok(cert.validBefore > now + 60 && cert.validBefore <= now + 4 * 60);
    assert.equal(unusableReason(cert, new Date(), 60), undefined);
    assert.match(unusableReason(cert, new Date(), 600) ?? '', /renewal margin/);
  });

  test('a certificate for another key is not ours', async (t) => {
    writeKeyPair(dir);
    const other = tempDir(t, 'cert-other-');
    writeKeyPair(other);
    fs.writeFileSync(certFile(dir, HOST), keygenSign(ca, certPubFile(other, HOST)) + '\n');
    assert.equal(await readCertificate(dir, HOST), undefined);
    const state = await inspectCertificate(dir, HOST);
    assert.equal(state.status, 'mismatch');
  });

  test('missing files give undefined; garbage is reported invalid', async (t) => {
    const empty = tempDir(t, 'cert-empty-');
    assert.equal(await readCertificate(empty, HOST), undefined);
    assert.equal((await inspectCertificate(empty, HOST)).status, 'missing');
    writeKeyPair(empty);
    fs.writeFileSync(certFile(empty, HOST), 'ecdsa-sha2-nistp256-cert-v01@openssh.com AAAAnotacert\n');
    assert.equal((await inspectCertificate(empty, HOST)).status, 'invalid');
  });

  test('expired, not-yet-valid, host and principal-less certificates are not usable', async () => {
    writeKeyPair(dir);
    const pub = certPubFile(dir, HOST);
    const read = async (line: string) => {
      fs.writeFileSync(certFile(dir, HOST), line + '\n');
      const c = await readCertificate(dir, HOST);
      assert.ok(c);
      return c;
    };
    const expired = await read(keygenSign(ca, pub, { validity: '-10m:-5m' }));
    assert.match(unusableReason(expired, new Date(), 0) ?? '', /expired/);
    const future = await read(keygenSign(ca, pub, { validity: '+1h:+2h' }));
    assert.match(unusableReason(future, new Date(), 0) ?? '', /not valid before/);
    const host = await read(keygenSign(ca, pub, { host: true, principals: 'ssh.sandbox.test' }));
    assert.equal(host.type, 'host');
    assert.match(unusableReason(host, new Date(), 0) ?? '', /not a user certificate/);
    const none = await read(keygenSign(ca, pub, { principals: '' }));
    assert.deepEqual(none.principals, []);
    assert.match(unusableReason(none, new Date(), 0) ?? '', /no principal/);
    const forever = await read(keygenSign(ca, pub, { validity: 'always:forever' }));
    assert.ok(forever.validBefore > Date.now() / 1000 + 100 * 365 * 86400);
    // Never renewed, Access never asked again: not usable (issue 11, item 5).
    assert.match(unusableReason(forever, new Date(), 60) ?? '', /valid for ever, more than the 24 h/);
  });

  test('a private key others can read is refused, naming the file and chmod 600', { skip: process.platform === 'win32' }, async () => {
    writeKeyPair(dir);
    fs.writeFileSync(certFile(dir, HOST), keygenSign(ca, certPubFile(dir, HOST)) + '\n');
    fs.chmodSync(certKeyFile(dir, HOST), 0o644);
    await assert.rejects(readCertificate(dir, HOST), (err: unknown) => {
      assert.ok(isAccessError(err, 'cert-invalid'));
      assert.ok(err.message.includes(certKeyFile(dir, HOST)));
      assert.match(err.hint ?? '', /chmod 600/);
      return true;
    });
    fs.chmodSync(certKeyFile(dir, HOST), 0o600);
    assert.ok(await readCertificate(dir, HOST));
  });
});

describe('issuing a certificate', () => {
  let server: TestServer;
  let ca: string;
  const work = tempDir({ after }, 'cert-issue-');
  let signArgs: SignArgs;
  let foreignKey = false;
  let statuses: number[] = [];
  before(async () => {
    ca = makeCa(work);
    server = await startServer((req, res) => {
      const status = statuses.shift();
      if (status !== undefined && status !== 200) {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status, message: 'nope' }));
        return;
      }
      const body = JSON.parse(req.body.toString()) as { public_key: string };
      const pub = path.join(fs.mkdtempSync(path.join(work, 'req-')), 'k.pub');
      if (foreignKey) fs.writeFileSync(pub, sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' }).toPublic().toString('ssh') + '\n');
      else fs.writeFileSync(pub, body.public_key + '\n');
      const certificate = keygenSign(ca, pub, signArgs).split(' ').slice(0, 2).join(' ');
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ id: 'id1', certificate, expires_at: new Date(Date.now() + 180_000).toISOString() }));
    });
  });
  after(() => server.close());

  function tokens(list: AppToken[]): TokenSource & { gets: number; forgets: number } {
    const src = {
      gets: 0,
      forgets: 0,
      get: async () => {
        src.gets++;
        const t = list[Math.min(src.gets - 1, list.length - 1)];
        assert.ok(t);
        return t;
      },
      forget: async () => {
        src.forgets++;
      },
    };
    return src;
  }

  test('writes key (PEM 0600), .pub and -cert.pub (0600) that ssh-keygen accepts', async (t) => {
    signArgs = {};
    foreignKey = false;
    const dir = path.join(tempDir(t, 'cert-out-'), 'nested');
    const cert = await issueCertificate(server.client(), dir, HOST, tokens([token()]));
    assert.deepEqual(cert.principals, ['jdoe']);
    const keyPath = certKeyFile(dir, HOST);
    assert.match(fs.readFileSync(keyPath, 'utf8'), /^-----BEGIN EC PRIVATE KEY-----/);
    if (process.platform !== 'win32') {
      assert.equal(fs.statSync(keyPath).mode & 0o777, 0o600);
      assert.equal(fs.statSync(certFile(dir, HOST)).mode & 0o777, 0o600);
      assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
    }
    const derived = execFileSync(KEYGEN, ['-y', '-f', keyPath], { encoding: 'utf8' }).trim();
    assert.equal(derived, fs.readFileSync(certPubFile(dir, HOST), 'utf8').trim());
    const listed = execFileSync(KEYGEN, ['-L', '-f', certFile(dir, HOST)], { encoding: 'utf8' });
    assert.match(listed, /user certificate/);
    const again = await readCertificate(dir, HOST);
    assert.equal(again?.keyFingerprint, cert.keyFingerprint);
    assert.deepEqual(
      fs.readdirSync(dir).filter((n) => n.endsWith('.tmp')),
      [],
    );
  });

  for (const [name, setup, pattern] of [
    [
      'another key',
      () => {
        foreignKey = true;
      },
      /another key/,
    ],
    [
      'an expired certificate',
      () => {
        signArgs = { validity: '-10m:-1m' };
      },
      /expired/,
    ],
    [
      'no principal',
      () => {
        signArgs = { principals: '' };
      },
      /no principal/,
    ],
    [
      'a host certificate',
      () => {
        signArgs = { host: true };
      },
      /not a user certificate/,
    ],
  ] as const) {
    test(`refuses ${name} and writes nothing`, async (t) => {
      signArgs = {};
      foreignKey = false;
      setup();
      const dir = tempDir(t, 'cert-bad-');
      await assert.rejects(issueCertificate(server.client(), dir, HOST, tokens([token()])), (err: unknown) => {
        assert.ok(isAccessError(err, 'cert-invalid'), String(err));
        assert.match(err.message, pattern);
        return true;
      });
      assert.deepEqual(fs.readdirSync(dir), []);
    });
  }

  test("the edge decides the principal: one that is not the e-mail's local part is kept and written", async (t) => {
    signArgs = { principals: 'deploy' };
    foreignKey = false;
    const dir = tempDir(t, 'cert-principal-');
    const infos: string[] = [];
    const log = { trace() {}, debug() {}, info: (m: string) => infos.push(m), warn() {}, error() {} };
    const cert = await issueCertificate(server.client(), dir, HOST, tokens([token()]), { log });
    assert.deepEqual(cert.principals, ['deploy']);
    assert.ok(fs.existsSync(certFile(dir, HOST)));
    assert.ok(
      infos.some((m) => /is for deploy, not jdoe/.test(m)),
      infos.join('\n'),
    );
    // Still checked like any other: the no-principal, wrong-key... cases above are refused.
    signArgs = {};
  });

  test('a token refused by cert_sign is forgotten and replaced once', async (t) => {
    signArgs = {};
    foreignKey = false;
    statuses = [401];
    const src = tokens([token({ email: 'old@example.com' }), token()]);
    const cert = await issueCertificate(server.client(), tempDir(t, 'cert-retry-'), HOST, src);
    assert.equal(src.gets, 2);
    assert.equal(src.forgets, 1);
    assert.deepEqual(cert.principals, ['jdoe']);

    statuses = [403, 403];
    const src2 = tokens([token(), token()]);
    await assert.rejects(issueCertificate(server.client(), tempDir(t, 'cert-retry-'), HOST, src2), (err: unknown) =>
      isAccessError(err, 'token-refused'),
    );
    assert.equal(src2.gets, 2, 'retried once only');
    statuses = [];
  });
});

describe('ensureCertificate', () => {
  test('fast path: a valid cached certificate makes no request at all', async (t) => {
    const dir = tempDir(t, 'cert-fast-');
    const ca = makeCa(tempDir(t, 'cert-fast-ca-'));
    writeKeyPair(dir);
    fs.writeFileSync(certFile(dir, HOST), keygenSign(ca, certPubFile(dir, HOST), { validity: '-1m:+10m' }) + '\n');
    const keyBefore = fs.readFileSync(certKeyFile(dir, HOST), 'utf8');
    const server = await startServer((_r, res) => {
      res.writeHead(500);
      res.end();
    });
    try {
      const ctx = { http: server.client(), store: new TokenStore(dir), log: silentLogger };
      const r = await ensureCertificate(ctx, HOST, { marginSeconds: 60, login: { interactive: false } });
      assert.equal(r.renewed, false);
      assert.deepEqual(r.cert.principals, ['jdoe']);
      assert.equal(server.seen.length, 0);
      assert.equal(fs.readFileSync(certKeyFile(dir, HOST), 'utf8'), keyBefore, 'no new key');
      assert.ok(!fs.existsSync(`${certKeyFile(dir, HOST)}.lock`));

      // Within the margin: it goes to the network (discovery first).
      await assert.rejects(ensureCertificate(ctx, HOST, { marginSeconds: 900, login: { interactive: false } }));
      assert.ok(server.seen.length > 0);
      assert.equal(server.seen[0]!.method, 'HEAD');
      assert.equal(server.seen[0]!.headers['cf-access-metadata-request'], 'true');
    } finally {
      await server.close();
    }
  });
});

describe('ensureCertificate against the sandbox edge', () => {
  let sandbox: Sandbox;
  let http: HttpClient;
  before(async () => {
    sandbox = await startSandbox({ sshd: false });
    http = HttpClient.fromEnv(sandbox.env);
  });
  after(() => sandbox.stop());

  test('renews with the stored token, then serves the cache; concurrent callers share one renewal', async (t) => {
    const dir = tempDir(t, 'cert-sbx-');
    const store = new TokenStore(dir);
    const ctx = { http, store, log: silentLogger };
    const { discoverApp } = await import('../../../src/access/metadata.js');
    const appInfo = await discoverApp(http, new URL(`https://${HOST}/`));
    await store.writeAppToken(appInfo, parseAppToken(await sandbox.mintAppToken()).token);
    const signsBefore = sandbox.counters.certSigns;
    const metadataBefore = sandbox.counters.metadata;

    const results = await Promise.all(
      [0, 1, 2].map(() => ensureCertificate(ctx, HOST, { marginSeconds: 60, login: { interactive: false } })),
    );
    assert.equal(results.filter((r) => r.renewed).length, 1);
    assert.equal(sandbox.counters.certSigns - signsBefore, 1, 'one certificate for three callers');
    const fp = results[0]!.cert.keyFingerprint;
    assert.ok(results.every((r) => r.cert.keyFingerprint === fp));
    assert.deepEqual(results[0]!.cert.principals, ['jdoe']);
    // The stored token named the app: no discovery (token-flow.ts, appTokens).
    assert.equal(sandbox.counters.metadata - metadataBefore, 0, 'no metadata request with a live stored token');

    const again = await ensureCertificate(ctx, HOST, { marginSeconds: 60, login: { interactive: false } });
    assert.equal(again.renewed, false);
    assert.equal(sandbox.counters.certSigns - signsBefore, 1);

    // The edge hands back a certificate for the wrong key: refused, the old pair kept.
    sandbox.setOptions({ faults: { certSign: { certificate: 'wrong-key', times: 1 } } });
    await assert.rejects(ensureCertificate(ctx, HOST, { marginSeconds: 3600, login: { interactive: false } }), (err: unknown) =>
      isAccessError(err, 'cert-invalid'),
    );
    assert.equal((await readCertificate(dir, HOST))?.keyFingerprint, fp);
  });

  test('a stored token of a foreign issuer does not stand in for discovery', async (t) => {
    const dir = tempDir(t, 'cert-sbx-foreign-');
    const store = new TokenStore(dir);
    const ctx = { http, store, log: silentLogger };
    const { discoverApp } = await import('../../../src/access/metadata.js');
    const appInfo = await discoverApp(http, new URL(`https://${HOST}/`));
    const { fakeJwt } = await import('../../unit/access/helpers.js');
    await store.writeAppToken(
      appInfo,
      parseAppToken(
        fakeJwt({ iss: 'https://evil.example.com', aud: [appInfo.appAud], email: 'jdoe@example.com', exp: nowSeconds() + 3600 }),
      ).token,
    );
    const metadataBefore = sandbox.counters.metadata;
    const signsBefore = sandbox.counters.certSigns;
    await assert.rejects(ensureCertificate(ctx, HOST, { marginSeconds: 60, login: { interactive: false } }));
    assert.equal(sandbox.counters.metadata - metadataBefore, 1, 'discovered for real');
    assert.equal(sandbox.counters.certSigns - signsBefore, 0);
  });

  test('without a token and non-interactive: login-required, next step sign-in for the host', async (t) => {
    const dir = tempDir(t, 'cert-sbx-none-');
    const ctx = { http, store: new TokenStore(dir), log: silentLogger };
    await assert.rejects(ensureCertificate(ctx, HOST, { marginSeconds: 60, login: { interactive: false } }), (err: unknown) => {
      assert.ok(err instanceof AccessError && err.code === 'login-required', String(err));
      assert.equal(err.action, 'sign-in');
      assert.equal(err.host, 'ssh.sandbox.test');
      return true;
    });
    assert.equal(await readCertificate(dir, HOST), undefined);
  });

  test('a revoked app token is replaced through the org token and the certificate issued', async (t) => {
    const dir = tempDir(t, 'cert-sbx-revoked-');
    const store = new TokenStore(dir);
    const ctx = { http, store, log: silentLogger };
    const { discoverApp } = await import('../../../src/access/metadata.js');
    const appInfo = await discoverApp(http, new URL(`https://${HOST}/`));
    await store.writeAppToken(appInfo, parseAppToken(await sandbox.mintAppToken()).token);
    sandbox.revokeAllTokens('app');
    await store.writeOrgToken(appInfo.authDomain, (await sandbox.mintOrgToken()) as import('../../../src/access/types.js').OrgToken);
    const metadataBefore = sandbox.counters.metadata;
    const r = await ensureCertificate(ctx, HOST, { marginSeconds: 60, login: { interactive: false } });
    assert.equal(r.renewed, true);
    // cert_sign refused the stored token: it was dropped and the app really discovered.
    assert.equal(sandbox.counters.metadata - metadataBefore, 1, 'a refused stored token leads to a real discovery');
    assert.equal(sandbox.counters.exchanges >= 1, true);
  });
});
