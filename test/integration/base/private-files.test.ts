// The file layer of ~/.cloudflared (issue 11, item 2) against a real second local user,
// created here as root and removed afterwards: a file of another owner is refused,
// links planted in a world-writable folder never get written through; and a FIFO
// (mkfifo) is refused at once, never waited on.
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forgetCheckedDirs, readPrivateFile } from '../../../src/base/private-files.js';
import { FileError } from '../../../src/base/file-error.js';
import { AccessError } from '../../../src/access/errors.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { appTokenFile } from '../../../src/access/paths.js';
import { createOtherUser, otherUserMissing, type OtherUser } from '../../helpers/other-user.js';
import { APP, home, posix, TOKEN } from '../../unit/base/helpers.js';

describe('as a second local user', { skip: otherUserMissing() ?? !posix }, () => {
  let other: OtherUser;
  before(() => {
    other = createOtherUser('pf');
  });
  after(() => other?.remove());

  test('links planted in a world-writable ~/.cloudflared never get written through; after chmod 700 none can be planted', async (t) => {
    const { home: h, dir } = home(t, 0o777);
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

  test('a token, key or lock owned by another user is refused, naming rm (chmod cannot help)', async (t) => {
    const { dir } = home(t, 0o700);
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

  test('a ~/.cloudflared owned by another user is refused', async (t) => {
    const { dir } = home(t, 0o700);
    fs.chownSync(dir, other.uid, other.gid);
    await assert.rejects(new TokenStore(dir).readAppToken(APP), /belongs to another user/);
  });
});

// mkfifo is a program: the FIFO half of the unit suite's "no symlink is followed, no FIFO
// waited on".
describe('no FIFO waited on', { skip: !posix }, () => {
  test('a FIFO, a folder or a socket where a file is expected: refused at once', async (t) => {
    const { dir } = home(t, 0o700);
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
});
