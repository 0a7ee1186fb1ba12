// The server-side renderer: principal=account maps validated. With real CA keys
// (ssh-keygen): test/integration/ssh/server-config.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseMap } from '../../../src/ssh/server-config.js';
import { SshConfigError } from '../../../src/ssh/validate.js';

test('parseMap: principal=account, both validated', () => {
  assert.deepEqual(parseMap('jdoe=deploy'), { principal: 'jdoe', account: 'deploy' });
  assert.deepEqual(parseMap('j.doe+ops=svc_build'), { principal: 'j.doe+ops', account: 'svc_build' });
  for (const bad of [
    'jdoe',
    '=deploy',
    'jdoe=',
    'j doe=deploy',
    'jdoe=de ploy',
    'jdoe=$(id)',
    'jdoe=a\nb',
    'jdoe=-rf',
    'jdoe@example.com=deploy',
  ]) {
    assert.throws(() => parseMap(bad), SshConfigError, bad);
  }
});
