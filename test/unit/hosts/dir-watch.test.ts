import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DirWatch } from '../../../src/hosts/dir-watch.js';
import { tempDir } from '../../support/tmp.js';

/** A DirWatch whose calls are counted; `next()` waits for the next one. */
function watched(dir: string) {
  let calls = 0;
  let wake: (() => void) | undefined;
  const w = new DirWatch(
    dir,
    () => {
      calls++;
      wake?.();
    },
    { debug: () => undefined },
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

test('schedule() calls in a row make one call', async (t) => {
  const { w, next, calls } = watched(tempDir(t));
  t.after(() => w.dispose());
  const first = next();
  w.schedule(0);
  w.schedule(0);
  w.schedule(0);
  await first;
  const second = next();
  w.schedule(0);
  await second;
  assert.equal(calls(), 2);
});

test('disposed: schedule() does nothing', async (t) => {
  const { w, calls } = watched(tempDir(t));
  w.dispose();
  w.schedule(0);
  await new Promise((r) => setTimeout(r, 5));
  assert.equal(calls(), 0);
});
