// AccessState on the vscode stand-in: the token files, each host's team (learned from
// its token or remembered in globalState), its last failure and its sign-in under way,
// and one onDidChange for all of them.
import { DIR, TEAM, services, writeAppToken } from '../../support/vscode-harness.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { eventQueue } from '../../support/vscode-stub.js';
import { hostname } from '../../support/hostname.js';

test('a foreign issuer shows no team; an Access issuer does', async (t) => {
  const { state } = await services(t);
  writeAppToken('ssh.example.com', { team: 'sandbox.cloudflareaccess.com' });
  writeAppToken('other.example.com', { team: 'evil.example.com' });
  await state.reload();
  assert.deepEqual(
    state.teams().map((x) => x.authDomain),
    ['sandbox.cloudflareaccess.com'],
  );
  assert.equal(state.teamOf('ssh.example.com'), 'sandbox.cloudflareaccess.com');
  assert.equal(state.teamOf('other.example.com'), undefined);
  // The foreign token is still read (its host row exists), it is just no team.
  assert.equal(state.appToken('other.example.com')?.appHostname, 'other.example.com');
});

test("a host's team: from its token, else remembered in globalState (and a new one fires a change)", async (t) => {
  const { state, context } = await services(t);
  const changes = eventQueue(state.onDidChange);
  t.after(() => changes.dispose());
  assert.equal(state.teamOf('h.example.com'), undefined);
  await state.rememberTeam('h.example.com', TEAM);
  await changes.next();
  assert.equal(state.teamOf('h.example.com'), TEAM);
  assert.deepEqual(context.globalState.get('hostTeams'), { 'h.example.com': TEAM });
  await state.rememberTeam('h.example.com', TEAM);
  assert.equal(changes.pending(), 0, 'the same team again: no change');
  assert.equal(state.teamOf('constructor'), undefined, "the memento's prototype is no team");
});

test('a failure stays until cleared; the same failure again fires no change', async (t) => {
  const { state } = await services(t);
  const changes = eventQueue(state.onDidChange);
  t.after(() => changes.dispose());
  const failure = { reason: 'Sign-in needed', detail: 'd', action: 'signIn' as const };
  state.setError('h.example.com', failure);
  state.setError('h.example.com', { ...failure });
  assert.deepEqual(state.input(hostname('h.example.com')).error, failure);
  state.setError('h.example.com', undefined);
  assert.equal(state.input(hostname('h.example.com')).error, undefined);
  assert.equal(changes.pending(), 2);
  state.setSigningIn('h.example.com', true);
  assert.equal(state.input(hostname('h.example.com')).signingIn, true);
  state.setSigningIn('h.example.com', false);
  assert.equal(state.input(hostname('h.example.com')).signingIn, undefined);
});

test('started, it sees a token written by another process (the helper, cloudflared)', async (t) => {
  const { state } = await services(t);
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
  await state.start();
  // The watcher does not keep a process alive (persistent: false); this test does, until the event.
  const alive = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(alive));
  const changes = eventQueue(state.onDidChange);
  t.after(() => changes.dispose());
  writeAppToken('h.example.com');
  await changes.next();
  assert.equal(state.appToken('h.example.com')?.authDomain, TEAM);
  assert.equal(state.dir, DIR);
});
