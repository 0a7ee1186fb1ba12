// The editor's reading of ~/.cloudflared (src/hosts/token-files.ts) on real files: tokens
// by kind, host and team, certificates through the light reader, and only what changed
// re-read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { appTokenFileName, certKeyFile, orgTokenFileName } from '../../../src/access/paths.js';
import { TokenFiles } from '../../../src/hosts/token-files.js';
import { writeUserCertificate } from '../../support/ssh-cert.js';
import { tempDir } from '../../support/tmp.js';
import { fakeJwt, nowSeconds } from '../access/helpers.js';
import { hostname } from '../../support/hostname.js';

const TEAM = 'sandbox.cloudflareaccess.com';

function setup(t: Parameters<typeof tempDir>[0]) {
  const dir = tempDir(t);
  chmodSync(dir, 0o700);
  const debug: string[] = [];
  const full: string[] = [];
  const files = new TokenFiles(dir, {
    log: { debug: (m: string) => void debug.push(m) },
    readFullCertificate: (_d, host) => {
      full.push(host);
      return Promise.resolve(undefined);
    },
  });
  const token = (name: string, claims: Record<string, unknown>) => {
    writeFileSync(join(dir, name), fakeJwt({ exp: nowSeconds() + 3600, iss: `https://${TEAM}`, ...claims }), { mode: 0o600 });
  };
  return { dir, files, debug, full, token };
}

test('tokens by kind: an org token is its team, an app token its host (even with dashes) and its issuer team', async (t) => {
  const { files, token } = setup(t);
  token(orgTokenFileName(TEAM), { aud: [TEAM], email: 'jdoe@example.com' });
  token(appTokenFileName(hostname('ssh-a.example.com'), 'f00d'), { aud: ['f00d'], email: 'jdoe@example.com' });
  assert.equal(await files.scan(), true);
  const got = files
    .tokens()
    .map((x) => `${x.kind} ${x.appHostname ?? '-'} ${x.authDomain ?? '-'} ${x.email ?? '-'}`)
    .sort();
  assert.deepEqual(got, ['app ssh-a.example.com sandbox.cloudflareaccess.com jdoe@example.com', `org - ${TEAM} jdoe@example.com`]);
});

test('a foreign issuer gives no team; an e-mail claim with control characters is shown escaped', async (t) => {
  const { files, token } = setup(t);
  token(appTokenFileName(hostname('x.example.com'), 'a1'), {
    aud: ['a1'],
    iss: 'https://evil.example.com',
    email: 'a\u001b[31m@example.com',
  });
  await files.scan();
  const [x] = files.tokens();
  assert.equal(x?.authDomain, undefined);
  assert.doesNotMatch(x?.email ?? '', /\u001b/);
});

test('only changed files are re-read; a removed one is gone; an unreadable one is skipped with a debug line', async (t) => {
  const { dir, files, token, debug } = setup(t);
  const name = appTokenFileName(hostname('h.example.com'), 'a1');
  token(name, { aud: ['a1'], email: 'one@example.com' });
  await files.scan();
  assert.equal(await files.scan(), false, 'nothing changed');
  token(name, { aud: ['a1'], email: 'someone-else@example.com' });
  assert.equal(await files.scan(), true);
  assert.equal(files.tokens()[0]?.email, 'someone-else@example.com');
  writeFileSync(join(dir, appTokenFileName(hostname('bad.example.com'), 'a2')), 'not a jwt', { mode: 0o600 });
  rmSync(join(dir, name));
  assert.equal(await files.scan(), true);
  assert.deepEqual(files.tokens(), []);
  assert.ok(debug.some((m) => m.startsWith('Skipping bad.example.com-a2-token: ')));
});

test('certificates: read by the light reader with their principals; without a .pub the full check is asked', async (t) => {
  const { dir, files, full } = setup(t);
  writeUserCertificate(dir, 'one.example.com', { validFromS: -60, validUntilS: 300 });
  writeUserCertificate(dir, 'two.example.com');
  rmSync(`${certKeyFile(dir, hostname('two.example.com'))}.pub`);
  await files.scan();
  const one = files.cert(hostname('one.example.com'));
  assert.deepEqual(one?.principals, ['jdoe']);
  assert.ok(one && one.validBefore - one.validAfter === 360);
  assert.deepEqual(full, ['two.example.com']);
  assert.equal(files.cert(hostname('two.example.com')), undefined);
  assert.deepEqual(files.tokens(), [], 'keys and certificates are no tokens');
});

test('a missing directory is an empty one', async (t) => {
  const { dir } = setup(t);
  const files = new TokenFiles(join(dir, 'absent'), {
    log: { debug: () => undefined },
    readFullCertificate: () => Promise.resolve(undefined),
  });
  assert.equal(await files.scan(), false);
  assert.deepEqual(files.tokens(), []);
});
