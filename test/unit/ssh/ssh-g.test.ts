import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostPatternsMatch, normalizePath, parseSshG } from '../../../src/ssh/ssh-g.js';

test('helpers: pattern lists, path normalisation, ssh -G parsing', () => {
  assert.equal(hostPatternsMatch(['*'], 'a'), true);
  assert.equal(hostPatternsMatch(['*.example.com', '!bad.example.com'], 'bad.example.com'), false);
  assert.equal(hostPatternsMatch(['CFPIPE-?.com'], 'cfpipe-a.com'), true);
  assert.equal(hostPatternsMatch(['!x'], 'y'), false);
  assert.equal(normalizePath('"~/a%%b"', '/home/me'), '/home/me/a%b');
  assert.equal(normalizePath('/x/y', '/home/me'), '/x/y');
  const g = parseSshG('user jdoe\nidentityfile /a\nidentityfile /b\nproxycommand x y  z\n');
  assert.deepEqual(g.get('identityfile'), ['/a', '/b']);
  assert.deepEqual(g.get('proxycommand'), ['x y  z']);
});
