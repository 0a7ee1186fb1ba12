import { test } from 'node:test';
import assert from 'node:assert/strict';
import { validateHostname, validateUser, aliasFor, hostFromAlias, SshConfigError } from '../../../src/ssh/validate.js';

const refusedHosts: [string, RegExp][] = [
  ['', /empty/],
  ['a.example.com\nHost *', /line break/],
  ['a.example.com\r', /line break/],
  ['a b.example.com', /space/],
  ['"a.example.com"', /quote/],
  ["a'b.example.com", /quote/],
  ['a%h.example.com', /"%"/],
  ['a.example.com#x', /comment/],
  ['*.example.com', /pattern/],
  ['a?.example.com', /pattern/],
  ['!a.example.com', /pattern/],
  ['$(touch x).example.com', /"\$"/],
  ['`id`.example.com', /backtick/],
  ['a;b.example.com', /shell metacharacter/],
  ['a,b.example.com', /comma/],
  ['a\\b.example.com', /backslash/],
  ['bücher.example.com', /non-ASCII/],
  ['a\u0000b', /control character/],
  ['a\tb', /control character/],
  ['-oProxyCommand=x', /starts with "-"|"="|label/],
  ['a..example.com', /empty label/],
  ['.example.com', /empty label/],
  ['example.com.', /empty label/],
  ['a-.example.com', /starts or ends with "-"/],
  ['a_b.example.com', /other than letters/],
  ['a:22', /other than letters/],
  ['https://a.example.com', /other than letters/],
  ['a'.repeat(64) + '.example.com', /64 characters long, the limit is 63/],
  [Array.from({ length: 51 }, () => 'abcd').join('.') + '.com', /characters long, the limit is 253/],
];

for (const [host, rule] of refusedHosts) {
  test(`validateHostname refuses ${JSON.stringify(host).slice(0, 40)}`, () => {
    assert.throws(
      () => validateHostname(host),
      (e: unknown) => {
        assert.ok(e instanceof SshConfigError);
        assert.match(e.message, rule);
        assert.ok(e.hint.length > 0);
        assert.equal(e.code, 'invalid-value');
        // the value is named safely: JSON-quoted, never a raw line break
        assert.ok(!e.message.includes('\n') && !e.message.includes('\r') && !e.message.includes('\u0000'));
        assert.ok(e.message.includes(JSON.stringify(host.length > 80 ? host.slice(0, 80) + '…' : host)));
        return true;
      },
    );
  });
}

test('validateHostname accepts DNS names', () => {
  for (const h of [
    'ssh.example.com',
    'a',
    'A-1.b2.EXAMPLE.com',
    '10.0.0.1',
    'x'.repeat(63) + '.com',
    Array.from({ length: 63 }, () => 'abc').join('.'),
  ]) {
    assert.equal(validateHostname(h), h);
  }
});

const refusedUsers: [string, RegExp][] = [
  ['', /empty/],
  ['jdoe\nHost *', /line break/],
  ['j doe', /space/],
  ['"jdoe"', /quote/],
  ['j%u', /"%"/],
  ['j#', /comment/],
  ['$(id)', /"\$"/],
  ['`id`', /backtick/],
  ['jdö', /non-ASCII/],
  ['-oFoo', /starts with "-"/],
  ['.hidden', /starts with "."/],
  ['jdoe@example.com', /allowed/],
  ['a+b', /allowed/],
  ['j'.repeat(65), /65 characters long, the limit is 64/],
];
for (const [user, rule] of refusedUsers) {
  test(`validateUser refuses ${JSON.stringify(user).slice(0, 40)}`, () => {
    assert.throws(
      () => validateUser(user),
      (e: unknown) => e instanceof SshConfigError && rule.test(e.message) && e.message.includes(JSON.stringify(user.slice(0, 80))),
    );
  });
}

test('validateUser accepts POSIX-ish names', () => {
  for (const u of ['jdoe', 'j.doe', 'j_doe-2', '_svc', 'JDoe', 'a'.repeat(64)]) assert.equal(validateUser(u), u);
});

test('aliasFor / hostFromAlias', () => {
  assert.equal(aliasFor('ssh.example.com'), 'cfpipe-ssh.example.com');
  assert.throws(() => aliasFor('a b'), SshConfigError);
  assert.equal(hostFromAlias('cfpipe-ssh.example.com'), 'ssh.example.com');
  assert.equal(hostFromAlias('ssh.example.com'), undefined);
  assert.equal(hostFromAlias('cfpipe-'), undefined);
});
