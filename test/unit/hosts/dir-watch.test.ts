import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirWatch } from '../../../src/hosts/dir-watch.js';
import { FakeClock } from '../../support/clock.js';
import { tempDir } from '../../support/tmp.js';

/** A DirWatch whose calls are counted; `next()` waits for the next one. */
function watched(dir: string, clock?: FakeClock) {
  let calls = 0;
  let wake: (() => void) | undefined;
  const w = new DirWatch(
    dir,
    () => {
      calls++;
      wake?.();
    },
    { debug: () => undefined },
    clock,
  );
  return { w, calls: () => calls, next: () => new Promise<void>((r) => (wake = r)) };
}

test('a file written in the watched directory calls onChange', async (t) => {
  const dir = tempDir(t);
  const { w, next, calls } = watched(dir);
  t.after(() => w.dispose());
  w.start();
  // The watcher does not keep a process alive (persistent: false); this test does, until the event.
  const alive = setInterval(() => undefined, 1000);
  t.after(() => clearInterval(alive));
  const called = next();
  writeFileSync(join(dir, 'x-org-token'), 'x');
  await called;
  assert.ok(calls() >= 1);
});

test('schedule() calls within the wait make one call, when the wait has passed', async (t) => {
  const clock = new FakeClock();
  const { w, calls } = watched(tempDir(t), clock);
  t.after(() => w.dispose());
  w.schedule();
  await clock.advance(100);
  w.schedule();
  w.schedule();
  await clock.advance(149);
  assert.equal(calls(), 0, 'each call starts the wait again');
  await clock.advance(1);
  assert.equal(calls(), 1);
  w.schedule();
  await clock.advance(150);
  assert.equal(calls(), 2);
});

test('a directory that does not exist yet is looked for every 5 s; once it appears it is watched and read', async (t) => {
  const clock = new FakeClock();
  const dir = join(tempDir(t), '.cloudflared');
  const { w, calls } = watched(dir, clock);
  t.after(() => w.dispose());
  w.start();
  assert.deepEqual(clock.pending(), [5000], 'a poll, since there is nothing to watch');
  await clock.advance(15_000);
  assert.equal(calls(), 0);
  mkdirSync(dir);
  await clock.advance(5000);
  assert.deepEqual(clock.pending(), [150], 'found: no more polling, one read after the wait');
  await clock.advance(150);
  assert.equal(calls(), 1);
  assert.deepEqual(clock.pending(), []);
});

test('disposed: no poll, and schedule() does nothing', async (t) => {
  const clock = new FakeClock();
  const { w, calls } = watched(join(tempDir(t), 'missing'), clock);
  w.start();
  w.dispose();
  w.schedule(0);
  assert.deepEqual(clock.pending(), []);
  await clock.advance(60_000);
  assert.equal(calls(), 0);
});
