// src/cli/gc.ts: the young-generation collection the helper's carrier runs every
// few MiB (carrier.ts `collect`), obtained without leaving a global `gc` behind.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';

const GC_MODULE = join(__dirname, '..', '..', '..', 'src', 'cli', 'gc.js');

test('minorCollector gives a working collection in a runtime started without --expose-gc, and no global gc', () => {
  // A fresh process: this test runner's own flags must not decide the outcome.
  const script = `
    const { minorCollector } = require(${JSON.stringify(GC_MODULE)});
    if (typeof globalThis.gc !== 'undefined') throw new Error('gc exposed before');
    const gc = minorCollector();
    if (typeof gc !== 'function') throw new Error('no collector');
    // A dead 64 KiB Buffer per step; the collection must free them (arrayBuffers falls).
    let keep;
    for (let i = 0; i < 64; i++) keep = Buffer.allocUnsafe(65536);
    keep = undefined;
    const before = process.memoryUsage().arrayBuffers;
    gc();
    gc();
    const after = process.memoryUsage().arrayBuffers;
    process.stdout.write(JSON.stringify({ before, after, globalGc: typeof globalThis.gc }));
  `;
  const r = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', env: { ...process.env, NODE_OPTIONS: '' } });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { before: number; after: number; globalGc: string };
  assert.equal(out.globalGc, 'undefined');
  assert.ok(out.before >= 64 * 65536, `dead buffers counted before: ${out.before}`);
  assert.ok(out.after < out.before / 2, `collected: ${out.before} → ${out.after}`);
});
