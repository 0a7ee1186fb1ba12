// The background timers of the editor on the fake clock (test/support/clock.ts): the
// warning before a team session ends (src/vscode/session-watch.ts), the check of hosts
// whose team is unknown, and the provider's background app-token renewal
// (src/vscode/auth-provider.ts). Time moves only when the test says so.
import { TEAM, nowS, services, vscode, writeAppToken, writeOrgToken } from '../../support/vscode-harness.js';
import { ui } from '../../support/vscode-stub.js';
import { FakeClock } from '../../support/clock.js';
import { waitFor } from '../../support/wait.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CHECK_UNKNOWN_AFTER_MS, SessionWatch, WARN_CHECK_EVERY_MS, WARN_SECONDS } from '../../../src/vscode/session-watch.js';
import { RENEW_APP_TOKENS_EVERY_MS } from '../../../src/vscode/auth-provider.js';

const HOST = 'ssh.example.com';
const sessionWarnings = (): string[] => ui.messages('warning').filter((m) => /Cloudflare Access session/.test(m));

test('a team session ending soon: one warning when it is 10 minutes from its end, on the clock', async (t) => {
  // The token files' times are real seconds: the fake clock starts now.
  const clock = new FakeClock(Date.now());
  const svc = await services(t, [HOST], { clock });
  // The session ends with the team's last token.
  const end = nowS() + WARN_SECONDS + 5 * 60;
  writeAppToken(HOST, { exp: end });
  writeOrgToken({ exp: end });
  await svc.state.reload();
  const watch = new SessionWatch(svc, clock);
  t.after(() => watch.dispose());
  assert.deepEqual(vscode.ui.asked, []);

  await clock.advance(WARN_CHECK_EVERY_MS);
  assert.deepEqual(sessionWarnings(), [], '15 minutes left: no warning');
  await clock.advance(4 * 60_000);
  assert.deepEqual(sessionWarnings(), [], 'still more than 10 minutes left');
  await clock.advance(60_000);
  assert.deepEqual(sessionWarnings(), [
    'Your Cloudflare Access session (team sandbox) ends in 10 min. Renew it to keep connecting without interruption.',
  ]);
  assert.deepEqual((ui.asked[0] as { items: string[] }).items, ['Renew Session'], 'offered for a host of the team');
  // Once per session end, however often it is looked at.
  await clock.advance(5 * 60_000);
  assert.equal(sessionWarnings().length, 1);
  assert.ok(ui.log.some((l) => /The Access session of team sandbox\.cloudflareaccess\.com ends in 10 min/.test(l.message)));

  svc.auth.dispose(); // the provider's renewal timer is on the same clock
  assert.deepEqual(clock.pending(), [WARN_CHECK_EVERY_MS], "the watch's next look");
  watch.dispose();
  assert.deepEqual(clock.pending(), [], 'disposed: no timer left');
});

test('unknown hosts: checked once, 1.5 s after the last request, on the clock', async (t) => {
  const clock = new FakeClock(Date.now());
  const svc = await services(t, [HOST], { clock });
  const watch = new SessionWatch(svc, clock);
  t.after(() => watch.dispose());
  watch.checkUnknownHostsSoon();
  await clock.advance(1000);
  watch.checkUnknownHostsSoon(); // a burst is one check, counted from the last request
  await clock.advance(CHECK_UNKNOWN_AFTER_MS - 1);
  assert.deepEqual(svc.access.ops('discover'), [], 'not before 1.5 s');
  await clock.advance(1);
  assert.deepEqual(svc.access.ops('discover'), [HOST]);
  await waitFor(() => svc.state.teamOf(HOST) === TEAM, { what: 'the team remembered' });
  watch.checkUnknownHostsSoon();
  await clock.advance(CHECK_UNKNOWN_AFTER_MS);
  assert.deepEqual(svc.access.ops('discover'), [HOST], 'a known team is not asked again');
});

test('background renewal: every minute on the clock, the app tokens near their end, none after dispose', async (t) => {
  const clock = new FakeClock(Date.now());
  const svc = await services(t, [HOST], { clock });
  writeOrgToken();
  writeAppToken(HOST, { exp: nowS() + 120 }); // within the renewal window (5 min)
  writeAppToken('other.example.com', { exp: nowS() + 120 }); // not a configured host
  await svc.state.reload();
  assert.deepEqual(clock.pending(), [RENEW_APP_TOKENS_EVERY_MS]);

  await clock.advance(RENEW_APP_TOKENS_EVERY_MS - 1);
  assert.deepEqual(svc.access.ops('renewAppToken'), [], 'not before a minute');
  await clock.advance(1);
  await waitFor(() => svc.access.ops('renewAppToken').length > 0, { what: 'the renewal pass' });
  assert.deepEqual(svc.access.ops('renewAppToken'), [HOST]);
  await waitFor(() => ui.log.some((l) => l.message === `Renewed the app token for ${HOST}`), { what: 'its log line' });
  assert.deepEqual(clock.pending(), [RENEW_APP_TOKENS_EVERY_MS], 'the next pass armed');

  await clock.advance(RENEW_APP_TOKENS_EVERY_MS);
  await waitFor(() => svc.access.ops('renewAppToken').length > 1, { what: 'the second pass' });
  svc.auth.dispose();
  assert.deepEqual(clock.pending(), [], 'disposed: no timer left');
  await clock.advance(10 * RENEW_APP_TOKENS_EVERY_MS);
  assert.equal(svc.access.ops('renewAppToken').length, 2);
});
