// The file layer of ~/.cloudflared (issue 11, item 2): a folder others can write is
// refused with the chmod that fixes it; symlinks are never followed (read: refused,
// naming the fix; write: the link is replaced, its target untouched); a token others
// can read is repaired and reported. A second local user's attack and FIFOs:
// test/integration/base/private-files.test.ts.
import { validateHostname } from '../../../src/ssh/validate.js';
import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forgetCheckedDirs, writePrivateFile } from '../../../src/base/private-files.js';
import { stageFile, discardStaged } from '../../../src/base/atomic-write.js';
import { AccessError } from '../../../src/access/errors.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { readCachedCertificate } from '../../../src/access/cert-file.js';
import { appTokenFile } from '../../../src/access/paths.js';
import { APP, home, posix, TOKEN } from './helpers.js';

describe('a ~/.cloudflared others can write is not used', { skip: !posix }, () => {
  for (const mode of [0o777, 0o770, 0o1777, 0o720]) {
    test(`mode ${mode.toString(8)}: reads and writes refused, naming chmod 700; nothing written`, async (t) => {
      const { dir } = home(t, mode);
      const store = new TokenStore(dir);
      const refused = (err: unknown): boolean =>
        err instanceof AccessError &&
        err.code === 'store' &&
        err.message.includes(dir) &&
        /can be written by (every user|its group)/.test(err.message) &&
        (err.hint ?? '').includes(`chmod 700 "${dir}"`);
      await assert.rejects(store.writeAppToken(APP, TOKEN), refused);
      await assert.rejects(store.readAppToken(APP), refused);
      await assert.rejects(
        readCachedCertificate(dir, validateHostname('ssh.example.com')),
        (e: unknown) => e instanceof AccessError && /chmod 700/.test(e.hint ?? ''),
      );
      assert.deepEqual(fs.readdirSync(dir), []);
      fs.chmodSync(dir, 0o700);
      forgetCheckedDirs();
      await store.writeAppToken(APP, TOKEN);
      assert.equal(await store.readAppToken(APP), TOKEN);
    });
  }
});

describe('no symlink is followed, no FIFO waited on', { skip: !posix }, () => {
  test('a token or key that is a symlink is refused, naming the link to remove', async (t) => {
    const { home: h, dir } = home(t, 0o700);
    const real = path.join(h, 'real-token');
    fs.writeFileSync(real, TOKEN, { mode: 0o600 });
    const tokenPath = appTokenFile(dir, APP.appHostname, APP.appAud);
    fs.symlinkSync(real, tokenPath);
    await assert.rejects(
      new TokenStore(dir).readAppToken(APP),
      (e: unknown) => e instanceof AccessError && e.message.includes(tokenPath) && /Remove the link/.test(e.hint ?? ''),
    );
    const key = path.join(dir, 'ssh.example.com-cf_key');
    fs.symlinkSync(real, key);
    fs.writeFileSync(`${key}-cert.pub`, 'x');
    fs.writeFileSync(`${key}.pub`, 'x');
    await assert.rejects(
      readCachedCertificate(dir, validateHostname('ssh.example.com')),
      (e: unknown) => e instanceof AccessError && e.code === 'cert-invalid' && /symbolic link/.test(e.message),
    );
  });

  test('writing over a planted symlink replaces the link; its target keeps bytes and mode', async (t) => {
    const { home: h, dir } = home(t, 0o700);
    const victim = path.join(h, 'victim');
    fs.writeFileSync(victim, 'precious', { mode: 0o644 });
    const p = path.join(dir, 'x.url');
    fs.symlinkSync(victim, p);
    await writePrivateFile(p, 'https://login/');
    assert.equal(fs.readFileSync(victim, 'utf8'), 'precious');
    assert.equal(fs.statSync(victim).mode & 0o777, 0o644);
    assert.ok(fs.lstatSync(p).isFile());
    assert.equal(fs.statSync(p).mode & 0o777, 0o600);
  });

  test('a token others can read is made 0600 and reported (repair); a key others can read is refused', async (t) => {
    const { dir } = home(t, 0o700);
    const tokenPath = appTokenFile(dir, APP.appHostname, APP.appAud);
    fs.writeFileSync(tokenPath, TOKEN);
    fs.chmodSync(tokenPath, 0o644);
    const repaired: Array<[string, number]> = [];
    const store = new TokenStore(dir, (f, m) => repaired.push([f, m]));
    assert.equal(await store.readAppToken(APP), TOKEN);
    assert.deepEqual(repaired, [[tokenPath, 0o644]]);
    assert.equal(fs.statSync(tokenPath).mode & 0o777, 0o600);
  });

  test('temp files: 128 random bits in the name, created exclusively, 0600 until renamed', async (t) => {
    const { dir } = home(t, 0o700);
    const target = path.join(dir, 't');
    const a = await stageFile(target, 'a', 0o600);
    const b = await stageFile(target, 'b', 0o600);
    assert.match(path.basename(a.temp), /^\.t\.[0-9a-f]{32}\.tmp$/);
    assert.notEqual(a.temp, b.temp);
    await discardStaged([a, b]);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
