// The doctor's pure parts: reading ssh -v, the carrier status map,
// and the Markdown / text reports (escaped, no secret).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { carrierStatus, readSshLog, type DoctorReport } from '../../../src/doctor/doctor';
import { renderMarkdown, renderText } from '../../../src/doctor/report';

test('readSshLog: host key, the certificate offered, acceptance', () => {
  const log = readSshLog(
    [
      'debug1: Server host key: ssh-ed25519 SHA256:abc',
      "debug1: Host 'h' is known and matches the ED25519 host key.",
      'debug1: Authentications that can continue: publickey',
      'debug1: Offering public key: /k/h-cf_key-cert.pub ECDSA-CERT SHA256:x explicit',
      'debug1: Server accepts key: /k/h-cf_key-cert.pub ECDSA-CERT SHA256:x explicit',
      'Authenticated to h (via proxy) using "publickey".',
    ].join('\n'),
  );
  assert.equal(log.hostKey, 'ssh-ed25519 SHA256:abc');
  assert.equal(log.hostKeyKnown, true);
  assert.deepEqual(log.offered, ['/k/h-cf_key-cert.pub ECDSA-CERT SHA256:x']);
  assert.equal(log.accepted, true);
  assert.equal(log.authenticated, true);
  assert.equal(log.refused, false);
});

test('readSshLog: a refusal after the certificate was offered; an unknown host key in BatchMode', () => {
  const refused = readSshLog(
    [
      'debug1: Authentications that can continue: publickey',
      'debug1: Offering public key: /k/h-cf_key-cert.pub ECDSA-CERT SHA256:x explicit',
      'debug1: Authentications that can continue: publickey',
      'jdoe@h: Permission denied (publickey).',
    ].join('\n'),
  );
  assert.equal(refused.refused, true);
  assert.equal(refused.permissionDenied, 'Permission denied (publickey)');
  const unknown = readSshLog('debug1: Server host key: ssh-ed25519 SHA256:abc\nHost key verification failed.\n');
  assert.equal(unknown.hostKeyUnknown, true);
  const changed = readSshLog('@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.\n');
  assert.equal(changed.hostKeyChanged, true);
  assert.equal(changed.hostKeyUnknown, false);
});

test('carrierStatus: each status on a Cloudflare zone has its own cause and next step', () => {
  const seen = new Set<string>();
  for (const s of [403, 400, 426, 502, 521, 530]) {
    const m = carrierStatus(s, 'h.example.com');
    assert.ok(m.cause.includes(String(s)), `${s}: ${m.cause}`);
    assert.ok(m.next.length > 20);
    seen.add(m.next);
  }
  assert.match(carrierStatus(426, 'h').cause, /WebSockets are turned off/);
  assert.match(carrierStatus(530, 'h').next, /tunnel/);
  assert.equal(seen.size, 5, '400 and 426 share one; the others differ');
});

const report: DoctorReport = {
  host: 'h.example.com',
  alias: 'cfpipe-h.example.com',
  startedAt: '2026-11-30T15:00:00.000Z',
  ok: false,
  failed: 'carrier',
  steps: [
    { id: 'dns', title: 'name resolution', status: 'passed', ms: 3, details: ['h.example.com → 192.0.2.1'] },
    { id: 'proxy', title: 'proxy', status: 'skipped', ms: 0, details: [], cause: 'no proxy configured' },
    {
      id: 'carrier',
      title: 'carrier (websocket)',
      status: 'failed',
      ms: 40,
      details: ['a <b>|pipe|</b> and `code` *stars*'],
      cause: 'Access denied the connection (403)',
      next: 'Ask your administrator',
    },
  ],
};

test('renderText: one line per step, the cause and next step under a failure', () => {
  const t = renderText(report);
  assert.match(t, /^\[ok\] {3}name resolution +3 ms$/m);
  assert.match(t, /^\[skip\] proxy$/m);
  assert.match(
    t,
    /^\[FAIL\] carrier \(websocket\) +40 ms\n.*\n {9}cause: Access denied the connection \(403\)\n {9}next: {2}Ask your administrator$/m,
  );
  assert.match(t, /Failed at "carrier \(websocket\)"/);
});

test('renderMarkdown: a table of steps; values cannot become markup', () => {
  const m = renderMarkdown(report);
  assert.match(m, /^\| carrier \(websocket\) \| ❌ failed \| 40 ms \|$/m);
  assert.match(m, /\*\*Next step:\*\* Ask your administrator/);
  assert.ok(m.includes('a \\<b\\>\\|pipe\\|\\</b\\> and \\`code\\` \\*stars\\*'), m);
});
