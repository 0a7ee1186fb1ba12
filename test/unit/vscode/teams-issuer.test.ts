// The editor's teams come from the tokens in ~/.cloudflared; a token whose issuer is
// not an Access team domain shows no team (the token flow refuses it too).
import { services, writeAppToken } from './harness.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';

test('a foreign issuer shows no team; an Access issuer does', async (t) => {
  const { state } = await services(t);
  writeAppToken('ssh.example.com', { team: 'sandbox.cloudflareaccess.com' });
  writeAppToken('other.example.com', { team: 'evil.example.com' });
  await state.reload();
  assert.deepEqual(
    state.teams().map((x) => x.authDomain),
    ['sandbox.cloudflareaccess.com'],
  );
  assert.equal(state.teamOf('ssh.example.com'), 'sandbox.cloudflareaccess.com');
  assert.equal(state.teamOf('other.example.com'), undefined);
  // The foreign token is still read (its host row exists), it is just no team.
  assert.equal(state.appToken('other.example.com')?.appHostname, 'other.example.com');
});
