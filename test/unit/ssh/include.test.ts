import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import {
  ensureInclude,
  removeInclude,
  writeManagedFile,
  withInclude,
  withoutInclude,
  BEGIN_MARKER,
  END_MARKER,
} from '../../../src/ssh/include.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { type HasAfter, tempDir } from '../../support/tmp.js';

const OURS = '/home/me/.ssh/access-ssh/config';
const BLOCK = `${BEGIN_MARKER}\nInclude "${OURS}"\n${END_MARKER}\n`;
const BLOCK_CRLF = BLOCK.replace(/\n/g, '\r\n');

async function setupFile(t: HasAfter, content: string | Buffer, mode = 0o644): Promise<string> {
  const dir = tempDir(t);
  const p = path.join(dir, 'config');
  await fs.writeFile(p, content, { mode });
  await fs.chmod(p, mode);
  return p;
}

async function roundTrip(t: HasAfter, original: string | Buffer, expectedWith: string | Buffer): Promise<void> {
  const p = await setupFile(t, original);
  assert.deepEqual(await ensureInclude(p, OURS, { platform: 'linux' }), { changed: true });
  assert.deepEqual(await fs.readFile(p), Buffer.from(expectedWith as string));
  assert.deepEqual(await ensureInclude(p, OURS, { platform: 'linux' }), { changed: false }, 'idempotent');
  assert.deepEqual(await fs.readFile(p), Buffer.from(expectedWith as string));
  assert.deepEqual(await removeInclude(p), { changed: true });
  assert.deepEqual(await fs.readFile(p), Buffer.from(original as string));
  assert.deepEqual(await removeInclude(p), { changed: false });
  assert.equal((await fs.stat(p)).mode & 0o777, 0o644, 'mode kept');
}

test('LF file: block on top, rest untouched, removed exactly', async (t) => {
  const user = 'Host *\n  IdentityFile ~/.ssh/id_ed25519\n';
  await roundTrip(t, user, BLOCK + user);
});

test('CRLF file gets a CRLF block', async (t) => {
  const user = 'Host a\r\n  User x\r\n';
  await roundTrip(t, user, BLOCK_CRLF + user);
});

test('BOM stays first', async (t) => {
  const user = '\uFEFFHost a\n  User x\n';
  await roundTrip(t, user, '\uFEFF' + BLOCK + 'Host a\n  User x\n');
});

test('no trailing newline stays so', async (t) => {
  const user = 'Host a\n  User x';
  await roundTrip(t, user, BLOCK + user);
});

test('empty file', async (t) => {
  await roundTrip(t, '', BLOCK);
});

test('bytes that are not UTF-8 survive', async (t) => {
  const user = Buffer.concat([Buffer.from('# caf'), Buffer.from([0xe9, 0xff, 0xfe]), Buffer.from('\nHost a\n')]);
  const p = await setupFile(t, user);
  await ensureInclude(p, OURS, { platform: 'linux' });
  assert.deepEqual(await fs.readFile(p), Buffer.concat([Buffer.from(BLOCK), user]));
  await removeInclude(p);
  assert.deepEqual(await fs.readFile(p), user);
});

test('non-ASCII include path is written as UTF-8', async (t) => {
  const p = await setupFile(t, 'Host a\n');
  await ensureInclude(p, '/home/josé/.ssh/access-ssh/config', { platform: 'linux' });
  assert.equal(await fs.readFile(p, 'utf8'), `${BEGIN_MARKER}\nInclude "/home/josé/.ssh/access-ssh/config"\n${END_MARKER}\nHost a\n`);
});

test('missing file and directory: created 0600 / 0700', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, 'new', '.ssh', 'config');
  assert.deepEqual(await ensureInclude(p, OURS, { platform: 'linux' }), { changed: true });
  assert.equal(await fs.readFile(p, 'utf8'), BLOCK);
  assert.equal((await fs.stat(p)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.dirname(p))).mode & 0o777, 0o700);
  assert.deepEqual(await ensureInclude(p, OURS, { platform: 'linux' }), { changed: false });
  assert.deepEqual(await removeInclude(path.join(dir, 'absent')), { changed: false });
});

test('stale Include path inside our markers is replaced, nothing else changes', async (t) => {
  const user = 'Host a\r\n  User x';
  const p = await setupFile(t, `${BEGIN_MARKER}\r\nInclude "/old/place/config"\r\n${END_MARKER}\r\n${user}`, 0o600);
  assert.deepEqual(await ensureInclude(p, OURS, { platform: 'linux' }), { changed: true });
  assert.equal(await fs.readFile(p, 'utf8'), BLOCK_CRLF + user);
  assert.equal((await fs.stat(p)).mode & 0o777, 0o600);
});

test('a block preceded only by comments counts as the top; below a directive it is moved up', async () => {
  const commented = `# my config\n\n${BLOCK}Host a\n`;
  assert.equal(withInclude(commented, OURS, 'linux'), commented);
  const low = `Host *\n  User x\n${BLOCK}Host b\n`;
  assert.equal(withInclude(low, OURS, 'linux'), `${BLOCK}Host *\n  User x\nHost b\n`);
});

test('symlinked config: the target is edited, the link kept', async (t) => {
  const dir = tempDir(t);
  const target = path.join(dir, 'dotfiles', 'ssh_config');
  await fs.mkdir(path.dirname(target));
  await fs.writeFile(target, 'Host a\n', { mode: 0o640 });
  await fs.chmod(target, 0o640);
  const link = path.join(dir, 'config');
  await fs.symlink('dotfiles/ssh_config', link);
  await ensureInclude(link, OURS, { platform: 'linux' });
  assert.ok((await fs.lstat(link)).isSymbolicLink());
  assert.equal(await fs.readFile(target, 'utf8'), BLOCK + 'Host a\n');
  assert.equal((await fs.stat(target)).mode & 0o777, 0o640);
  await removeInclude(link);
  assert.ok((await fs.lstat(link)).isSymbolicLink());
  assert.equal(await fs.readFile(target, 'utf8'), 'Host a\n');
});

const BROKEN: [string, string, RegExp][] = [
  ['begin without end', `${BEGIN_MARKER}\nInclude "${OURS}"\nHost a\n`, /never ends/],
  ['end without begin', `Host a\n${END_MARKER}\n`, /never begins/],
  ['end before begin', `${END_MARKER}\nInclude "x"\n${BEGIN_MARKER}\n`, /comes before/],
  ['nested', `${BEGIN_MARKER}\n${BEGIN_MARKER}\nInclude "x"\n${END_MARKER}\n${END_MARKER}\n`, /2 begin and 2 end/],
  ['two blocks', `${BLOCK}Host a\n${BLOCK}`, /2 begin and 2 end/],
  ['extra line inside', `${BEGIN_MARKER}\nInclude "x"\nUser me\n${END_MARKER}\n`, /exactly one Include/],
  ['empty inside', `${BEGIN_MARKER}\n${END_MARKER}\n`, /exactly one Include/],
  ['not an Include inside', `${BEGIN_MARKER}\nHost *\n${END_MARKER}\n`, /exactly one Include/],
  ['altered marker', `# >>> Access SSH (managed) >>> edited\nInclude "x"\n${END_MARKER}\n`, /altered marker/],
];

for (const [name, content, rule] of BROKEN) {
  test(`broken marker (${name}): SshConfigError, file unchanged byte for byte`, async (t) => {
    const p = await setupFile(t, content, 0o600);
    const before = await fs.stat(p);
    for (const op of [() => ensureInclude(p, OURS, { platform: 'linux' }), () => removeInclude(p)]) {
      await assert.rejects(
        op(),
        (e: unknown) =>
          e instanceof SshConfigError &&
          e.code === 'broken-marker' &&
          rule.test(e.message) &&
          e.message.includes(p) &&
          e.hint.includes(BEGIN_MARKER),
      );
      assert.equal(await fs.readFile(p, 'utf8'), content);
      const after = await fs.stat(p);
      assert.equal(after.ino, before.ino, 'not even replaced');
      assert.equal(after.mtimeMs, before.mtimeMs);
    }
  });
}

test('ensureInclude refuses an unrepresentable path of ours, file untouched', async (t) => {
  const p = await setupFile(t, 'Host a\n');
  await assert.rejects(ensureInclude(p, '/tmp/a%b/config', { platform: 'linux' }), SshConfigError);
  await assert.rejects(ensureInclude(p, '/tmp/a"b/config', { platform: 'linux' }), SshConfigError);
  assert.equal(await fs.readFile(p, 'utf8'), 'Host a\n');
});

test('writeManagedFile: atomic, 0600, dir 0700, skips identical content, fixes a loose mode', async (t) => {
  const dir = tempDir(t);
  const p = path.join(dir, '.ssh', 'access-ssh', 'config');
  assert.deepEqual(await writeManagedFile(p, 'x\n'), { changed: true });
  assert.equal((await fs.stat(p)).mode & 0o777, 0o600);
  assert.equal((await fs.stat(path.dirname(p))).mode & 0o777, 0o700);
  assert.deepEqual(await writeManagedFile(p, 'x\n'), { changed: false });
  await fs.chmod(p, 0o666);
  assert.deepEqual(await writeManagedFile(p, 'x\n'), { changed: true });
  assert.equal((await fs.stat(p)).mode & 0o777, 0o600);
  assert.deepEqual(await fs.readdir(path.dirname(p)), ['config'], 'no temp files left');
});

// ---- property: the rest of any config survives ----------------------------

const lineArb = fc.oneof(
  fc.constantFrom(
    'Host *',
    '  User x',
    'Include foo',
    '# comment',
    '',
    '   ',
    'Match all',
    '\t IdentityFile ~/.ssh/id',
    '# >>> not ours',
    '#<<<',
  ),
  fc.string({ unit: 'grapheme', maxLength: 30 }).map((s) => s.replace(/[\r\n]/g, '')),
);
const configArb = fc
  .record({
    bom: fc.boolean(),
    lines: fc.array(lineArb, { maxLength: 12 }),
    eols: fc.array(fc.constantFrom('\n', '\r\n'), { minLength: 12, maxLength: 12 }),
    finalEol: fc.boolean(),
  })
  .map(
    ({ bom, lines, eols, finalEol }) =>
      (bom ? '\uFEFF' : '') + lines.map((l, i) => l + (i < lines.length - 1 || finalEol ? eols[i] : '')).join(''),
  )
  .filter((c) => !/^\s*#\s*(>>>|<<<)\s*Access SSH/im.test(c.replace(/\r/g, '')));

test('property: withInclude/withoutInclude keep every other byte of arbitrary configs', () => {
  fc.assert(
    fc.property(configArb, (config) => {
      const added = withInclude(config, OURS, 'linux');
      const bom = config.startsWith('\uFEFF') ? '\uFEFF' : '';
      const eol = /\r?\n/.exec(config.slice(bom.length))?.[0] ?? '\n';
      assert.equal(added, bom + [BEGIN_MARKER, `Include "${OURS}"`, END_MARKER].map((l) => l + eol).join('') + config.slice(bom.length));
      assert.equal(withInclude(added, OURS, 'linux'), added);
      assert.equal(withoutInclude(added), config);
      assert.equal(withoutInclude(config), config);
      const moved = withInclude(added, '/elsewhere/config', 'linux');
      assert.equal(withoutInclude(moved), config);
    }),
    { numRuns: Number(process.env['ACCESS_SSH_PROPERTY_RUNS'] ?? 300) },
  );
});

// Issue 11, item 7: a config that cannot be written names the file and says what to do.
test('a config that is a folder: SshConfigError naming it (EISDIR), nothing created beside it', async (t) => {
  const dir = tempDir(t);
  const config = path.join(dir, 'config');
  await fs.mkdir(config);
  await assert.rejects(
    ensureInclude(config, '/x/ours'),
    (e: unknown) =>
      e instanceof SshConfigError &&
      e.code === 'file-error' &&
      e.message.includes(config) &&
      /EISDIR/.test(e.message) &&
      /is a folder/.test(e.hint),
  );
  assert.deepEqual(await fs.readdir(dir), ['config']);
});
