// The file layer of ~/.cloudflared (issue 11, item 2): a folder others can write is
// refused with the chmod that fixes it; symlinks are never followed (read: refused,
// naming the fix; write: the link is replaced, its target untouched); a file of
// another owner is refused; a token others can read is repaired and reported; a
// FIFO is refused at once, never waited on. The attack runs as a real second local
// user, created here as root and removed afterwards.
import { validateHostname } from '../../../src/ssh/validate.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forgetCheckedDirs, readPrivateFile, writePrivateFile } from '../../../src/base/private-files.js';
import { FileError } from '../../../src/base/file-error.js';
import { stageFile, discardStaged } from '../../../src/base/atomic-write.js';
import { AccessError } from '../../../src/access/errors.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { readCachedCertificate } from '../../../src/access/cert-file.js';
import { appTokenFile } from '../../../src/access/paths.js';
import type { AppInfo, AppToken } from '../../../src/access/types.js';
import { createOtherUser, otherUserMissing, type OtherUser } from '../../helpers/other-user.js';
import { tempDir } from '../access/helpers.js';

const posix = process.platform !== 'win32';
const APP: AppInfo = { authDomain: 'team.cloudflareaccess.com', appAud: 'a'.repeat(64), appHostname: 'ssh.example.com' };

function jwt(claims: Record<string, unknown>): AppToken {
  const b = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b({ alg: 'RS256' })}.${b(claims)}.c2ln` as AppToken;
}
const TOKEN = jwt({
  aud: [APP.appAud],
  exp: Math.floor(Date.now() / 1000) + 3600,
  iss: 'https://team.cloudflareaccess.com',
  email: 'jdoe@example.com',
});

/** A home like a user's (0755) with a ~/.cloudflared of `mode`. */
function home(mode: number): { home: string; dir: string } {
  const h = tempDir('access-priv-');
  fs.chmodSync(h, 0o755);
  const dir = path.join(h, '.cloudflared');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, mode);
  forgetCheckedDirs();
  return { home: h, dir };
}

describe('a ~/.cloudflared others can write is not used', { skip: !posix }, () => {
  for (const mode of [0o777, 0o770, 0o1777, 0o720]) {
    test(`mode ${mode.toString(8)}: reads and writes refused, naming chmod 700; nothing written`, async () => {
      const { dir } = home(mode);
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

describe('as a second local user', { skip: otherUserMissing() ?? !posix }, () => {
  let other: OtherUser;
  before(() => {
    other = createOtherUser('pf');
  });
  after(() => other?.remove());

  test('links planted in a world-writable ~/.cloudflared never get written through; after chmod 700 none can be planted', async () => {
    const { home: h, dir } = home(0o777);
    // The owner's file the attacker aims at, and the names we write.
    const victim = path.join(h, '.bashrc');
    fs.writeFileSync(victim, 'echo hello\n', { mode: 0o644 });
    const tokenPath = appTokenFile(dir, APP.appHostname, APP.appAud);
    for (const name of [tokenPath, `${tokenPath}.url`, `${tokenPath}.lock`, path.join(dir, 'ssh.example.com-cf_key')]) {
      const r = other.run('ln', ['-s', victim, name]);
      assert.equal(r.status, 0, r.stderr);
      assert.equal(fs.lstatSync(name).uid, other.uid, 'planted by the other user');
    }
    const store = new TokenStore(dir);
    await assert.rejects(store.writeAppToken(APP, TOKEN), /can be written by every user/);
    await assert.rejects(store.readAppToken(APP), /can be written by every user/);
    assert.equal(fs.readFileSync(victim, 'utf8'), 'echo hello\n', "the owner's file is untouched");
    assert.equal(fs.statSync(victim).mode & 0o777, 0o644, 'and so is its mode');

    // The fix the message names: now nobody else can plant anything.
    fs.chmodSync(dir, 0o700);
    forgetCheckedDirs();
    const r = other.run('ln', ['-s', victim, path.join(dir, 'another')]);
    assert.notEqual(r.status, 0, 'the other user can no longer create entries');
    // The links planted before are still there: refused as links, never followed.
    await assert.rejects(
      store.readAppToken(APP),
      (e: unknown) => e instanceof AccessError && /symbolic link/.test(e.message) && (e.hint ?? '').includes(`rm "${tokenPath}"`),
    );
    // A write replaces the link itself.
    await store.writeAppToken(APP, TOKEN);
    assert.ok(fs.lstatSync(tokenPath).isFile());
    assert.equal(fs.readFileSync(victim, 'utf8'), 'echo hello\n');
  });

  test('a token, key or lock owned by another user is refused, naming rm (chmod cannot help)', async () => {
    const { dir } = home(0o700);
    const tokenPath = appTokenFile(dir, APP.appHostname, APP.appAud);
    fs.writeFileSync(tokenPath, TOKEN, { mode: 0o600 });
    fs.chownSync(tokenPath, other.uid, other.gid);
    await assert.rejects(
      new TokenStore(dir).readAppToken(APP),
      (e: unknown) =>
        e instanceof AccessError &&
        e.message.includes(`belongs to another user (uid ${other.uid})`) &&
        /chmod cannot help/.test(e.hint ?? ''),
    );
    assert.ok(fs.existsSync(tokenPath), 'refused, not deleted');
  });

  test('a ~/.cloudflared owned by another user is refused', async () => {
    const { dir } = home(0o700);
    fs.chownSync(dir, other.uid, other.gid);
    await assert.rejects(new TokenStore(dir).readAppToken(APP), /belongs to another user/);
  });
});

describe('no symlink is followed, no FIFO waited on', { skip: !posix }, () => {
  test('a token or key that is a symlink is refused, naming the link to remove', async () => {
    const { home: h, dir } = home(0o700);
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

  test('writing over a planted symlink replaces the link; its target keeps bytes and mode', async () => {
    const { home: h, dir } = home(0o700);
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

  test('a FIFO, a folder or a socket where a file is expected: refused at once', async () => {
    const { dir } = home(0o700);
    const fifo = path.join(dir, 'fifo');
    execFileSync('mkfifo', [fifo]);
    fs.mkdirSync(path.join(dir, 'folder'));
    for (const [name, what] of [
      ['fifo', /named pipe/],
      ['folder', /a folder/],
    ] as const) {
      await assert.rejects(
        readPrivateFile(path.join(dir, name), { sensitivity: 'public' }),
        (e: unknown) => e instanceof FileError && e.code === 'unsafe-file' && what.test(e.message),
      );
    }
    const tokenPath = appTokenFile(dir, APP.appHostname, APP.appAud);
    execFileSync('mkfifo', [tokenPath]);
    await assert.rejects(new TokenStore(dir).readAppToken(APP), /named pipe/);
  });

  test('a token others can read is made 0600 and reported (repair); a key others can read is refused', async () => {
    const { dir } = home(0o700);
    const tokenPath = appTokenFile(dir, APP.appHostname, APP.appAud);
    fs.writeFileSync(tokenPath, TOKEN);
    fs.chmodSync(tokenPath, 0o644);
    const repaired: Array<[string, number]> = [];
    const store = new TokenStore(dir, (f, m) => repaired.push([f, m]));
    assert.equal(await store.readAppToken(APP), TOKEN);
    assert.deepEqual(repaired, [[tokenPath, 0o644]]);
    assert.equal(fs.statSync(tokenPath).mode & 0o777, 0o600);
  });

  test('temp files: 128 random bits in the name, created exclusively, 0600 until renamed', async () => {
    const { dir } = home(0o700);
    const target = path.join(dir, 't');
    const a = await stageFile(target, 'a', 0o600);
    const b = await stageFile(target, 'b', 0o600);
    assert.match(path.basename(a.temp), /^\.t\.[0-9a-f]{32}\.tmp$/);
    assert.notEqual(a.temp, b.temp);
    await discardStaged([a, b]);
    assert.deepEqual(fs.readdirSync(dir), []);
  });
});
