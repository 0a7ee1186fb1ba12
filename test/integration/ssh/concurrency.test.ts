// Many of our writers at once (issue #4, item 2): four Node processes editing the same
// ssh config leave one intact block or none, and the user's bytes intact.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { BEGIN_MARKER, withoutInclude } from '../../../src/ssh/include.js';
import { tempDir } from '../../support/tmp.js';

function runNode(script: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, ['-e', script, ...args], { timeout: 120_000 }, (err, _o, stderr) => {
      resolve({ code: err ? 1 : 0, stderr: String(stderr) });
    });
  });
}

test('four processes (windows) adding, updating and removing at once: one intact block or none, user bytes intact', async (t) => {
  const dir = tempDir(t);
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
