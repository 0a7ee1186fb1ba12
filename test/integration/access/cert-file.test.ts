// The sshpk-free certificate reader of the fast path (cert-file.ts): same fields
// and fingerprints as sshpk / ssh-keygen for real `ssh-keygen -s` certificates of
// every key type, and "not usable" (with a reason) whenever it cannot vouch.

import { validateHostname } from '../../../src/ssh/validate.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sshpk from 'sshpk';
import { keyFingerprint, parseOpenSshCertificate, readCachedCertificate } from '../../../src/access/cert-file.js';
import { inspectCertificate } from '../../../src/access/cert-check.js';
import { isAccessError } from '../../../src/access/errors.js';
import { certFile, certKeyFile, certPubFile } from '../../../src/access/paths.js';
import { tempDir } from '../../support/tmp.js';

const HOST = validateHostname('ssh.sandbox.test');
const KEYGEN = '/usr/bin/ssh-keygen';

function keygen(dir: string, name: string, type: string, bits?: string): string {
  const f = path.join(dir, name);
  execFileSync(KEYGEN, ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-C', name, '-f', f]);
  return f;
}

function sign(ca: string, key: string, extra: string[] = ['-n', 'jdoe', '-V', '-1m:+3m']): string {
  execFileSync(KEYGEN, ['-q', '-s', ca, '-I', 'jdoe@example.com', '-z', '42', ...extra, `${key}.pub`]);
  return fs.readFileSync(`${key}-cert.pub`, 'utf8').trim();
}

describe('parseOpenSshCertificate', () => {
  const dir = tempDir({ after }, 'cert-file-');
  let ca: string;
  before(() => {
    ca = keygen(dir, 'ca', 'ed25519');
  });

  for (const [type, bits] of [
    ['ecdsa', '256'],
    ['ecdsa', '384'],
    ['ecdsa', '521'],
    ['ed25519', undefined],
    ['rsa', '2048'],
  ] as const) {
    test(`${type}${bits ? `-${bits}` : ''}: the fields and fingerprints sshpk and ssh-keygen see`, () => {
      const key = keygen(dir, `k-${type}-${bits ?? ''}`, type, bits);
      const line = sign(ca, key);
      const c = parseOpenSshCertificate(line);
      const ref = sshpk.parseCertificate(line, 'openssh');
      assert.equal(c.type, 'user');
      assert.deepEqual(c.principals, ['jdoe']);
      assert.equal(c.keyId, 'jdoe@example.com');
      assert.equal(c.serial, 42n);
      // Certificate times are seconds since the epoch (docs/ARCHITECTURE.md).
      assert.equal(c.validAfter, ref.validFrom.getTime() / 1000);
      assert.equal(c.validBefore, ref.validUntil.getTime() / 1000);
      assert.equal(keyFingerprint(c.subjectKey), ref.subjectKey.fingerprint('sha256').toString());
      assert.equal(keyFingerprint(c.caKey), ref.issuerKey!.fingerprint('sha256').toString());
      // The subject key is the .pub line's blob, byte for byte.
      assert.deepEqual(c.subjectKey, Buffer.from(fs.readFileSync(`${key}.pub`, 'utf8').split(' ')[1]!, 'base64'));
    });
  }

  test('host certificates, no principals, "forever"', () => {
    const key = keygen(dir, 'k-host', 'ed25519');
    const c = parseOpenSshCertificate(sign(ca, key, ['-h']));
    assert.equal(c.type, 'host');
    assert.deepEqual(c.principals, []);
    assert.equal(c.validBefore, 8.64e12);
  });

  test('refuses what is not a certificate, truncated or with a type mismatch', () => {
    const key = keygen(dir, 'k-bad', 'ed25519');
    const line = sign(ca, key);
    const [t, b64] = line.split(' ') as [string, string];
    const blob = Buffer.from(b64, 'base64');
    for (const bad of [
      fs.readFileSync(`${key}.pub`, 'utf8'),
      '',
      `${t} ${blob.subarray(0, blob.length - 10).toString('base64')}`,
      `ecdsa-sha2-nistp256-cert-v01@openssh.com ${b64}`,
      `${t} !!!`,
    ]) {
      assert.throws(
        () => parseOpenSshCertificate(bad),
        (err: unknown) => isAccessError(err, 'cert-invalid'),
        bad.slice(0, 60),
      );
    }
  });
});

describe('readCachedCertificate', () => {
  test('agrees with the sshpk check for our files; not usable without or with another .pub', async (t) => {
    const dir = tempDir(t, 'cert-file-read-');
    const ca = keygen(dir, 'ca', 'ed25519');
    const key = sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' });
    fs.writeFileSync(certKeyFile(dir, HOST), key.toString('pem'), { mode: 0o600 });
    fs.writeFileSync(certPubFile(dir, HOST), key.toPublic().toString('ssh') + '\n');
    const work = path.join(dir, 'w');
    fs.mkdirSync(work);
    fs.copyFileSync(certPubFile(dir, HOST), path.join(work, 'k.pub'));
    fs.writeFileSync(certFile(dir, HOST), sign(ca, path.join(work, 'k')) + '\n', { mode: 0o600 });

    const fast = await readCachedCertificate(dir, HOST);
    const full = await inspectCertificate(dir, HOST);
    assert.equal(full.status, 'ok');
    assert.deepEqual(fast.cert, full.status === 'ok' ? full.cert : undefined);

    const other = sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' });
    fs.writeFileSync(certPubFile(dir, HOST), other.toPublic().toString('ssh') + '\n');
    assert.match((await readCachedCertificate(dir, HOST)).reason ?? '', /another key/);
    fs.rmSync(certPubFile(dir, HOST));
    assert.match((await readCachedCertificate(dir, HOST)).reason ?? '', /does not exist/);
    assert.equal((await readCachedCertificate(tempDir(t, 'cert-file-none-'), HOST)).cert, undefined);
  });

  test('a private key others can read is an error, as in the full check', async (t) => {
    const dir = tempDir(t, 'cert-file-mode-');
    for (const f of [certKeyFile(dir, HOST), certPubFile(dir, HOST), certFile(dir, HOST)]) fs.writeFileSync(f, 'x');
    fs.chmodSync(certKeyFile(dir, HOST), 0o644);
    await assert.rejects(
      readCachedCertificate(dir, HOST),
      (err: unknown) => isAccessError(err, 'cert-invalid') && /too open/.test((err as Error).message),
    );
  });
});
