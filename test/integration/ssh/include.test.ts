// Our Include block read by the real ssh (LF, CRLF, no final newline, a BOM), and a
// full file system (a real 64 KiB tmpfs, as root).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { ensureInclude } from '../../../src/ssh/include.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { tempDir } from '../../support/tmp.js';
import { sshG } from '../../support/openssh.js';

test('real ssh reads a config with our block (LF, CRLF, no final newline)', async (t) => {
  const dir = tempDir(t);
  const ours = path.join(dir, 'ours');
  await fs.writeFile(ours, 'Host t\n  User fromours\n', { mode: 0o600 });
  for (const user of ['Host *\n  User other\n', 'Host *\r\n  User other\r\n', 'Host *\n  User other']) {
    const p = path.join(dir, 'config');
    await fs.writeFile(p, user);
    await ensureInclude(p, ours, { platform: 'linux' });
    assert.deepEqual((await sshG(p, 't')).get('user'), ['fromours'], JSON.stringify(user));
    assert.deepEqual((await sshG(p, 'u')).get('user'), ['other'], JSON.stringify(user));
  }
});

test('real ssh: a BOM already breaks OpenSSH; our block keeps the BOM first and changes nothing about that', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'config');
  await fs.writeFile(p, '\uFEFFHost *\n  User other\n');
  await assert.rejects(sshG(p, 'u'), /\\357\\273\\277/);
  await ensureInclude(p, path.join(dir, 'ours'), { platform: 'linux' });
  await assert.rejects(sshG(p, 'u'), /\\357\\273\\277/);
});

test(
  'ENOSPC while adding the Include (a full tmpfs): SshConfigError naming the file, the config untouched, no temp file',
  { skip: process.platform !== 'linux' || process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false },
  async (t) => {
    const { execFileSync, spawnSync } = await import('node:child_process');
    const dir = tempDir(t);
    const mnt = path.join(dir, 'ssh');
    await fs.mkdir(mnt);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=64k', 'tmpfs', mnt]);
    try {
      const config = path.join(mnt, 'config');
      await fs.writeFile(config, 'Host *\n  User me\n', { mode: 0o600 });
      const filler = await fs.open(path.join(mnt, 'filler'), 'w');
      try {
        for (;;) await filler.write(Buffer.alloc(4096, 1));
      } catch {
        // ENOSPC: full
      } finally {
        await filler.close();
      }
      await assert.rejects(
        ensureInclude(config, '/x/ours'),
        (e: unknown) =>
          e instanceof SshConfigError &&
          e.code === 'file-error' &&
          e.message.includes(`Cannot write ${config}`) &&
          /ENOSPC/.test(e.message) &&
          /Free some space/.test(e.hint),
      );
      assert.equal(await fs.readFile(config, 'utf8'), 'Host *\n  User me\n');
      assert.deepEqual((await fs.readdir(mnt)).sort(), ['config', 'filler']);
    } finally {
      spawnSync('umount', [mnt]);
    }
  },
);
