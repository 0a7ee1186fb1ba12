// Property tests of the ssh config editor (issue #4, item 1): over generated user
// configs (comments, CRLF/LF/mixed, tabs, Include, Match, Host * blocks, no final
// newline, BOM, non-UTF-8 bytes, very large files, missing files and directories,
// symlinks), every edit we make (add, update, remove, repeat, remove all) keeps every
// byte outside our block, is idempotent and keeps the file mode; a broken or doubled
// marker is an SshConfigError, never a guess.
//
// Case counts (the defaults run in CI; ACCESS_SSH_PROPERTY_SCALE multiplies them):
//   pure withInclude/withoutInclude, block anywhere ......... 6000
//   pure edit sequences (add/update/remove/repeat/remove all) 3000
//   broken and doubled markers .............................. 1500
//   real file system (modes, symlinks, missing dirs, bytes) .  300
//   very large files (pure + file system) ...................    6
//                                                     total  10806
// The real `ssh -G` reads 24 more: test/integration/ssh/property.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { runs, SCALE, Tally } from '../../support/figures.js';
import { BEGIN_MARKER, END_MARKER, ensureInclude, removeInclude, withInclude, withoutInclude } from '../../../src/ssh/include.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { tempDir } from '../../support/tmp.js';

/** Cases run by this file, reported at the end (the README quotes the figure). */
const cases = new Tally();
const count = (name: string): void => cases.note(name);

// ---------------------------------------------------------------- generators

const EOL = fc.constantFrom('\n', '\r\n');
/** Lines a real user config has, plus awkward ones. Never a line break inside. */
const lineText = fc
  .oneof(
    {
      weight: 6,
      arbitrary: fc.constantFrom(
        'Host *',
        'Host a b !c',
        'Host *.example.com',
        '  User x',
        '\tUser tabbed',
        ' \t IdentityFile ~/.ssh/id_ed25519',
        'Include ~/.ssh/config.d/*',
        'Include "/etc/ssh/with space"',
        'Match all',
        'Match host x exec "test -f /tmp/y"',
        'Match originalhost cfpipe-a,a exec "/bin/true"',
        '# comment',
        '#',
        '  # indented comment',
        '',
        ' ',
        '\t',
        '   \t ',
        'ProxyCommand ssh -W %h:%p jump',
        'HostName=example.com',
        'User=me # trailing',
        '# café ☕',
        '# >>> conda initialize >>>',
        '# <<< conda initialize <<<',
        '#>>>',
        '# >>> Access',
        'Host cfpipe-ssh.example.com',
        'IdentityFile "~/.cloudflared/x-cf_key"',
        'Include "/home/me/.ssh/access-ssh/config"',
        'line with a lone \r inside',
        'trailing space  ',
        '\u00a0nbsp',
      ),
    },
    { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => s.replace(/[\r\n]/g, ' ')) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 20 }).map((s) => s.replace(/[\r\n]/g, '~')) },
  )
  .filter((t) => !/^\s*#\s*(>>>|<<<)\s*Access SSH\b/i.test(t));

interface UserLines {
  lines: { text: string; eol: string }[];
}
/** A user config as lines; the last one may lack its newline. */
const userLines: fc.Arbitrary<UserLines> = fc
  .record({
    lines: fc.array(fc.record<{ text: string; eol: string }>({ text: lineText, eol: EOL }), { maxLength: 24 }),
    finalEol: fc.boolean(),
  })
  .map(({ lines, finalEol }) => {
    if (lines.length > 0 && !finalEol) lines[lines.length - 1] = { ...lines[lines.length - 1]!, eol: '' };
    // A line without newline that is empty would vanish: give it some text.
    if (lines.length > 0 && lines[lines.length - 1]!.eol === '' && lines[lines.length - 1]!.text === '')
      lines[lines.length - 1]!.text = 'x';
    return { lines };
  });

const join = (ls: readonly { text: string; eol: string }[]): string => ls.map((l) => l.text + l.eol).join('');

/** Include paths as they can be: spaces, quotes, shell characters, non-ASCII. */
const PATH_CHARS = [...'abcXYZ019._-/ ', "'", '$', '(', ')', '`', '#', '&', ';', '=', '@', '!', ',', '+', 'é', 'ü', '字', '☃'];
const ourPath = fc
  .array(fc.constantFrom(...PATH_CHARS), { minLength: 1, maxLength: 30 })
  .map((cs) => `/home/me/${cs.join('')}/config`)
  .filter((p) => !p.includes('${') && !p.split('/').includes('..'));

const bomArb = fc.constantFrom('', '\uFEFF');

function firstEol(text: string): string {
  return /\r?\n/.exec(text)?.[0] ?? '\n';
}
const isTopish = (text: string): boolean => text.trim() === '' || text.trim().startsWith('#');
const block = (incl: string, eol: string): string => [BEGIN_MARKER, incl, END_MARKER].map((l) => l + eol).join('');
const inc = (p: string): string => `Include "${p}"`;

// ---------------------------------------------------------------- pure

test(`pure: block inserted, replaced, moved or removed; every other byte kept (${runs(6000)} cases)`, () => {
  fc.assert(
    fc.property(
      bomArb,
      userLines,
      fc.option(
        fc.record({
          at: fc.nat(),
          eols: fc.tuple(EOL, EOL, fc.constantFrom('\n', '\r\n', '')),
          old: fc.oneof(ourPath, fc.constant('/x/y')),
        }),
        { nil: undefined },
      ),
      ourPath,
      (bom, u, existing, wanted) => {
        count('pure');
        const user = join(u.lines);
        if (!existing) {
          const c = bom + user;
          const added = withInclude(c, wanted, 'linux');
          assert.equal(added, bom + block(inc(wanted), firstEol(user)) + user);
          assert.equal(withInclude(added, wanted, 'linux'), added, 'idempotent');
          assert.equal(withoutInclude(c), c, 'nothing to remove');
          assert.equal(withoutInclude(added), c, 'removed exactly');
          return;
        }
        // Our block somewhere on a line boundary of the user's file (a cut line after it only at the end).
        const maxAt = u.lines.length > 0 && u.lines[u.lines.length - 1]!.eol === '' ? u.lines.length - 1 : u.lines.length;
        const at = existing.at % (maxAt + 1);
        const [eb, ei, eeRaw] = existing.eols;
        const ee = at === u.lines.length ? eeRaw : eeRaw || '\n';
        const u1 = join(u.lines.slice(0, at));
        const u2 = join(u.lines.slice(at));
        const b = BEGIN_MARKER + eb + inc(existing.old) + ei + END_MARKER + ee;
        const c = bom + u1 + b + u2;
        assert.equal(withoutInclude(c), bom + u1 + u2, 'remove takes exactly the block');
        assert.equal(withoutInclude(withoutInclude(c)), bom + u1 + u2, 'remove is idempotent');
        const got = withInclude(c, wanted, 'linux');
        const top = u.lines.slice(0, at).every((l) => isTopish(l.text));
        if (top) {
          const expected = existing.old === wanted ? c : bom + u1 + BEGIN_MARKER + eb + inc(wanted) + ei + END_MARKER + ee + u2;
          assert.equal(got, expected, 'block below comments only: replaced in place');
        } else {
          assert.equal(got, bom + block(inc(wanted), firstEol(u1 + b + u2)) + u1 + u2, 'block below a directive: moved to the top');
        }
        assert.equal(withInclude(got, wanted, 'linux'), got, 'add is idempotent');
        assert.equal(withoutInclude(got), bom + u1 + u2, 'the user bytes, whatever the edit');
      },
    ),
    { numRuns: runs(6000) },
  );
});

type Op = { kind: 'add'; path: string } | { kind: 'remove' };
const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: ourPath.map((p) => ({ kind: 'add' as const, path: p })) },
  { weight: 1, arbitrary: fc.constant({ kind: 'remove' as const }) },
);

test(`pure: sequences of add / update / remove / repeat, then remove all (${runs(3000)} cases)`, () => {
  fc.assert(
    fc.property(bomArb, userLines, fc.array(opArb, { minLength: 1, maxLength: 12 }), (bom, u, ops) => {
      count('sequence');
      const original = bom + join(u.lines);
      let cur = original;
      let current: string | undefined;
      for (const op of ops) {
        const before = cur;
        if (op.kind === 'add') {
          cur = withInclude(cur, op.path, 'linux');
          assert.equal(withInclude(cur, op.path, 'linux'), cur, 'repeat add: no change');
          if (current === op.path) assert.equal(cur, before, 'the same add again changes nothing');
          current = op.path;
          const body = cur.slice(bom.length);
          assert.ok(body.startsWith(BEGIN_MARKER), 'block at the very top');
          assert.equal(body.split(BEGIN_MARKER).length, 2, 'exactly one block');
          assert.ok(body.includes(inc(op.path)), 'our path');
        } else {
          cur = withoutInclude(cur);
          assert.equal(withoutInclude(cur), cur, 'repeat remove: no change');
          current = undefined;
          assert.equal(cur, original, 'after remove: the original bytes');
        }
        assert.equal(withoutInclude(cur), original, 'the user bytes never change');
      }
      const all = withoutInclude(cur);
      assert.equal(all, original);
      assert.ok(!all.includes(BEGIN_MARKER) && !all.includes(END_MARKER), 'remove all leaves no marker');
    }),
    { numRuns: runs(3000) },
  );
});

// ---------------------------------------------------------------- broken markers

const goodBlock = (eol: string): string[] => [BEGIN_MARKER, 'Include "/a/b"', END_MARKER].map((l) => l + eol);
const ALTERED = [
  '# >>> access ssh (managed) >>>',
  '#>>> Access SSH (managed) >>>',
  '# >>> Access SSH (managed)',
  '# <<< Access SSH (managed) <<< x',
  '  #  <<<  Access SSH',
  '# >>> ACCESS SSH (MANAGED) >>>',
  '# <<< Access SSH (unmanaged) <<<',
];
type Damage = (eol: string) => string[];
const DAMAGE: Record<string, Damage> = {
  'begin only': (e) => [BEGIN_MARKER + e, 'Include "/a/b"' + e],
  'end only': (e) => ['Include "/a/b"' + e, END_MARKER + e],
  'end before begin': (e) => [END_MARKER + e, 'Include "/a/b"' + e, BEGIN_MARKER + e],
  'two blocks': (e) => [...goodBlock(e), 'Host x' + e, ...goodBlock(e)],
  'doubled begin': (e) => [BEGIN_MARKER + e, ...goodBlock(e)],
  'doubled end': (e) => [...goodBlock(e), END_MARKER + e],
  nested: (e) => [BEGIN_MARKER + e, ...goodBlock(e), END_MARKER + e],
  'empty block': (e) => [BEGIN_MARKER + e, END_MARKER + e],
  'two lines inside': (e) => [BEGIN_MARKER + e, 'Include "/a/b"' + e, 'User x' + e, END_MARKER + e],
  'not an Include inside': (e) => [BEGIN_MARKER + e, 'Host *' + e, END_MARKER + e],
  'altered marker': (e) => [ALTERED[e.length % ALTERED.length]! + e, 'Include "/a/b"' + e, END_MARKER + e],
};

test(`broken or doubled markers: an SshConfigError naming the lines, never a guess (${runs(1500)} cases)`, () => {
  fc.assert(
    fc.property(
      bomArb,
      userLines,
      fc.constantFrom(...Object.keys(DAMAGE)),
      fc.nat(),
      EOL,
      fc.constantFrom(...ALTERED),
      ourPath,
      (bom, u, kind, atRaw, eol, altered, wanted) => {
        count('broken');
        const ls = u.lines.map((l) => l.text + (l.eol || '\n'));
        const at = atRaw % (ls.length + 1);
        let damage = DAMAGE[kind]!(eol);
        if (kind === 'altered marker') damage = [altered + eol, ...damage.slice(1)];
        const c = bom + [...ls.slice(0, at), ...damage, ...ls.slice(at)].join('');
        for (const op of [() => withInclude(c, wanted, 'linux', '/p/config'), () => withoutInclude(c, '/p/config')]) {
          assert.throws(
            op,
            (e: unknown) =>
              e instanceof SshConfigError &&
              e.code === 'broken-marker' &&
              e.message.includes('/p/config') &&
              /line/.test(e.message) &&
              e.hint.includes(BEGIN_MARKER) &&
              !e.message.includes('\n'),
          );
        }
      },
    ),
    { numRuns: runs(1500) },
  );
});

// ---------------------------------------------------------------- real file system

type Where = 'plain' | 'missing-file' | 'missing-dir' | 'symlink' | 'symlink-chain' | 'dangling-symlink';
const whereArb = fc.constantFrom<Where>('plain', 'plain', 'missing-file', 'missing-dir', 'symlink', 'symlink-chain', 'dangling-symlink');
/** Raw bytes: text lines, or arbitrary bytes (not UTF-8), with CR/LF endings. */
const rawLine = fc.oneof(
  lineText.map((t) => Buffer.from(t, 'utf8')),
  fc.uint8Array({ maxLength: 16 }).map((a) => Buffer.from(a.filter((b) => b !== 0x0a && b !== 0x0d))),
);
const rawUser = fc
  .record({ lines: fc.array(fc.tuple(rawLine, EOL), { maxLength: 12 }), finalEol: fc.boolean(), bom: fc.boolean() })
  .map(({ lines, finalEol, bom }) => {
    const parts = lines.map(([b, e], i) => Buffer.concat([b, Buffer.from(i < lines.length - 1 || finalEol ? e : '')]));
    return Buffer.concat([Buffer.from(bom ? '\uFEFF' : ''), ...parts]);
  })
  .filter((b) => !/^\s*#\s*(>>>|<<<)\s*Access SSH\b/im.test(b.toString('latin1').replace(/\r/g, '')));

async function leftovers(dir: string): Promise<string[]> {
  const names = await fs.readdir(dir).catch(() => [] as string[]);
  return names.filter((n) => n.endsWith('.tmp'));
}

test(`file system: bytes, modes, symlinks, missing files and directories (${runs(300)} cases)`, async (t) => {
  const root = tempDir(t, 'access-ssh-prop-');
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(
        rawUser,
        whereArb,
        fc.constantFrom(0o600, 0o640, 0o644, 0o400, 0o444, 0o664),
        fc.array(opArb, { minLength: 1, maxLength: 6 }),
        async (user, where, mode, ops) => {
          count('fs');
          const dir = path.join(root, String(n++));
          await fs.mkdir(dir);
          let config = path.join(dir, 'config');
          let target = config;
          const exists = where !== 'missing-file' && where !== 'missing-dir' && where !== 'dangling-symlink';
          if (where === 'missing-dir') config = target = path.join(dir, 'new', '.ssh', 'config');
          if (where.includes('symlink')) {
            await fs.mkdir(path.join(dir, 'dotfiles'));
            target = path.join(dir, 'dotfiles', 'ssh_config');
            if (where === 'symlink-chain') {
              await fs.symlink('dotfiles/ssh_config', path.join(dir, 'middle'));
              await fs.symlink(path.join(dir, 'middle'), config);
            } else {
              await fs.symlink('dotfiles/ssh_config', config);
            }
          }
          if (exists) {
            await fs.writeFile(target, user);
            await fs.chmod(target, mode);
          }
          const original = exists ? user : undefined;
          const wantMode = exists ? mode : 0o600;
          let current: string | undefined;
          for (const op of ops) {
            const before = await fs.readFile(target).catch(() => undefined);
            const inoBefore = before ? (await fs.stat(target)).ino : undefined;
            let r: { changed: boolean };
            try {
              r = op.kind === 'add' ? await ensureInclude(config, op.path, { platform: 'linux' }) : await removeInclude(config);
            } catch (e) {
              // A file its owner made read-only is refused with the reason, never replaced.
              assert.ok(exists && (mode & 0o200) === 0, `only a read-only file is refused: ${String(e)}`);
              assert.ok(e instanceof SshConfigError && e.code === 'read-only', String(e));
              assert.ok(e.message.includes(target) && /read-only/.test(e.message) && /chmod u\+w/.test(e.hint), e.message);
              assert.deepEqual(await fs.readFile(target), before, 'a refused edit changes nothing');
              assert.equal((await fs.stat(target)).mode & 0o777, mode, 'nor the mode');
              assert.deepEqual(await leftovers(path.dirname(target)), [], 'no temp file left');
              continue;
            }
            const after = await fs.readFile(target).catch(() => undefined);
            if (op.kind === 'add') {
              assert.ok(after, 'the file exists after an add');
              assert.equal(r.changed, current !== op.path, 'changed only when it had to');
              current = op.path;
              const text = after.toString('latin1');
              const body = text.startsWith('\u00EF\u00BB\u00BF') ? text.slice(3) : text;
              assert.ok(body.startsWith(BEGIN_MARKER), 'block first (after a BOM)');
              assert.ok(after.includes(Buffer.from(inc(op.path), 'utf8')), 'our path, as UTF-8');
            } else {
              assert.equal(r.changed, current !== undefined);
              current = undefined;
              if (original === undefined) assert.deepEqual(after ?? Buffer.alloc(0), Buffer.alloc(0), 'a file we created is left empty');
              else assert.deepEqual(after, original, 'remove restores the original bytes');
            }
            if (!r.changed && before) {
              assert.deepEqual(after, before, 'no change: same bytes');
              assert.equal((await fs.stat(target)).ino, inoBefore, 'no change: not even rewritten');
            }
            if (after) {
              assert.equal((await fs.stat(target)).mode & 0o777, wantMode, 'mode kept (0600 when new)');
              if (original) {
                // The user's bytes are what is left without our block.
                assert.deepEqual(Buffer.from(withoutInclude(after.toString('latin1')), 'latin1'), original);
              }
            }
            if (where.includes('symlink')) assert.ok((await fs.lstat(config)).isSymbolicLink(), 'the link is kept');
            assert.deepEqual(await leftovers(path.dirname(target)), [], 'no temp file left');
          }
          if (where === 'missing-dir' && current !== undefined)
            assert.equal((await fs.stat(path.dirname(config))).mode & 0o777, 0o700, 'new directory 0700');
        },
      ),
      { numRuns: runs(300) },
    );
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

// ---------------------------------------------------------------- very large files

// How fast is `npm run bench`'s question; a hang fails at the test's timeout.
test('very large files (2 MiB, 60k lines, CRLF, no final newline): kept byte for byte', { timeout: 300_000 }, async (t) => {
  const dir = tempDir(t);
  try {
    for (const [eol, bom] of [
      ['\n', ''],
      ['\r\n', '\uFEFF'],
      ['\r\n', ''],
    ] as const) {
      count('large');
      const lines: string[] = [];
      for (let i = 0, size = 0; size < 2 * 1024 * 1024; i++) {
        const l = i % 7 === 0 ? `Host h${i} *.x${i}.example.com` : i % 11 === 0 ? `# comment ${i} café` : `\tUser u${i}`;
        lines.push(l);
        size += l.length + eol.length;
      }
      const user = bom + lines.join(eol); // no final newline
      const added = withInclude(user, '/o/config', 'linux');
      assert.equal(added, bom + block(inc('/o/config'), eol) + user.slice(bom.length));
      assert.equal(withoutInclude(added), user);
      const p = path.join(dir, `big${eol.length}${bom.length}`);
      await fs.writeFile(p, user, { mode: 0o640 });
      await fs.chmod(p, 0o640);
      count('large');
      await ensureInclude(p, '/o/config', { platform: 'linux' });
      await ensureInclude(p, '/o/other', { platform: 'linux' });
      await removeInclude(p);
      assert.deepEqual(await fs.readFile(p), Buffer.from(user, 'utf8'));
      assert.equal((await fs.stat(p)).mode & 0o777, 0o640);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('figures: at least 10,000 property cases ran in this file', { skip: SCALE < 1 ? 'scaled down' : false }, () => {
  cases.report('ssh config property cases');
  assert.ok(cases.total >= 10_000, `only ${cases.total} cases`);
});
