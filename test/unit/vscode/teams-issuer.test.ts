// The editor's teams come from the tokens in ~/.cloudflared; a token whose issuer is
// not an Access team domain shows no team (the token flow refuses it too). The
// AccessState is loaded with a minimal `vscode` stand-in (it needs only EventEmitter).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Module from 'node:module';
import { tempDir } from '../../support/tmp.js';
import { fakeJwt, nowSeconds } from '../access/helpers.js';
import { appTokenFileName } from '../../../src/access/paths.js';

class StandInEmitter<T> {
  private listeners: ((e: T) => void)[] = [];
  readonly event = (fn: (e: T) => void): { dispose(): void } => {
    this.listeners.push(fn);
    return { dispose: () => (this.listeners = this.listeners.filter((l) => l !== fn)) };
  };
  fire(e: T): void {
    for (const l of this.listeners) l(e);
  }
  dispose(): void {
    this.listeners = [];
  }
}

const loader = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const originalLoad = loader._load;
loader._load = function (request: string, parent: unknown, isMain: boolean): unknown {
  if (request === 'vscode') return { EventEmitter: StandInEmitter };
  return originalLoad.call(this, request, parent, isMain);
};

test('a foreign issuer shows no team; an Access issuer does', async (t) => {
  const { AccessState } = await import('../../../src/vscode/access-state.js');
  const dir = tempDir(t);
  mkdirSync(dir, { mode: 0o700, recursive: true });
  const exp = nowSeconds() + 3600;
  const write = (host: string, aud: string, iss: string): void =>
    writeFileSync(join(dir, appTokenFileName(host, aud)), fakeJwt({ aud: [aud], email: 'jdoe@example.com', exp, iss }), {
      mode: 0o600,
    });
  write('ssh.example.com', 'aud1', 'https://sandbox.cloudflareaccess.com');
  write('other.example.com', 'aud2', 'https://evil.example.com');
  const silent = { trace() {}, debug() {}, info() {}, warn() {}, error() {} };
  const memento = { get: <T>(_key: string, fallback: T): T => fallback, update: async () => undefined, keys: () => [] };
  const state = new AccessState(silent as never, memento as never, dir);
  t.after(() => state.dispose());
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
