import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodeClaims, emailLocalPart, isExpired } from '../../../src/access/jwt.js';
import { AccessError } from '../../../src/access/errors.js';
import { fakeJwt } from './helpers.js';

const base = { iss: 'https://team.cloudflareaccess.com', exp: 2_000_000_000 };

test('aud string becomes an array; optional claims kept', () => {
  const c = decodeClaims(fakeJwt({ ...base, aud: 'abc', email: 'jdoe@example.com', iat: 5, nbf: 6, sub: 's', type: 'app' }));
  assert.deepEqual(c, { ...base, aud: ['abc'], email: 'jdoe@example.com', iat: 5, nbf: 6, sub: 's', type: 'app' });
});

test('aud array kept; surrounding whitespace ignored', () => {
  const c = decodeClaims(`${fakeJwt({ ...base, aud: ['a', 'b'] })}\n`);
  assert.deepEqual(c.aud, ['a', 'b']);
});

function assertJwtError(token: string, re?: RegExp): void {
  assert.throws(
    () => decodeClaims(token),
    (err: unknown) => {
      assert.ok(err instanceof AccessError);
      assert.equal(err.code, 'jwt');
      if (re) assert.match(err.message, re);
      if (token !== '') assert.ok(!err.message.includes(token), 'message must not echo the token');
      return true;
    },
  );
}

test('malformed tokens', () => {
  assertJwtError('');
  assertJwtError('not-a-jwt');
  assertJwtError('a.b');
  assertJwtError('a.b.c.d.e');
  assertJwtError(`x.${Buffer.from('not json').toString('base64url')}.y`);
  assertJwtError(`x.${Buffer.from('[1,2]').toString('base64url')}.y`);
});

test('bad aud / exp / iss', () => {
  assertJwtError(fakeJwt({ ...base, aud: ['a', 1] }), /non-string/);
  assertJwtError(fakeJwt({ ...base, aud: 7 }), /aud/);
  assertJwtError(fakeJwt({ ...base }), /aud/);
  assertJwtError(fakeJwt({ iss: base.iss, aud: 'a' }), /exp/);
  assertJwtError(fakeJwt({ iss: base.iss, aud: 'a', exp: '123' }), /exp/);
  assertJwtError(fakeJwt({ exp: 1, aud: 'a' }), /iss/);
  assertJwtError(fakeJwt({ ...base, aud: 'a', email: 5 }), /email/);
  assertJwtError(fakeJwt({ ...base, aud: 'a', iat: 'x' }), /iat/);
});

test('isExpired: good through the exp second', () => {
  assert.equal(isExpired({ exp: 100 }, 99), false);
  assert.equal(isExpired({ exp: 100 }, 100), false);
  assert.equal(isExpired({ exp: 100 }, 100.9), false);
  assert.equal(isExpired({ exp: 100 }, 101), true);
  assert.equal(isExpired({ exp: 0 }), true);
  assert.equal(isExpired({ exp: 2_000_000_000 }), false);
});

test('emailLocalPart', () => {
  assert.equal(emailLocalPart('jdoe@example.com'), 'jdoe');
  assert.equal(emailLocalPart('first.last+tag@example.com'), 'first.last+tag');
  assert.equal(emailLocalPart('noatsign'), 'noatsign');
});
