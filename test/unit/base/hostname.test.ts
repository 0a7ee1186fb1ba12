import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostnameProblem, parseAppHostname, parseHostname } from '../../../src/base/hostname.js';
import { validateHostname, SshConfigError } from '../../../src/ssh/validate.js';
import { parseTarget } from '../../../src/cli/host.js';
import { parseListenAddress } from '../../../src/cli/listen-address.js';
import { authDomainOfIssuer } from '../../../src/access/auth-domain.js';

const good = ['ssh.example.com', 'a', 'x-1.example.com', `${'a'.repeat(63)}.example.com`];
const bad = [
  '',
  'a..b',
  '-a.example.com',
  'a-.example.com',
  'a.example.com.',
  'a b',
  'a_b.example.com',
  `${'a'.repeat(64)}.example.com`,
  'é.example.com',
];

test('one host-name rule: parseHostname, validateHostname, --hostname and --url agree', () => {
  for (const h of good) {
    assert.equal(hostnameProblem(h), undefined, h);
    assert.equal(parseHostname(h), h);
    assert.equal(validateHostname(h), h);
    assert.equal(parseTarget(h, 'login').host, h.toLowerCase());
    assert.equal(parseListenAddress(`${h}:22`, 'tcp').host, h);
  }
  for (const h of bad) {
    assert.notEqual(hostnameProblem(h), undefined, h);
    assert.equal(parseHostname(h), undefined, h);
    assert.throws(() => validateHostname(h), SshConfigError, h);
    // --hostname and --url take a trailing dot (DNS's root), nothing else of these.
    if (h !== '' && !h.endsWith('.')) {
      assert.throws(() => parseListenAddress(`${h}:22`, 'tcp'), /not a host name or IP address/, h);
      // A URL's host is IDNA-encoded first (é.example.com is xn--9ca.example.com).
      if (!/[^\x20-\x7e]/.test(h))
        assert.throws(() => parseTarget(`https://${h}/`, 'login'), /not a (valid host name|host name or URL)/, h);
    }
  }
  assert.equal(parseTarget('Vm.Example.Test.', 'login').host, 'vm.example.test');
});

test('the auth domain uses the same rule', () => {
  assert.equal(authDomainOfIssuer('https://a_b.cloudflareaccess.com').ok, false);
  assert.equal(authDomainOfIssuer('https://x-1.cloudflareaccess.com').ok, true);
});

test('the reason names the rule that failed', () => {
  assert.match(hostnameProblem('a..b') ?? '', /empty label/);
  assert.match(hostnameProblem('-a') ?? '', /starts with "-"/);
  assert.match(hostnameProblem('a%b') ?? '', /%-tokens/);
  assert.match(hostnameProblem('x'.repeat(254)) ?? '', /254 characters long, the limit is 253/);
});

test("an application's host name (app_hostname): a host name, a *. wildcard, a path; nothing that could leave a file name", () => {
  for (const h of [...good, '*.example.com', 'example.com/admin', '*.example.com/a/b', 'ssh.example.com/x%20y']) {
    assert.equal(parseAppHostname(h), h, h);
  }
  for (const h of [...bad, '*', '*.', '**.example.com', 'a.*.example.com', '/admin', 'example.com/a b', 'example.com/a\nb', '*.a..b']) {
    assert.equal(parseAppHostname(h), undefined, JSON.stringify(h));
  }
  assert.equal(parseAppHostname(42), undefined);
});
