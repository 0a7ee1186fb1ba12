import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectLock, processStartTime, selfLockContent, withFileLock, type LockHolder } from '../../../src/access/lock.js';
import { AccessError } from '../../../src/access/errors.js';
import { tempDir } from '../../support/tmp.js';

const fast = { retryMs: 25 };

async function waitFor(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}

test('lock file: cloudflared JSON, 0600, removed afterwards (even on throw)', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  await withFileLock(
    target,
    async () => {
      const st = fs.statSync(`${target}.lock`);
      assert.equal(st.mode & 0o777, 0o600);
      const content = JSON.parse(fs.readFileSync(`${target}.lock`, 'utf8')) as { pid: number; start_time: number };
      assert.deepEqual(Object.keys(content), ['pid', 'start_time']);
      assert.equal(content.pid, process.pid);
      assert.ok(Math.abs(content.start_time - (Date.now() - process.uptime() * 1000)) < 3000);
    },
    fast,
  );
  assert.ok(!fs.existsSync(`${target}.lock`));
  await assert.rejects(
    withFileLock(
      target,
      async () => {
        throw new Error('boom');
      },
      fast,
    ),
    /boom/,
  );
  assert.ok(!fs.existsSync(`${target}.lock`));
  assert.deepEqual(fs.readdirSync(path.dirname(target)), []);
});

test('the directory is created (0700) when missing', async (t) => {
  const dir = path.join(tempDir(t), 'sub');
  await withFileLock(path.join(dir, 'tok'), async () => undefined, fast);
  assert.equal(fs.statSync(dir).mode & 0o777, 0o700);
});

// No process ever has this pid: it is PID_MAX_LIMIT on 64-bit Linux (pids are below it)
// and beyond macOS's 99,999.
const DEAD_PID = 2 ** 22;

test('stale: dead pid is reclaimed at once', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  fs.writeFileSync(`${target}.lock`, JSON.stringify({ pid: DEAD_PID, start_time: Date.now() }));
  assert.equal((await inspectLock(`${target}.lock`)).kind, 'stale');
  let ran = false;
  let waited = false;
  await withFileLock(
    target,
    async () => {
      ran = true;
    },
    {
      retryMs: 5000,
      onWaiting: () => {
        waited = true;
      },
    },
  );
  assert.ok(ran);
  assert.equal(waited, false, 'reclaimed without waiting for the holder');
});

test('stale: a recycled pid (start time differs by more than 1 s)', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  const self = selfLockContent();
  fs.writeFileSync(`${target}.lock`, JSON.stringify({ pid: process.pid, start_time: self.start_time - 5000 }));
  if (processStartTime(process.pid) !== undefined) {
    assert.deepEqual(await inspectLock(`${target}.lock`), { kind: 'stale', why: 'pid recycled' });
    await withFileLock(target, async () => undefined, { retryMs: 5000, timeoutMs: 2000 });
  }
  // Within the tolerance it is our own live lock.
  fs.writeFileSync(`${target}.lock`, JSON.stringify({ pid: process.pid, start_time: self.start_time + 500 }));
  assert.deepEqual(await inspectLock(`${target}.lock`), { kind: 'held', pid: process.pid });
});

test('stale: unparsable content, and a lock older than the timeout', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  const lock = `${target}.lock`;
  fs.writeFileSync(lock, 'not json');
  assert.equal((await inspectLock(lock)).kind, 'stale');
  fs.writeFileSync(lock, '{"pid":"x","start_time":1}');
  assert.equal((await inspectLock(lock)).kind, 'stale');
  // An empty file just created may be mid-write by cloudflared: wait; an old one is stale.
  fs.writeFileSync(lock, '');
  assert.equal((await inspectLock(lock)).kind, 'settling');
  const old = new Date(Date.now() - 5000);
  fs.utimesSync(lock, old, old);
  assert.equal((await inspectLock(lock)).kind, 'stale');
  fs.writeFileSync(lock, JSON.stringify(selfLockContent()));
  assert.equal((await inspectLock(lock, 60_000)).kind, 'held');
  const older = new Date(Date.now() - 120_000);
  fs.utimesSync(lock, older, older);
  assert.equal((await inspectLock(lock, 60_000)).kind, 'stale');
  assert.equal((await inspectLock(`${lock}.missing`)).kind, 'gone');
});

test('held by a live process: wait, report the login URL once per new URL, then acquire', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  fs.writeFileSync(`${target}.lock`, JSON.stringify(selfLockContent()));
  const seen: LockHolder[] = [];
  let acquired = false;
  const p = withFileLock(
    target,
    async () => {
      acquired = true;
    },
    { retryMs: 20, onWaiting: (h) => seen.push(h) },
  );
  await waitFor(() => seen.length === 1);
  assert.equal(acquired, false);
  fs.writeFileSync(`${target}.url`, 'https://ssh.sandbox.test/cdn-cgi/access/cli?token=1\n');
  await waitFor(() => seen.length === 2);
  await new Promise((r) => setTimeout(r, 60)); // same URL again: no new report
  fs.writeFileSync(`${target}.url`, 'https://ssh.sandbox.test/cdn-cgi/access/cli?token=2');
  await waitFor(() => seen.length === 3);
  assert.equal(acquired, false);
  fs.rmSync(`${target}.lock`);
  await p;
  assert.ok(acquired);
  assert.deepEqual(seen, [
    { pid: process.pid },
    { pid: process.pid, url: 'https://ssh.sandbox.test/cdn-cgi/access/cli?token=1' },
    { pid: process.pid, url: 'https://ssh.sandbox.test/cdn-cgi/access/cli?token=2' },
  ]);
});

test('timeout while held is a lock error', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  fs.writeFileSync(`${target}.lock`, JSON.stringify(selfLockContent()));
  // A lock older than the timeout counts as stale, and the wait lasts the
  // timeout too: date the lock ahead so that it stays young throughout.
  const ahead = new Date(Date.now() + 3600_000);
  fs.utimesSync(`${target}.lock`, ahead, ahead);
  await assert.rejects(
    withFileLock(target, async () => undefined, { retryMs: 20, timeoutMs: 300 }),
    (err: unknown) => {
      assert.ok(err instanceof AccessError && err.code === 'lock');
      assert.match(err.message, /held by pid/);
      assert.ok(err.hint?.includes('.lock'));
      return true;
    },
  );
  // Not ours: left in place.
  assert.ok(fs.existsSync(`${target}.lock`));
});

test('concurrent holders in one process never overlap', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  let inside = 0;
  let max = 0;
  const order: number[] = [];
  await Promise.all(
    [1, 2, 3, 4].map((i) =>
      withFileLock(
        target,
        async () => {
          inside += 1;
          max = Math.max(max, inside);
          await new Promise((r) => setTimeout(r, 30));
          order.push(i);
          inside -= 1;
        },
        { retryMs: 10 },
      ),
    ),
  );
  assert.equal(max, 1);
  assert.equal(order.length, 4);
});

test('release leaves a lock that is no longer ours', async (t) => {
  const target = path.join(tempDir(t), 'tok');
  await withFileLock(
    target,
    async () => {
      fs.writeFileSync(`${target}.lock`, '{"pid":1,"start_time":0}');
    },
    fast,
  );
  assert.equal(fs.readFileSync(`${target}.lock`, 'utf8'), '{"pid":1,"start_time":0}');
});
