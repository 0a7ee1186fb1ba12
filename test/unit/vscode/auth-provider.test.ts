// The `cloudflare-access` authentication provider on the vscode stand-in: sessions are
// the teams of the token files in ~/.cloudflared, events follow the files, sign-in runs
// one cancellable browser login, sign-out removes the team's tokens and certificates.
import { DIR, EMAIL, TEAM, services, vscode, writeAppToken, writeCertificate, writeOrgToken } from '../../support/vscode-harness.js';
import { eventQueue } from '../../support/vscode-stub.js';
import { teamName } from '../../../src/hosts/state.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import type { AuthenticationProviderAuthenticationSessionsChangeEvent as SessionsChange } from 'vscode';
import { certFile, certKeyFile } from '../../../src/access/paths.js';
import { PROVIDER_ID, SESSION_SCOPE } from '../../../src/vscode/auth-provider.js';
import { hostname } from '../../support/hostname.js';

const HOST = hostname('ssh.example.com');
const OTHER_TEAM = 'other.cloudflareaccess.com';

test('registers one provider, "Cloudflare Access", with several accounts', async (t) => {
  await services(t);
  const p = vscode.registered.authProviders.get(PROVIDER_ID);
  assert.equal(p?.label, 'Cloudflare Access');
  assert.deepEqual(p?.options, { supportsMultipleAccounts: true });
});

test('no tokens, no sessions; a team with tokens is one session that hands out its org token', async (t) => {
  const svc = await services(t, [HOST]);
  assert.deepEqual(await svc.auth.getSessions(), []);
  writeAppToken(HOST);
  const orgFile = writeOrgToken();
  const sessions = await svc.auth.getSessions();
  assert.equal(sessions.length, 1);
  assert.equal(sessions[0]!.id, TEAM);
  // The team is part of the account's label: VS Code lists one Accounts entry per label.
  assert.equal(sessions[0]!.account.label, `${EMAIL} · sandbox`);
  // One non-empty scope: VS Code clears the Accounts menu's sign-in request (made with it)
  // when a session with the same scopes appears; with [] the "1" badge stayed.
  assert.deepEqual(sessions[0]!.scopes, [SESSION_SCOPE]);
  assert.equal(sessions[0]!.accessToken, readFileSync(orgFile, 'utf8').trim());
});

test('a scope picks the session: its team domain, or a host through its team', async (t) => {
  const svc = await services(t, [HOST]);
  writeAppToken(HOST);
  writeAppToken('db.other.example', { team: OTHER_TEAM, email: 'ops@example.com' });
  assert.deepEqual(
    (await svc.auth.getSessions()).map((s) => s.id),
    [OTHER_TEAM, TEAM],
  );
  assert.deepEqual(
    (await svc.auth.getSessions([HOST])).map((s) => s.id),
    [TEAM],
  );
  assert.deepEqual(
    (await svc.auth.getSessions([OTHER_TEAM])).map((s) => s.account.label),
    [`ops@example.com · ${teamName(OTHER_TEAM)}`],
  );
  assert.deepEqual(await svc.auth.getSessions(['unknown.example.com']), []);
  // The Accounts request's own scope names no team: every session answers it.
  assert.deepEqual(
    (await svc.auth.getSessions([SESSION_SCOPE])).map((s) => s.id),
    [OTHER_TEAM, TEAM],
  );
});

test('onDidChangeSessions follows the files: added, changed account, removed', async (t) => {
  const svc = await services(t, [HOST]);
  const events = eventQueue(svc.auth.onDidChangeSessions);
  t.after(() => events.dispose());
  const ids = (e: SessionsChange) => ({
    added: e.added?.map((s) => s.id),
    removed: e.removed?.map((s) => s.id),
    changed: e.changed?.map((s) => `${s.id} ${s.account.label}`),
  });

  writeOrgToken();
  await svc.state.reload();
  assert.deepEqual(ids(await events.next()), { added: [TEAM], removed: [], changed: [] });

  writeOrgToken({ email: 'someone@example.com' });
  await svc.state.reload();
  assert.deepEqual(ids(await events.next()), { added: [], removed: [], changed: [`${TEAM} someone@example.com · sandbox`] });

  // Nothing changed on disk: no event (the next one is the removal below).
  await svc.state.reload();
  writeOrgToken({ exp: Math.floor(Date.now() / 1000) - 5 });
  await svc.state.reload();
  assert.deepEqual(ids(await events.next()), { added: [], removed: [TEAM], changed: [] });
  assert.equal(events.pending(), 0);
});

test('createSession for a host: one cancellable progress, the login through that host, the new session', async (t) => {
  const svc = await services(t, [HOST]);
  let signingInDuringLogin: unknown;
  svc.access.onLogin = async () => {
    signingInDuringLogin = vscode.registered.context.get('accessSsh.signingIn');
    return Promise.resolve();
  };
  const session = await svc.auth.createSession([HOST]);
  assert.deepEqual(svc.access.ops('login'), [HOST]);
  assert.equal(session.id, TEAM);
  assert.equal(session.account.label, `${EMAIL} · sandbox`);
  assert.equal(vscode.ui.progress.length, 1);
  assert.equal(vscode.ui.progress[0]!.cancellable, true);
  assert.match(vscode.ui.progress[0]!.title, /complete the login in your browser/);
  assert.equal(signingInDuringLogin, true);
  assert.equal(vscode.registered.context.get('accessSsh.signingIn'), false, 'the signing-in key is cleared after');
  assert.equal(svc.state.teamOf(HOST), TEAM, 'the host is remembered as of the team');
});

test('createSession for a team domain signs in through a configured host of that team', async (t) => {
  const svc = await services(t, ['a.example.com', HOST]);
  await svc.state.rememberTeam(HOST, TEAM);
  await svc.auth.createSession([TEAM]);
  assert.deepEqual(svc.access.ops('login'), [HOST]);
});

test('createSession with nothing to sign in through: the host is asked; dismissed, it is a cancellation', async (t) => {
  const svc = await services(t);
  await assert.rejects(svc.auth.createSession([]), (err: Error) => err.name === 'Canceled');
  assert.equal(vscode.ui.asked[0]?.kind, 'inputBox');
  assert.deepEqual(svc.access.ops('login'), []);
});

test('a cancelled sign-in rejects as a cancellation and leaves no login pending', async (t) => {
  const svc = await services(t, [HOST]);
  svc.access.onLogin = async (_host, opts) => {
    assert.equal(svc.auth.pendingLogin()?.host, HOST);
    vscode.ui.progress[0]!.cancel();
    assert.equal(opts.signal?.aborted, true, 'Cancel aborts the login');
    throw Object.assign(new Error('aborted'), { name: 'AbortError' });
  };
  await assert.rejects(svc.auth.signIn(HOST), (err: Error) => err.name === 'AbortError');
  assert.equal(svc.auth.pendingLogin(), undefined);
  assert.equal(svc.state.input(HOST).signingIn, undefined);
  assert.ok(vscode.ui.log.some((l) => /cancelled/.test(l.message)));
});

test('a declined browser prompt: the progress points at Copy Login Link, which has the page', async (t) => {
  const svc = await services(t, [HOST]);
  vscode.ui.openExternalResult = false;
  svc.access.onLogin = async (_host, opts) => {
    await opts.openBrowser?.('https://sandbox.cloudflareaccess.com/cdn-cgi/access/cli?token=x');
    assert.equal(svc.auth.pendingLogin()?.url, 'https://sandbox.cloudflareaccess.com/cdn-cgi/access/cli?token=x');
  };
  await svc.auth.signIn(HOST);
  assert.match(vscode.ui.progress[0]!.messages.join('\n'), /Copy Login Link/);
});

test('a second sign-in while one is under way is refused', async (t) => {
  const svc = await services(t, [HOST]);
  let second: Promise<unknown> | undefined;
  svc.access.onLogin = async () => {
    second = svc.auth.signIn(hostname('b.example.com'));
    await assert.rejects(second, /already under way/);
  };
  await svc.auth.signIn(HOST);
  assert.ok(second);
});

test("removeSession: the team's tokens and its hosts' keys and certificates go; another team's stay", async (t) => {
  const svc = await services(t, [HOST, 'db.other.example']);
  const app = writeAppToken(HOST);
  const org = writeOrgToken();
  const otherApp = writeAppToken('db.other.example', { team: OTHER_TEAM });
  writeCertificate(HOST);
  writeCertificate('db.other.example');
  const events = eventQueue(svc.auth.onDidChangeSessions);
  t.after(() => events.dispose());
  await svc.state.reload();
  assert.deepEqual(
    (await events.next()).added?.map((s) => s.id),
    [OTHER_TEAM, TEAM],
  );

  await svc.auth.removeSession(TEAM);
  const removed = await events.next();
  assert.equal(existsSync(app), false);
  assert.equal(existsSync(org), false);
  assert.equal(existsSync(certFile(DIR, HOST)), false);
  assert.equal(existsSync(certKeyFile(DIR, HOST)), false);
  assert.equal(existsSync(otherApp), true);
  assert.equal(existsSync(certFile(DIR, hostname('db.other.example'))), true);
  assert.deepEqual(
    (await svc.auth.getSessions()).map((s) => s.id),
    [OTHER_TEAM],
  );
  assert.deepEqual(
    removed.removed?.map((s) => s.id),
    [TEAM],
  );
  assert.ok(
    vscode.ui.log.some((l) =>
      /Signed out of sandbox\.cloudflareaccess\.com: removed 2 token files and 3 key\/certificate files/.test(l.message),
    ),
  );
});
