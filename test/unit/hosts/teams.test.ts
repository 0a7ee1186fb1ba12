import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  appTokenFor,
  appTokensToRenew,
  orgTokenFor,
  sessionChanges,
  sessionSnapshot,
  sessionTokenCandidates,
  signInHostForScopes,
  signOutHosts,
  signedInTeam,
  teamForScope,
  teamsOf,
  type StoredToken,
} from '../../../src/hosts/teams.js';
import type { HostEntry } from '../../../src/hosts/hosts.js';
import { hostname } from '../../support/hostname.js';

const NOW = 1_700_000_000;
const A = 'alpha.cloudflareaccess.com';
const B = 'beta.cloudflareaccess.com';

function app(host: string, authDomain: string | undefined, exp: number, email?: string): StoredToken {
  return {
    file: `/d/${host}-aud-token`,
    kind: 'app',
    appHostname: host,
    exp,
    ...(authDomain ? { authDomain } : {}),
    ...(email ? { email } : {}),
  };
}
function org(authDomain: string, exp: number, email?: string): StoredToken {
  return { file: `/d/${authDomain}-org-token`, kind: 'org', authDomain, exp, ...(email ? { email } : {}) };
}
const entry = (name: string): HostEntry => ({ hostname: hostname(name), source: 'settings' });

test('teams: one per auth domain with a live token, sorted, ending with its last token', () => {
  const teams = teamsOf(
    [
      app('b.example.com', B, NOW + 100, 'b@example.com'),
      app('a1.example.com', A, NOW + 300, 'jdoe@example.com'),
      org(A, NOW + 900),
      app('a2.example.com', A, NOW + 600, 'other@example.com'),
    ],
    NOW,
  );
  assert.deepEqual(teams, [
    { authDomain: A, email: 'jdoe@example.com', exp: NOW + 900, hasOrgToken: true },
    { authDomain: B, email: 'b@example.com', exp: NOW + 100, hasOrgToken: false },
  ]);
});

test('teams: expired tokens and tokens without a team (a foreign issuer) make no session', () => {
  assert.deepEqual(teamsOf([app('a.example.com', A, NOW - 1), app('x.example.com', undefined, NOW + 500), org(B, NOW)], NOW), []);
});

test("a host's app token is its latest-expiring live one; expired ones only when asked", () => {
  const old = app('h.example.com', A, NOW - 10);
  const live = app('h.example.com', A, NOW + 50);
  const later = app('h.example.com', A, NOW + 500);
  const tokens = [old, later, live, app('other.example.com', A, NOW + 9000), org(A, NOW + 9000)];
  assert.equal(appTokenFor(tokens, 'h.example.com', NOW), later);
  assert.equal(appTokenFor([old], 'h.example.com', NOW), undefined);
  assert.equal(appTokenFor([old], 'h.example.com', NOW, true), old);
  assert.equal(appTokenFor(tokens, 'nothing.example.com', NOW), undefined);
});

test("a team's org token: live and of that team only", () => {
  const a = org(A, NOW + 10);
  assert.equal(orgTokenFor([org(B, NOW + 10), a], A, NOW), a);
  assert.equal(orgTokenFor([org(A, NOW)], A, NOW), undefined);
  assert.equal(orgTokenFor([a], undefined, NOW), undefined);
});

test('a session hands out the org token first, then the newest app token', () => {
  const o = org(A, NOW + 10);
  const newer = app('n.example.com', A, NOW + 900);
  const older = app('o.example.com', A, NOW + 100);
  const order = sessionTokenCandidates([older, app('x.example.com', B, NOW + 5000), newer, o, app('e.example.com', A, NOW - 1)], A, NOW);
  assert.deepEqual(order, [o, newer, older]);
});

test('"signed in as": the host\'s team when signed in; without a host, the only team', () => {
  const teams = teamsOf([org(A, NOW + 10, 'a@example.com'), org(B, NOW + 10)], NOW);
  assert.equal(signedInTeam(teams, B, 'h.example.com')?.authDomain, B);
  assert.equal(signedInTeam(teams, 'gamma.cloudflareaccess.com', 'h.example.com'), undefined);
  assert.equal(signedInTeam(teams, undefined, 'h.example.com'), undefined, 'a host of no known team');
  assert.equal(signedInTeam(teams, undefined, undefined), undefined, 'two teams: which one is not said');
  assert.equal(signedInTeam(teams.slice(0, 1), undefined, undefined)?.authDomain, A);
});

test('session changes: added, removed, and another account for a team', () => {
  const before = sessionSnapshot(teamsOf([org(A, NOW + 10, 'a@example.com'), org(B, NOW + 10, 'b@example.com')], NOW));
  const after = sessionSnapshot(teamsOf([org(B, NOW + 10, 'someone-else@example.com'), org('gamma.cloudflareaccess.com', NOW + 10)], NOW));
  assert.deepEqual(sessionChanges(before, after), { added: ['gamma.cloudflareaccess.com'], removed: [A], changed: [B] });
  assert.deepEqual(sessionChanges(after, after), { added: [], removed: [], changed: [] });
});

test('a scope names a team: an auth domain as is, a host through its team, anything else nothing', () => {
  const teamOf = (h: string) => (h === 'ssh.example.com' ? A : undefined);
  assert.equal(teamForScope('Alpha.CloudflareAccess.com', teamOf), A);
  assert.equal(teamForScope('SSH.example.com', teamOf), A);
  assert.equal(teamForScope('unknown.example.com', teamOf), undefined);
  assert.equal(teamForScope('not a host', teamOf), undefined);
});

test('the host to sign in through: a host scope, else a configured host of the team scope, else none (the user picks)', () => {
  const hosts = [entry('one.example.com'), entry('two.example.com')];
  const teamOf = (h: string) => (h === 'two.example.com' ? A : undefined);
  assert.equal(signInHostForScopes(['New.Example.com'], hosts, teamOf), 'new.example.com');
  assert.equal(signInHostForScopes([A], hosts, teamOf), 'two.example.com');
  assert.equal(signInHostForScopes([B, 'not a host'], hosts, teamOf), undefined);
  assert.equal(signInHostForScopes([], hosts, teamOf), undefined);
});

test("signing out of a team clears its configured hosts' and its app tokens' certificates, no other team's", () => {
  const hosts = [entry('one.example.com'), entry('two.example.com'), entry('three.example.com')];
  const teamOf = (h: string) => (h === 'three.example.com' ? B : A);
  const tokens = [app('gone.example.com', A, NOW - 5), app('b.example.com', B, NOW + 5), org(A, NOW + 5)];
  assert.deepEqual([...signOutHosts(A, hosts, teamOf, tokens)].sort(), ['gone.example.com', 'one.example.com', 'two.example.com']);
});

test('background renewal: app tokens of configured hosts near expiry, of a team with a live org token', () => {
  const at = (appHostname: string, leftS: number, authDomain?: string) => ({
    appHostname,
    expiresAt: new Date((NOW + leftS) * 1000),
    ...(authDomain ? { authDomain } : {}),
  });
  const tokens = [
    at('due.example.com', 299, A),
    at('later.example.com', 301, A),
    at('expired-today.example.com', -3600, A),
    at('expired-long-ago.example.com', -86401, A),
    at('unconfigured.example.com', 10, A),
    at('foreign.example.com', 10),
    at('no-org.example.com', 10, B),
  ];
  const configured = new Set(tokens.map((t) => t.appHostname).filter((h) => h !== 'unconfigured.example.com'));
  const due = appTokensToRenew(tokens, configured, NOW, (d) => d === A);
  assert.deepEqual(
    due.map((t) => t.appHostname),
    ['due.example.com', 'expired-today.example.com'],
  );
});
