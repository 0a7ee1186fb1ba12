// The sandbox CA's in-process certificates (test/sandbox/ssh-ca.ts) are what
// `ssh-keygen -s` would make: ssh-keygen -L reads them with the same fields and
// extensions, sshpk verifies the CA's signature, and malformed keys are refused.
// (The e2e tests log in to the real sshd with them.)

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import * as sshpk from 'sshpk';
import { createSshCa } from '../../sandbox/ssh-ca.js';

const KEYGEN = '/usr/bin/ssh-keygen';

test('certificates for every key type read by ssh-keygen -L and verified by sshpk', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-ca-test-'));
  try {
    const ca = await createSshCa(dir);
    const caKey = sshpk.parseKey(fs.readFileSync(ca.publicKeyFile, 'utf8'), 'ssh');
    for (const [type, bits] of [
      ['ecdsa', '256'],
      ['ecdsa', '384'],
      ['ecdsa', '521'],
      ['ed25519', ''],
      ['rsa', '2048'],
    ] as const) {
      const f = path.join(dir, `k-${type}${bits}`);
      execFileSync(KEYGEN, ['-q', '-t', type, ...(bits ? ['-b', bits] : []), '-N', '', '-f', f]);
      const pub = fs.readFileSync(`${f}.pub`, 'utf8');
      const validAfter = new Date(Date.UTC(2030, 0, 1, 0, 0, 0));
      const validBefore = new Date(Date.UTC(2030, 0, 1, 0, 3, 0));
      const cert = await ca.sign({
        publicKey: pub,
        keyId: 'jdoe@example.com',
        principals: ['jdoe', 'ops'],
        validAfter,
        validBefore,
        serial: 42,
      });
      fs.writeFileSync(`${f}-cert.pub`, cert + '\n');
      const listing = execFileSync(KEYGEN, ['-L', '-f', `${f}-cert.pub`], { encoding: 'utf8' });
      assert.match(listing, /Type: \S+-cert-v01@openssh\.com user certificate/);
      assert.match(listing, /Key ID: "jdoe@example\.com"/);
      assert.match(listing, /Serial: 42/);
      assert.match(listing, /Valid: from 2030-01-01T00:00:00 to 2030-01-01T00:03:00/);
      assert.match(listing, /Principals: \n\s+jdoe\n\s+ops\n/);
      assert.match(listing, /Critical Options: \(none\)/);
      for (const ext of ['permit-X11-forwarding', 'permit-agent-forwarding', 'permit-port-forwarding', 'permit-pty', 'permit-user-rc'])
        assert.match(listing, new RegExp(`\\s${ext}\\n`));
      const parsed = sshpk.parseCertificate(cert, 'openssh');
      assert.ok(parsed.isSignedByKey(caKey), `${type}${bits}: signed by the CA`);
      assert.ok(parsed.subjectKey.fingerprint('sha256').matches(sshpk.parseKey(pub, 'ssh')), `${type}${bits}: certifies the key`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('malformed public keys are refused', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ssh-ca-test-'));
  try {
    const ca = await createSshCa(dir);
    const req = { keyId: 'k', principals: ['p'], validAfter: new Date(), validBefore: new Date(Date.now() + 60_000), serial: 1 };
    const f = path.join(dir, 'k');
    execFileSync(KEYGEN, ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', f]);
    const [type, b64] = fs.readFileSync(`${f}.pub`, 'utf8').trim().split(' ') as [string, string];
    const blob = Buffer.from(b64, 'base64');
    const offCurve = Buffer.from(blob);
    offCurve[offCurve.length - 1]! ^= 1;
    for (const bad of [
      'not a key',
      `ssh-dss ${b64}`,
      `ssh-ed25519 ${b64}`,
      `${type} ${blob.subarray(0, blob.length - 5).toString('base64')}`,
      `${type} ${Buffer.concat([blob, Buffer.from([0])]).toString('base64')}`,
      `${type} ${offCurve.toString('base64')}`,
      `${type} ${b64}\nssh-ed25519 AAAA`,
    ]) {
      await assert.rejects(ca.sign({ publicKey: bad, ...req }), Error, bad);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
