// The connected window's status item and certificate renewal, on the vscode stand-in and
// a fake clock: what the item says as time passes, when the certificate is renewed (at
// the margin, read when the setting changes), and how a failing renewal is reported.
import { TEAM, services, vscode, writeAppToken, writeCertificate, type Harness } from '../../support/vscode-harness.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessError } from '../../../src/access/errors.js';
import { MIN_DELAY_AFTER_RENEWAL_MS, RETRY_AFTER_FAILURE_MS } from '../../../src/hosts/renewal.js';
import { CertificateRenewal, CertificateStatusItem } from '../../../src/vscode/status-bar.js';
import { FakeClock } from '../../support/clock.js';
import { eventQueue, questionAsked, type MarkdownString, type ThemeColor } from '../../support/vscode-stub.js';
import { hostname } from '../../support/hostname.js';

const HOST = hostname('ssh.example.com');

/** Services with a ten-minute certificate for HOST; the clock starts at the real now (the certificate's times are real). */
async function connected(t: { after(fn: () => unknown): void }): Promise<{ svc: Harness; clock: FakeClock; validBefore: number }> {
  const svc = await services(t, [HOST]);
  writeAppToken(HOST);
  writeCertificate(HOST);
  await svc.state.reload();
  const validBefore = svc.state.cert(HOST)!.validBefore;
  return { svc, clock: new FakeClock(Date.now()), validBefore };
}

/** Lets a renewal that ran on the fake clock finish its file work and promise chain. */
async function settled(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise((r) => setImmediate(r));
}

test('the item counts the certificate down with the clock, names the account, and refreshes on click', async (t) => {
  const { svc, clock, validBefore } = await connected(t);
  const item = new CertificateStatusItem(svc, HOST, clock);
  t.after(() => item.dispose());
  const shown = vscode.ui.statusItems[0]!;
  assert.equal(shown.visible, true);
  assert.deepEqual(shown.command, { command: 'accessSsh.refreshCertificate', title: 'Refresh Certificate', arguments: [HOST] });
  const left = (s: number) => `$(key) jdoe · ${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
  assert.equal(shown.text, left(validBefore - clock.now() / 1000));
  assert.equal(shown.backgroundColor, undefined);
  assert.match((shown.tooltip as MarkdownString).value, /Certificate for `jdoe` valid until/);
  await clock.advance(61_000);
  assert.equal(shown.text, left(validBefore - clock.now() / 1000), 'a minute later, a minute less');
  await clock.advance((validBefore - clock.now() / 1000 + 1) * 1000);
  assert.equal(shown.text, '$(key) jdoe · expired');
  assert.equal((shown.backgroundColor as ThemeColor | undefined)?.id, 'statusBarItem.errorBackground');
  item.dispose();
  assert.equal(shown.disposed, true);
  assert.deepEqual(clock.pending(), [], 'no timer left behind');
});

test('without a certificate: the account from the token, "no certificate", on the error background', async (t) => {
  const svc = await services(t, [HOST]);
  writeAppToken(HOST, { email: 'ann.lee@example.com', team: TEAM });
  await svc.state.reload();
  const item = new CertificateStatusItem(svc, HOST, new FakeClock(Date.now()));
  t.after(() => item.dispose());
  const shown = vscode.ui.statusItems[0]!;
  assert.equal(shown.text, '$(key) ann.lee · no certificate');
  assert.equal(shown.backgroundColor?.id, 'statusBarItem.errorBackground');
});

test('renewal: at validBefore minus the margin, not before; then not again sooner than the minimum', async (t) => {
  const { svc, clock, validBefore } = await connected(t);
  const renewal = new CertificateRenewal(svc, HOST, clock);
  t.after(() => renewal.dispose());
  const due = (validBefore - 60) * 1000 - clock.now();
  await clock.advance(due - 1000);
  assert.deepEqual(svc.access.ops('ensureCertificate'), []);
  await clock.advance(1000);
  assert.deepEqual(svc.access.ops('ensureCertificate'), [HOST]);
  await settled();
  // The new certificate (real time) is already inside the margin on the fake clock: the floor holds.
  await clock.advance(MIN_DELAY_AFTER_RENEWAL_MS - 1000);
  assert.equal(svc.access.ops('ensureCertificate').length, 1);
});

test('renewal: a new margin is read when the setting changes, and the timer follows it', async (t) => {
  const { svc, clock, validBefore } = await connected(t);
  const renewal = new CertificateRenewal(svc, HOST, clock);
  t.after(() => renewal.dispose());
  vscode.setSetting('accessSSH.renewalMarginSeconds', 300);
  await clock.advance((validBefore - 300) * 1000 - clock.now() + 1);
  assert.deepEqual(svc.access.ops('ensureCertificate'), [HOST]);
});

test('a failing renewal: logged every time, shown once (with Sign In), retried a minute later', async (t) => {
  const { svc, clock, validBefore } = await connected(t);
  svc.access.onEnsure = () => Promise.reject(new AccessError('login-required', 'The Access session has ended'));
  const questions = eventQueue(questionAsked.event);
  t.after(() => questions.dispose());
  const renewal = new CertificateRenewal(svc, HOST, clock);
  t.after(() => renewal.dispose());
  await clock.advance((validBefore - 60) * 1000 - clock.now());
  const q = await questions.next();
  assert.equal(q.kind, 'warning');
  assert.match(
    q.kind === 'warning' ? q.message : '',
    /^The Access certificate for ssh\.example\.com could not be renewed: The Access session has ended/,
  );
  assert.deepEqual(q.kind === 'warning' && q.items, ['Sign In']);
  await clock.advance(RETRY_AFTER_FAILURE_MS);
  await settled();
  assert.equal(svc.access.ops('ensureCertificate').length, 2);
  assert.equal(questions.pending(), 0, 'not shown again');
  assert.equal(
    vscode.ui.log.filter((l) => l.level === 'warn' && /Keeping the certificate of ssh\.example\.com fresh/.test(l.message)).length,
    2,
  );
});
