import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ago, countdown, expiredText, hostState, tooltipFields, type CertInfo } from '../../../src/hosts/state.js';

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

test('a valid certificate shows its countdown, green', () => {
  const s = hostState({ now, cert: cert(now + 161), marginSeconds: 60 });
  assert.equal(s.kind, 'valid');
  assert.equal(s.description, 'certificate valid for 2:41');
  assert.equal(s.contextValue, 'host.valid');
  assert.equal(s.icon.id, 'pass-filled');
  assert.equal(s.certSecondsLeft, 161);
});

test('within the renewal margin the certificate is expiring (warning)', () => {
  const s = hostState({ now, cert: cert(now + 30), marginSeconds: 60 });
  assert.equal(s.kind, 'expiring');
  assert.equal(s.description, 'certificate valid for 0:30');
  assert.equal(s.icon.color, 'list.warningForeground');
});

test('expired certificate with a live login: expired, signed in until', () => {
  const s = hostState({ now, cert: cert(now - 180), appToken: { exp: now + 3600, email: 'jdoe@example.com' }, marginSeconds: 60, formatTime: fmt });
  assert.equal(s.kind, 'expired');
  assert.equal(s.description, 'certificate expired 3m ago · signed in until T3600');
  assert.equal(s.contextValue, 'host.expired');
  assert.equal(s.email, 'jdoe@example.com');
});

test('no certificate, org token only: signed in (renewal needs no browser)', () => {
  const s = hostState({ now, orgToken: { exp: now + 7200, authDomain: 'team.cloudflareaccess.com' }, marginSeconds: 60, formatTime: fmt });
  assert.equal(s.kind, 'signedIn');
  assert.equal(s.description, 'signed in until T7200');
  assert.equal(s.authDomain, 'team.cloudflareaccess.com');
});

test('the later of app and org token is the sign-in horizon', () => {
  const s = hostState({ now, appToken: { exp: now + 100 }, orgToken: { exp: now + 5000 }, marginSeconds: 60, formatTime: fmt });
  assert.equal(s.signedInUntil, now + 5000);
});

test('expired tokens and no certificate: signed out', () => {
  const s = hostState({ now, appToken: { exp: now - 1 }, orgToken: { exp: now - 100 }, marginSeconds: 60 });
  assert.equal(s.kind, 'signedOut');
  assert.equal(s.description, 'signed out');
  assert.equal(s.contextValue, 'host.signedOut');
  const t = hostState({ now, cert: cert(now - 60), marginSeconds: 60 });
  assert.equal(t.description, 'certificate expired 1m ago · signed out');
});

test('a certificate not yet valid (beyond skew) is not shown as valid', () => {
  const s = hostState({ now, cert: cert(now + 600, now + 300), marginSeconds: 60 });
  assert.notEqual(s.kind, 'valid');
});

test('an error wins and is one line', () => {
  const s = hostState({ now, cert: cert(now + 100), error: 'cert_sign failed: 500\nstack...', marginSeconds: 60 });
  assert.equal(s.kind, 'error');
  assert.equal(s.description, 'error: cert_sign failed: 500');
  assert.equal(s.contextValue, 'host.error');
});

test('tooltip fields: principal, key id, validity window, team, e-mail', () => {
  const rows = tooltipFields({
    hostname: 'ssh.example.com',
    source: 'settings',
    now,
    cert: cert(now + 100),
    appToken: { exp: now + 3600, email: 'jdoe@example.com', authDomain: 'team.cloudflareaccess.com' },
    marginSeconds: 60,
    formatDateTime: fmt,
    formatTime: fmt,
  });
  const get = (label: string) => rows.find((r) => r.label === label)?.value;
  assert.equal(get('Host'), 'ssh.example.com');
  assert.equal(get('Principal'), 'jdoe');
  assert.equal(get('Key ID'), 'jdoe@example.com');
  assert.equal(get('Valid'), 'T-80 – T100');
  assert.equal(get('Team'), 'team.cloudflareaccess.com');
  assert.equal(get('E-mail'), 'jdoe@example.com');
  assert.equal(get('Signed in until'), 'T3600');
  assert.equal(get('ssh alias'), 'cfpipe-ssh.example.com');
  assert.equal(get('Serial'), '42');
});

test('tooltip of a signed-out host without certificate has no certificate rows', () => {
  const rows = tooltipFields({ hostname: 'a.example.com', source: 'repo', now, marginSeconds: 60 });
  assert.deepEqual(rows.map((r) => r.label), ['Host', 'State', 'ssh alias', 'From']);
});
