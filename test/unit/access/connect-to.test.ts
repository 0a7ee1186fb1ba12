import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseConnectTo, resolveConnectTo } from '../../../src/access/connect-to.js';
import { AccessError } from '../../../src/access/errors.js';

test('empty HOST1/PORT1 match anything', () => {
  const rules = parseConnectTo('::127.0.0.1:8443');
  assert.deepEqual(rules, [{ toHost: '127.0.0.1', toPort: 8443 }]);
  assert.deepEqual(resolveConnectTo(rules, 'ssh.sandbox.test', 443), { host: '127.0.0.1', port: 8443 });
  assert.deepEqual(resolveConnectTo(rules, 'login.cloudflareaccess.org', 8080), { host: '127.0.0.1', port: 8443 });
});

test('empty HOST2/PORT2 keep the original', () => {
  const rules = parseConnectTo('a.example:443::8443, b.example::10.0.0.1:');
  assert.deepEqual(resolveConnectTo(rules, 'a.example', 443), { host: 'a.example', port: 8443 });
  assert.deepEqual(resolveConnectTo(rules, 'b.example', 22), { host: '10.0.0.1', port: 22 });
  assert.deepEqual(resolveConnectTo(rules, 'a.example', 80), { host: 'a.example', port: 80 });
  assert.deepEqual(resolveConnectTo(rules, 'c.example', 443), { host: 'c.example', port: 443 });
});

test('first match wins; host match is case-insensitive', () => {
  const rules = parseConnectTo('SSH.Sandbox.Test:443:127.0.0.1:1,::127.0.0.1:2');
  assert.deepEqual(resolveConnectTo(rules, 'ssh.sandbox.test', 443), { host: '127.0.0.1', port: 1 });
  assert.deepEqual(resolveConnectTo(rules, 'other.test', 443), { host: '127.0.0.1', port: 2 });
});

test('IPv6 in brackets on both sides', () => {
  const rules = parseConnectTo('[::1]:443:[fe80::1%eth0]:8443,::[::1]:9');
  assert.deepEqual(rules[0], { fromHost: '::1', fromPort: 443, toHost: 'fe80::1%eth0', toPort: 8443 });
  assert.deepEqual(resolveConnectTo(rules, '[::1]', 443), { host: 'fe80::1%eth0', port: 8443 });
  assert.deepEqual(resolveConnectTo(rules, 'x.test', 1), { host: '::1', port: 9 });
});

test('empty spec gives no rules and no rerouting', () => {
  assert.deepEqual(parseConnectTo(''), []);
  assert.deepEqual(parseConnectTo(' , '), []);
  assert.deepEqual(resolveConnectTo([], 'h', 1), { host: 'h', port: 1 });
});

test('bad entries are config errors naming the entry', () => {
  for (const bad of [
    '127.0.0.1:8443',
    'a:1:b:2:3',
    'a:0:b:2',
    'a:65536:b:2',
    'a:x:b:2',
    '::b:-1',
    '[::1:443:b:1',
    '::1:443:b:1',
    '[]:443:b:1',
    '[::1]x:443:b:1',
    'a b:443:c:1',
    'a/b:443:c:1',
    '[example.com]:1:b:2',
  ]) {
    assert.throws(
      () => parseConnectTo(bad),
      (err: unknown) => {
        assert.ok(err instanceof AccessError, bad);
        assert.equal(err.code, 'config');
        assert.ok(err.message.includes('connect-to'), err.message);
        assert.ok(err.hint);
        return true;
      },
      bad,
    );
  }
});
