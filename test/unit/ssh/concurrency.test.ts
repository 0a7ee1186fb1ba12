// Two writers at once (issue #4, item 2): our edit of the user's ssh config must not
// overwrite a change someone else saved while we were editing (another VS Code window,
// the user's editor). Four processes at once: test/integration/ssh/concurrency.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BEGIN_MARKER, END_MARKER, ensureInclude, removeInclude } from '../../../src/ssh/include.js';
import { tempDir } from '../../support/tmp.js';

/**
 * Runs `edit` while, the first `times` times our writer opens its temp file (after it
 * has read the config), someone else saves `theirs(n)` into the config.
 */
async function withRacingSave<T>(
  config: string,
  theirs: (n: number) => string,
  times: number,
  edit: () => Promise<T>,
): Promise<{ result: T; saves: number }> {
  const real = fs.open;
  let saves = 0;
  (fs as { open: typeof fs.open }).open = async (p: fsSync.PathLike, ...rest: unknown[]) => {
    if (typeof p === 'string' && path.dirname(p) === path.dirname(config) && p.endsWith('.tmp') && saves < times) {
      saves += 1;
      fsSync.writeFileSync(config, theirs(saves));
    }
    return (real as (...a: unknown[]) => ReturnType<typeof fs.open>)(p, ...rest);
  };
  try {
    return { result: await edit(), saves };
  } finally {
    (fs as { open: typeof fs.open }).open = real;
  }
}

const OURS = '/home/me/.ssh/access-ssh/config';
const BLOCK = `${BEGIN_MARKER}\nInclude "${OURS}"\n${END_MARKER}\n`;

test('a save by someone else during our add is kept (we start over from their bytes)', async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'config');
  await fs.writeFile(config, 'Host a\n  User x\n');
  const theirs = (n: number): string => `Host a\n  User x\nHost saved${n}\n  User y\n`;
  const { saves } = await withRacingSave(config, theirs, 2, () => ensureInclude(config, OURS, { platform: 'linux' }));
  assert.equal(saves, 2, 'the race happened twice');
  assert.equal(await fs.readFile(config, 'utf8'), BLOCK + theirs(2), 'their last save and our block');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['config'], 'no temp file left');
});

test('a save by someone else during our remove is kept', async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'config');
  await fs.writeFile(config, BLOCK + 'Host a\n');
  const theirs = (): string => BLOCK + 'Host a\nHost added-meanwhile\n';
  await withRacingSave(config, theirs, 1, () => removeInclude(config));
  assert.equal(await fs.readFile(config, 'utf8'), 'Host a\nHost added-meanwhile\n');
});

test('a config that keeps changing under us: a clear error, their bytes untouched', async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'config');
  await fs.writeFile(config, 'Host a\n');
  const theirs = (n: number): string => `Host a\n# save ${n}\n`;
  await assert.rejects(
    withRacingSave(config, theirs, 1000, () => ensureInclude(config, OURS, { platform: 'linux' })),
    (e: Error & { code?: string; hint?: string }) =>
      /changed while/.test(e.message) && e.message.includes(config) && typeof e.hint === 'string',
  );
  assert.match(await fs.readFile(config, 'utf8'), /^Host a\n# save \d+\n$/);
  assert.deepEqual((await fs.readdir(dir)).sort(), ['config'], 'no temp file left');
});
