import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AccessError, describeError, isAccessError } from '../../../src/access/errors.js';

test('AccessError carries code, hint and cause', () => {
  const cause = new Error('inner');
  const e = new AccessError('network', 'Cannot reach x', { hint: 'do y', cause });
  assert.ok(e instanceof Error);
  assert.equal(e.name, 'AccessError');
  assert.equal(e.code, 'network');
  assert.equal(e.hint, 'do y');
  assert.equal(e.cause, cause);
  assert.equal(new AccessError('jwt', 'm').hint, undefined);
  assert.ok(isAccessError(e));
  assert.ok(isAccessError(e, 'network'));
  assert.ok(!isAccessError(e, 'jwt'));
  assert.ok(!isAccessError(cause));
});

test('describeError', () => {
  const err = Object.assign(new Error('connect refused'), { code: 'ECONNREFUSED' });
  assert.equal(describeError(err), 'ECONNREFUSED: connect refused');
  assert.equal(describeError('x'), 'x');
});
