import { test } from 'node:test';
import assert from 'node:assert/strict';
import { authDomainOfIssuer, parseAuthDomain } from '../../../src/access/auth-domain.js';

test('authDomainOfIssuer: an Access issuer gives its team domain, lower-cased', () => {
  assert.deepEqual(authDomainOfIssuer('https://sandbox.cloudflareaccess.com'), { ok: true, authDomain: 'sandbox.cloudflareaccess.com' });
  assert.deepEqual(authDomainOfIssuer('https://Team.CloudflareAccess.com/'), { ok: true, authDomain: 'team.cloudflareaccess.com' });
  assert.deepEqual(authDomainOfIssuer('https://gov.fed.cloudflareaccess.com'), { ok: true, authDomain: 'gov.fed.cloudflareaccess.com' });
});

test('authDomainOfIssuer: a foreign or broken issuer is no team, with the reason', () => {
  assert.deepEqual(authDomainOfIssuer('https://evil.example.com'), { ok: false, reason: 'not-access' });
  assert.deepEqual(authDomainOfIssuer('https://cloudflareaccess.com.evil.test'), { ok: false, reason: 'not-access' });
  assert.deepEqual(authDomainOfIssuer('https://.cloudflareaccess.com'), { ok: false, reason: 'not-a-host' });
  assert.deepEqual(authDomainOfIssuer('https://[::1]'), { ok: false, reason: 'not-a-host' });
  assert.deepEqual(authDomainOfIssuer('not a url'), { ok: false, reason: 'not-a-url' });
  assert.deepEqual(authDomainOfIssuer(''), { ok: false, reason: 'not-a-url' });
  assert.deepEqual(authDomainOfIssuer(42), { ok: false, reason: 'not-a-url' });
});

test('the issuer rule and the metadata rule agree', () => {
  for (const host of ['sandbox.cloudflareaccess.com', 'evil.example.com', 'a_b.cloudflareaccess.com', 'cloudflareaccess.com']) {
    let metadata: string | undefined;
    try {
      metadata = parseAuthDomain(host);
    } catch {
      metadata = undefined;
    }
    const issuer = authDomainOfIssuer(`https://${host}`);
    assert.equal(issuer.ok ? issuer.authDomain : undefined, metadata, host);
  }
});
