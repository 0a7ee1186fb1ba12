// Two writers at once (issue #4, item 2): our edit of the user's ssh config must not
// overwrite a change someone else saved while we were editing (another VS Code window,
// the user's editor), and many of our writers at once leave one intact block.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import * as fsSync from 'node:fs';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BEGIN_MARKER, END_MARKER, ensureInclude, removeInclude, withoutInclude } from '../../../src/ssh/include.js';
import { tempDir } from './helpers.js';

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

test('a save by someone else during our add is kept (we start over from their bytes)', async () => {
  const dir = await tempDir();
  const config = path.join(dir, 'config');
  await fs.writeFile(config, 'Host a\n  User x\n');
  const theirs = (n: number): string => `Host a\n  User x\nHost saved${n}\n  User y\n`;
  const { saves } = await withRacingSave(config, theirs, 2, () => ensureInclude(config, OURS, { platform: 'linux' }));
  assert.equal(saves, 2, 'the race happened twice');
  assert.equal(await fs.readFile(config, 'utf8'), BLOCK + theirs(2), 'their last save and our block');
  assert.deepEqual((await fs.readdir(dir)).sort(), ['config'], 'no temp file left');
});

test('a save by someone else during our remove is kept', async () => {
  const dir = await tempDir();
  const config = path.join(dir, 'config');
  await fs.writeFile(config, BLOCK + 'Host a\n');
  const theirs = (): string => BLOCK + 'Host a\nHost added-meanwhile\n';
  await withRacingSave(config, theirs, 1, () => removeInclude(config));
  assert.equal(await fs.readFile(config, 'utf8'), 'Host a\nHost added-meanwhile\n');
});

test('a config that keeps changing under us: a clear error, their bytes untouched', async () => {
  const dir = await tempDir();
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

function runNode(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script, ...args], { timeout: 120_000 }, (err, _o, stderr) => {
      resolve({ code: err ? 1 : 0, stderr: String(stderr) });
    });
  });
}

test('four processes (windows) adding, updating and removing at once: one intact block or none, user bytes intact', async () => {
  const dir = await tempDir();
  const config = path.join(dir, 'config');
  const user = '# mine\r\nHost *\r\n  User me\r\n  IdentityFile "~/.ssh/id x"';
  await fs.writeFile(config, user, { mode: 0o640 });
  await fs.chmod(config, 0o640);
  const mod = path.join(__dirname, '..', '..', '..', 'src', 'ssh', 'include.js');
  const script = `
    const { ensureInclude, removeInclude } = require(${JSON.stringify(mod)});
    const [config, ours, n] = process.argv.slice(1);
    (async () => {
      for (let i = 0; i < Number(n); i++) {
        if (i % 3 === 2) await removeInclude(config); else await ensureInclude(config, ours + (i % 2), { platform: 'linux' });
      }
    })().catch((e) => { console.error(e.stack); process.exit(1); });`;
  const results = await Promise.all([0, 1, 2, 3].map((w) => runNode(script, [config, `/home/me/window${w}/config`, '40'])));
  for (const r of results) assert.equal(r.code, 0, r.stderr);
  const after = await fs.readFile(config, 'utf8');
  assert.equal(withoutInclude(after), user, 'the user bytes');
  assert.ok(after.split(BEGIN_MARKER).length <= 2, 'at most one block');
  assert.equal((await fs.stat(config)).mode & 0o777, 0o640, 'mode kept');
  assert.deepEqual(await fs.readdir(dir), ['config'], 'no temp file left');
});
