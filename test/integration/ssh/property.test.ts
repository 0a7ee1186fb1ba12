// The ssh config editor's property tests (test/unit/ssh/property.test.ts), read back by
// the real OpenSSH client: over 24 generated user configs with a `Host *` that would win
// otherwise, our Include at any awkward path wins, and goes away cleanly.
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { runs, Tally } from '../../support/figures.js';
import { ensureInclude, removeInclude } from '../../../src/ssh/include.js';
import { tempDir } from '../../support/tmp.js';
import { sshG } from '../../support/openssh.js';

/** Cases run by this file, reported at the end. */
const cases = new Tally();

// ---------------------------------------------------------------- generators

const EOL = fc.constantFrom('\n', '\r\n');

/** Include paths as they can be: spaces, quotes, shell characters, non-ASCII. */
const PATH_CHARS = [...'abcXYZ019._-/ ', "'", '$', '(', ')', '`', '#', '&', ';', '=', '@', '!', ',', '+', 'é', 'ü', '字', '☃'];
const ourPath = fc
  .array(fc.constantFrom(...PATH_CHARS), { minLength: 1, maxLength: 30 })
  .map((cs) => `/home/me/${cs.join('')}/config`)
  .filter((p) => !p.includes('${') && !p.split('/').includes('..'));

// ---------------------------------------------------------------- pure

// ---------------------------------------------------------------- real ssh -G

/** Configs OpenSSH accepts, with a `Host *` that would win if our Include were not first. */
const sshLine = fc.constantFrom(
  '# a comment',
  '',
  '\t',
  'Host *',
  '  User other',
  '\tUser other',
  'Host other.example',
  '  Port 2222',
  'Match all',
  '  ForwardAgent no',
  'Include /nonexistent/dir/*',
  'Host *.example.com !x.example.com',
  '  IdentityFile ~/.ssh/id_other',
);
const sshConfig = fc
  .record({ lines: fc.array(fc.tuple(sshLine, EOL), { maxLength: 10 }), finalEol: fc.boolean() })
  .map(({ lines, finalEol }) => {
    const all: [string, string][] = [['Host *', '\n'], ['  User other', '\n'], ...lines];
    return all.map(([l, e], i) => l + (i < all.length - 1 || finalEol ? e : '')).join('');
  });

test(`real ssh -G: our Include, at any awkward path, wins over the user's Host * and goes away cleanly (${runs(24)} cases)`, async (t) => {
  const root = tempDir(t, 'access-ssh-prop-ssh-');
  let n = 0;
  try {
    await fc.assert(
      fc.asyncProperty(sshConfig, ourPath, async (user, ours) => {
        cases.note('ssh-G');
        const dir = path.join(root, String(n++));
        const ourFile = path.join(dir, ours);
        await fs.mkdir(path.dirname(ourFile), { recursive: true });
        await fs.writeFile(ourFile, 'Host t\n  User fromours\n', { mode: 0o600 });
        const config = path.join(dir, 'config');
        await fs.writeFile(config, user);
        await ensureInclude(config, ourFile, { platform: 'linux' });
        assert.deepEqual((await sshG(config, 't')).get('user'), ['fromours'], `${JSON.stringify(ourFile)} in ${JSON.stringify(user)}`);
        assert.deepEqual((await sshG(config, 'u')).get('user'), ['other']);
        await removeInclude(config);
        assert.equal(await fs.readFile(config, 'utf8'), user);
        assert.deepEqual((await sshG(config, 't')).get('user'), ['other']);
      }),
      { numRuns: runs(24) },
    );
  } finally {
    await fs.rm(root, { recursive: true, force: true });
  }
});

after(() => cases.report('ssh config property cases read by the real ssh'));
