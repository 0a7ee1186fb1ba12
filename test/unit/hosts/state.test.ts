import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  certificateStatus,
  ago,
  certInfoOf,
  countdown,
  expiredText,
  hostState,
  sessionsEndingSoon,
  sessionSummary,
  teamName,
  teamPhrase,
  accountLabel,
  hostRowText,
  timeLeft,
  tooltipFields,
  type CertInfo,
} from '../../../src/hosts/state.js';

const now = 1_800_000_000;
const cert = (validBefore: number, validAfter = validBefore - 180): CertInfo => ({
  validAfter,
  validBefore,
  principals: ['jdoe'],
  keyId: 'jdoe@example.com',
  serial: '42',
});
const fmt = (s: number) => `T${s - now}`;

test('countdown text', () => {
  assert.equal(countdown(161), '2:41');
  assert.equal(countdown(59), '0:59');
  assert.equal(countdown(0), '0:00');
  assert.equal(countdown(-5), '0:00');
  assert.equal(countdown(600.9), '10:00');
  assert.equal(countdown(3599), '59:59');
  assert.equal(countdown(3600 + 120), '1h 02m');
  assert.equal(countdown(86399), '23h 59m');
  assert.equal(countdown(2 * 86400 + 3 * 3600), '2d 3h');
});

test('ago and expired text', () => {
  assert.equal(ago(2), 'just now');
  assert.equal(ago(42), '42s ago');
  assert.equal(expiredText(180), 'expired 3m ago');
  assert.equal(expiredText(7200), 'expired 2h ago');
  assert.equal(expiredText(3 * 86400), 'expired 3d ago');
});

test('a valid certificate shows its countdown, green, short enough for the default sidebar', () => {
  const s = hostState({ now, cert: cert(now + 161), appToken: { exp: now + 3600 }, marginSeconds: 60 });
  assert.equal(s.kind, 'valid');
  assert.equal(s.description, 'valid for 2:41');
  assert.equal(s.contextValue, 'host.valid');
  assert.equal(s.icon.id, 'pass-filled');
  assert.equal(s.certSecondsLeft, 161);
});

test('the last minute of a normal certificate cycle is no warning', () => {
  const s = hostState({ now, cert: cert(now + 30), appToken: { exp: now + 3600 }, marginSeconds: 60 });
  assert.equal(s.kind, 'valid');
  assert.equal(s.description, 'valid for 0:30');
  assert.equal(s.icon.id, 'pass-filled');
});

test('expired certificate with a live login: signed in (the next connect renews it), no Sign In', () => {
  const s = hostState({ now, cert: cert(now - 180), appToken: { exp: now + 3600, email: 'jdoe@example.com' }, marginSeconds: 60 });
  assert.equal(s.kind, 'signedIn');
  assert.equal(s.description, 'signed in');
  assert.equal(s.contextValue, 'host.signedIn');
  assert.equal(s.email, 'jdoe@example.com');
});

test('no certificate, org token only (a second host of a signed-in team): signed in', () => {
  const s = hostState({ now, orgToken: { exp: now + 7200, authDomain: 'team.cloudflareaccess.com' }, marginSeconds: 60 });
  assert.equal(s.kind, 'signedIn');
  assert.equal(s.description, 'signed in');
  assert.equal(s.authDomain, 'team.cloudflareaccess.com');
});

test('the later of app and org token is the sign-in horizon', () => {
  const s = hostState({ now, appToken: { exp: now + 100 }, orgToken: { exp: now + 5000 }, marginSeconds: 60 });
  assert.equal(s.signedInUntil, now + 5000);
});

test('expired tokens: signed out, with or without an old certificate', () => {
  const s = hostState({ now, appToken: { exp: now - 1 }, orgToken: { exp: now - 100 }, marginSeconds: 60 });
  assert.equal(s.kind, 'signedOut');
  assert.equal(s.description, 'signed out');
  assert.equal(s.contextValue, 'host.signedOut');
  const t = hostState({ now, cert: cert(now - 60), marginSeconds: 60 });
  assert.equal(t.description, 'signed out');
});

test('a certificate not yet valid (beyond skew) is not shown as valid', () => {
  const s = hostState({ now, cert: cert(now + 600, now + 300), marginSeconds: 60 });
  assert.notEqual(s.kind, 'valid');
});

test('a failure wins: its one-line reason, the error icon, the context value naming its next step', () => {
  const error = {
    reason: 'not an Access app',
    detail: 'No Access application at https://x/\nCheck the host name',
    action: 'editHost' as const,
  };
  const s = hostState({ now, cert: cert(now + 100), error, marginSeconds: 60 });
  assert.equal(s.kind, 'error');
  assert.equal(s.description, 'not an Access app');
  assert.equal(s.icon.id, 'error');
  assert.equal(s.contextValue, 'host.errorEditHost');
  for (const [action, value] of [
    ['retry', 'host.errorRetry'],
    ['signIn', 'host.errorSignIn'],
    ['showLog', 'host.errorShowLog'],
  ] as const) {
    assert.equal(hostState({ now, error: { ...error, action }, marginSeconds: 60 }).contextValue, value);
  }
  const long = hostState({ now, error: { ...error, reason: 'x'.repeat(200) + '\nmore' }, marginSeconds: 60 });
  assert.ok(long.description.length <= 60 && !long.description.includes('\n'));
});

test('a sign-in under way says so, and wins over an old error', () => {
  const s = hostState({ now, signingIn: true, error: { reason: 'signed out', detail: 'd', action: 'signIn' }, marginSeconds: 60 });
  assert.equal(s.kind, 'signingIn');
  assert.equal(s.description, 'signing in…');
  assert.equal(s.contextValue, 'host.signingIn');
});

test('tooltip fields: account, team, sessions left, certificate window, principal', () => {
  const rows = tooltipFields({
    hostname: 'ssh.example.com',
    source: 'settings',
    now,
    cert: cert(now + 100),
    appToken: { exp: now + 3600, email: 'jdoe@example.com', authDomain: 'team.cloudflareaccess.com' },
    orgToken: { exp: now + 86400 - 60, authDomain: 'team.cloudflareaccess.com' },
    marginSeconds: 60,
    formatTime: fmt,
  });
  const get = (label: string) => rows.find((r) => r.label === label)?.value;
  assert.equal(get('Host'), 'ssh.example.com');
  assert.equal(get('State'), 'valid for 1:40');
  assert.equal(get('Account'), 'jdoe@example.com');
  assert.equal(get('Team'), 'team.cloudflareaccess.com');
  assert.equal(get('Logs in as'), "jdoe (the certificate's principal)");
  assert.equal(get('App session'), '1h 00m left');
  assert.equal(get('Team session'), '23h 59m left');
  assert.equal(get('Certificate'), 'valid for 1:40 (T-80–T100), renewed with less than 1:00 left');
  assert.equal(get('Principal'), 'jdoe');
  assert.equal(get('Key ID'), 'jdoe@example.com');
  assert.equal(get('SSH alias'), 'cfpipe-ssh.example.com');
  assert.equal(get('Serial'), '42');
});

test('tooltip: a chosen user, an expired certificate, an error with its detail on one line', () => {
  const rows = tooltipFields({
    hostname: 'ssh.example.com',
    source: 'settings',
    user: 'deploy',
    now,
    cert: cert(now - 120),
    error: { reason: 'no certificate', detail: 'Certificate signing failed (HTTP 500)\nTry again', action: 'retry' },
    marginSeconds: 60,
  });
  const get = (label: string) => rows.find((r) => r.label === label)?.value;
  assert.equal(get('Logs in as'), 'deploy');
  assert.equal(get('Certificate'), 'expired 2m ago; a new one is issued at the next connect');
  assert.equal(get('Error'), 'Certificate signing failed (HTTP 500) Try again');
});

test('tooltip of a signed-out host without certificate has no certificate rows', () => {
  const rows = tooltipFields({ hostname: 'a.example.com', source: 'repo', now, marginSeconds: 60 });
  assert.deepEqual(
    rows.map((r) => r.label),
    ['Host', 'State', 'SSH alias', 'From'],
  );
});

test('the view description says who is signed in; team names are short', () => {
  assert.equal(teamName('sandbox.cloudflareaccess.com'), 'sandbox');
  // A FedRAMP team may share its name (and the e-mail) with a commercial one: told apart.
  assert.equal(teamName('agency.fed.cloudflareaccess.com'), 'agency · FedRAMP');
  assert.equal(teamPhrase('sandbox.cloudflareaccess.com'), 'team sandbox');
  assert.equal(teamPhrase('agency.fed.cloudflareaccess.com'), 'FedRAMP team agency');
  assert.equal(accountLabel('agency.fed.cloudflareaccess.com', 'jdoe@example.com'), 'jdoe@example.com · agency · FedRAMP');
  assert.equal(accountLabel('agency.cloudflareaccess.com', 'jdoe@example.com'), 'jdoe@example.com · agency');
  assert.equal(accountLabel('agency.cloudflareaccess.com', undefined), 'agency');
  assert.equal(teamName('odd.example.com'), 'odd.example.com');
  assert.equal(sessionSummary([]), undefined);
  assert.equal(sessionSummary([{ authDomain: 'sandbox.cloudflareaccess.com', email: 'jdoe@example.com' }]), 'jdoe@example.com · sandbox');
  assert.equal(
    sessionSummary([{ authDomain: 'a.cloudflareaccess.com' }, { authDomain: 'b.cloudflareaccess.com', email: 'j@x.com' }]),
    'j@x.com · 2 teams',
  );
  assert.equal(timeLeft(3600 * 5 + 60), '5h 01m left');
  assert.equal(timeLeft(0), 'ended');
});

test('a team session ending soon is warned about once per session', () => {
  const teams = [
    { authDomain: 'a.cloudflareaccess.com', exp: now + 300 },
    { authDomain: 'b.cloudflareaccess.com', exp: now + 7200 },
    { authDomain: 'c.cloudflareaccess.com', exp: now - 5 },
  ];
  const first = sessionsEndingSoon(teams, now, 600, new Set());
  assert.deepEqual(
    first.map((t) => t.authDomain),
    ['a.cloudflareaccess.com'],
  );
  assert.deepEqual(sessionsEndingSoon(teams, now, 600, new Set(first.map((t) => t.key))), []);
  // Renewed (a new end time): warned again when that one comes near.
  const renewed = [{ authDomain: 'a.cloudflareaccess.com', exp: now + 500 }];
  assert.equal(sessionsEndingSoon(renewed, now, 600, new Set(first.map((t) => t.key))).length, 1);
});

test('the principals and key id the edge chose are shown escaped, and a plain one as it is', () => {
  const info = certInfoOf({
    validAfter: 1_800_000_000,
    validBefore: 1_800_000_180,
    principals: ['jdoe', 'admin\u202egnp.exe', 'x\u001b[2J'],
    keyId: `jdoe@example.com\u2028forged ${'k'.repeat(500)}`,
    serial: '7',
  });
  assert.deepEqual(info.principals, ['jdoe', 'admin\\u202egnp.exe', 'x\\u001b[2J']);
  assert.ok(info.keyId.startsWith('jdoe@example.com\\u2028forged'));
  assert.ok(info.keyId.length < 220, 'capped');
  assert.equal(info.validBefore - info.validAfter, 180);
  assert.equal(info.serial, '7');
  const rows = tooltipFields({ hostname: 'a.example.com', source: 'settings', now: 1_800_000_010, cert: info, marginSeconds: 60 });
  for (const r of rows) assert.doesNotMatch(r.value, /[\u0000-\u001f\u202a-\u202e\u2028]/, `${r.label}: no raw control, bidi or separator`);
});

test('tooltip of a host added from the command line, FedRAMP: both said', () => {
  const rows = tooltipFields({ hostname: 'gov.example.com', source: 'cli', fedramp: true, user: 'deploy', now, marginSeconds: 60 });
  const get = (label: string) => rows.find((r) => r.label === label)?.value;
  assert.equal(get('From'), 'the command line (access-ssh config add), not your VS Code settings');
  assert.equal(get('Account type'), 'FedRAMP (signs in through login.fed.cloudflareaccess.org)');
  assert.equal(get('Logs in as'), 'deploy');
});

test("certificateStatus: the principal (else the e-mail's local part) and the time left; no live certificate is an alarm", () => {
  const now = 1_000_000;
  const cert = { validAfter: now - 60, validBefore: now + 125, principals: ['deploy'], keyId: 'k' };
  const live = certificateStatus('h.example.com', { now, cert, appToken: { exp: now + 10, email: 'jdoe@example.com' } }, () => 'T');
  assert.equal(live.text, '$(key) deploy · 2:05');
  assert.equal(live.alarm, false);
  assert.equal(
    live.tooltip,
    '**Cloudflare Access** — h.example.com\n\nCertificate for `deploy` valid until T\n\nClick to refresh the certificate.',
  );
  const expired = certificateStatus('h.example.com', { now: now + 200, cert });
  assert.deepEqual([expired.text, expired.alarm], ['$(key) deploy · expired', true]);
  const none = certificateStatus('h.example.com', {
    now,
    orgToken: { exp: now + 10, email: 'ann@example.com' },
    error: { reason: 'Sign-in needed', detail: 'd', action: 'signIn' },
  });
  assert.equal(none.text, '$(key) ann · no certificate');
  assert.match(none.tooltip, /Last error: Sign-in needed/);
  assert.equal(certificateStatus('h.example.com', { now }).text, '$(key) no certificate');
});

test("a host's row: the state first, a labelled host's name only in the tooltip, its own user after the state", () => {
  assert.deepEqual(hostRowText({ hostname: 'ssh.example.com' }, 'valid for 2:41'), {
    label: 'ssh.example.com',
    description: 'valid for 2:41',
    accessible: 'ssh.example.com, valid for 2:41',
  });
  assert.deepEqual(hostRowText({ hostname: 'ssh.example.com', user: 'deploy' }, 'signed out'), {
    label: 'ssh.example.com',
    description: 'signed out · as deploy',
    accessible: 'ssh.example.com as deploy, signed out',
  });
  assert.deepEqual(hostRowText({ hostname: 'gov.example.com', label: 'Gov box', user: 'ops' }, 'valid for 0:59'), {
    label: 'Gov box',
    description: 'valid for 0:59 · as ops',
    accessible: 'Gov box, gov.example.com as ops, valid for 0:59',
  });
});
