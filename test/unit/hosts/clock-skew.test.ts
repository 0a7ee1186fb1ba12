// One clock-skew rule (CLOCK_SKEW_SECONDS in src/access/cert-file.ts): a certificate
// whose window starts a little ahead of our clock is usable for the helper and
// "valid" in the editor's row alike (the row used +60 s against the helper's 120 s).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLOCK_SKEW_SECONDS, hasStarted, unusableReason, type CertificateInfo } from '../../../src/access/cert-file.js';
import { certInfoOf, hostState } from '../../../src/hosts/state.js';

const now = new Date(1_800_000_000_000);
const certStartingIn = (seconds: number): CertificateInfo => ({
  path: '/d/h-cf_key-cert.pub',
  keyPath: '/d/h-cf_key',
  keyId: 'jdoe@example.com',
  serial: '1',
  type: 'user',
  principals: ['jdoe'],
  validAfter: now.getTime() / 1000 + seconds,
  validBefore: now.getTime() / 1000 + 3 * 3600,
  keyFingerprint: 'SHA256:x',
  caFingerprint: 'SHA256:y',
  extensions: [],
  criticalOptions: [],
});

test('the helper and the row agree on a certificate that starts ahead of our clock', () => {
  for (const ahead of [0, 59, 61, 90, CLOCK_SKEW_SECONDS, CLOCK_SKEW_SECONDS + 1, 300]) {
    const cert = certStartingIn(ahead);
    const usable = unusableReason(cert, now, 60) === undefined;
    const row = hostState({
      now: now.getTime() / 1000,
      cert: certInfoOf(cert),
      appToken: { exp: now.getTime() / 1000 + 3600 },
      marginSeconds: 60,
    });
    assert.equal(usable, ahead <= CLOCK_SKEW_SECONDS, `helper, ${ahead}s ahead`);
    assert.equal(row.kind === 'valid', usable, `row, ${ahead}s ahead`);
    assert.equal(hasStarted(cert.validAfter, now.getTime() / 1000), usable);
  }
});
