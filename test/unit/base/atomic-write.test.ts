import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { atomicWrite, resolveWriteTarget } from '../../../src/base/atomic-write.js';
import { tempDir } from '../../support/tmp.js';

const mode = async (p: string): Promise<number> => (await fs.stat(p)).mode & 0o777;

test('new file 0600 in a new directory 0700', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'a', 'b', 'f');
  await atomicWrite(p, 'hello');
  assert.equal(await fs.readFile(p, 'utf8'), 'hello');
  assert.equal(await mode(p), 0o600);
  assert.equal(await mode(path.join(dir, 'a')), 0o700);
  assert.equal(await mode(path.join(dir, 'a', 'b')), 0o700);
});

test('keeps the mode of an existing file; an explicit mode wins; the umask cannot narrow it', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'f');
  await fs.writeFile(p, 'old');
  await fs.chmod(p, 0o644);
  await atomicWrite(p, Buffer.from('new'));
  assert.equal(await fs.readFile(p, 'utf8'), 'new');
  assert.equal(await mode(p), 0o644);
  await atomicWrite(p, 'x', { mode: 0o640 });
  assert.equal(await mode(p), 0o640);
  const old = process.umask(0o077);
  try {
    await atomicWrite(p, 'y');
  } finally {
    process.umask(old);
  }
  assert.equal(await mode(p), 0o640);
});

test('follows symlinks (relative, chained, dangling) and keeps them', async (t) => {
  const dir = tempDir(t);
  await fs.mkdir(path.join(dir, 'real'));
  const target = path.join(dir, 'real', 'cfg');
  await fs.writeFile(target, 'old');
  await fs.chmod(target, 0o640);
  await fs.symlink('real/cfg', path.join(dir, 'l1'));
  await fs.symlink(path.join(dir, 'l1'), path.join(dir, 'l2'));
  await atomicWrite(path.join(dir, 'l2'), 'new');
  assert.equal(await fs.readFile(target, 'utf8'), 'new');
  assert.equal(await mode(target), 0o640);
  assert.ok((await fs.lstat(path.join(dir, 'l1'))).isSymbolicLink());
  assert.ok((await fs.lstat(path.join(dir, 'l2'))).isSymbolicLink());
  await fs.symlink('real/not-yet', path.join(dir, 'dangling'));
  await atomicWrite(path.join(dir, 'dangling'), 'born');
  assert.equal(await fs.readFile(path.join(dir, 'real', 'not-yet'), 'utf8'), 'born');
  assert.equal(await resolveWriteTarget(path.join(dir, 'l2')), target);
  await fs.symlink('loop2', path.join(dir, 'loop1'));
  await fs.symlink('loop1', path.join(dir, 'loop2'));
  await assert.rejects(atomicWrite(path.join(dir, 'loop1'), 'x'), /ELOOP|symbolic links/);
});

test('cleans up the temp file when the rename fails, and leaves the target alone', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'target');
  await fs.mkdir(p);
  await fs.writeFile(path.join(p, 'inside'), 'keep');
  await assert.rejects(atomicWrite(p, 'data'));
  assert.deepEqual(await fs.readdir(dir), ['target']);
  assert.equal(await fs.readFile(path.join(p, 'inside'), 'utf8'), 'keep');
});

test('concurrent writers: the file is always one complete version, no temp files left', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'f');
  const versions = Array.from({ length: 40 }, (_, i) => `${i}:`.padEnd(200_000, String.fromCharCode(97 + (i % 26))));
  let reads = 0;
  let stop = false;
  const reader = (async () => {
    while (!stop) {
      try {
        const got = await fs.readFile(p, 'utf8');
        assert.ok(versions.includes(got), 'a reader saw a partial file');
        reads++;
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  await Promise.all(versions.map((v) => atomicWrite(p, v)));
  stop = true;
  await reader;
  assert.ok(versions.includes(await fs.readFile(p, 'utf8')));
  assert.deepEqual(await fs.readdir(dir), ['f']);
  assert.ok(reads >= 0);
});
