// Lock files against real processes and file types: our start time read from /proc for
// a child, and a FIFO (mkfifo) or other non-file where the lock should be.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { processStartTime, selfLockContent, withFileLock } from '../../../src/access/lock.js';
import { AccessError } from '../../../src/access/errors.js';
import { tempDir } from '../../support/tmp.js';

test('processStartTime of this process matches selfLockContent and /proc', () => {
  const own = processStartTime(process.pid);
  if (process.platform === 'linux') assert.ok(own !== undefined);
  assert.equal(selfLockContent().pid, process.pid);
  if (own !== undefined) assert.equal(selfLockContent().start_time, own);
});

// Issue 11, item 3: a lock that is not a regular lock file we can read is an error
// naming the path, at once: no busy loop (a directory, a dangling symlink read as
// "gone"), no hang (a FIFO), and the function under the lock never runs.
for (const [what, make] of [
  ['a directory', (p: string) => fs.mkdirSync(p)],
  ['a dangling symlink', (p: string) => fs.symlinkSync(path.join(path.dirname(p), 'nowhere'), p)],
  [
    'a symlink to a real lock',
    (p: string) => {
      fs.writeFileSync(`${p}.real`, JSON.stringify({ pid: process.pid, start_time: Date.now() }));
      fs.symlinkSync(`${p}.real`, p);
    },
  ],
  ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
] as const) {
  test(`a lock that is ${what}: an error naming the path, at once`, { skip: process.platform === 'win32', timeout: 30_000 }, async (t) => {
    const target = path.join(tempDir(t), 'tok');
    make(`${target}.lock`);
    let ran = false;
    const cpuBefore = process.cpuUsage();
    await assert.rejects(
      withFileLock(
        target,
        async () => {
          ran = true;
        },
        { retryMs: 25, timeoutMs: 20_000 },
      ),
      (err: unknown) =>
        err instanceof AccessError && err.code === 'lock' && err.message.includes(`${target}.lock`) && /rm /.test(err.hint ?? ''),
    );
    assert.equal(ran, false);
    // Refused before any retry: far less CPU than one retry interval of spinning.
    const cpu = process.cpuUsage(cpuBefore);
    assert.ok(cpu.user + cpu.system < 2_000_000, `no busy loop (${cpu.user + cpu.system} µs of CPU)`);
  });
}
