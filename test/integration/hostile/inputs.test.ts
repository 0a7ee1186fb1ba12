// Hostile input (issue #4, item 3) against the real programs: key and helper paths
// with $(…), backticks, #, %, spaces, non-ASCII quoted so that the real `ssh -G` / ssh
// reads back exactly the value, and cert_sign answers (certificates made by ssh-keygen)
// that try to smuggle lines or another identity.
import { parseAppToken } from '../../../src/access/jwt.js';
import { after, test } from 'node:test';
import assert from 'node:assert/strict';
import { Tally } from '../../support/figures.js';
import { assertClear } from '../../unit/hostile/helpers.js';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sshpk from 'sshpk';
import { issueCertificate } from '../../../src/access/cert-issue.js';
import { signCertificate } from '../../../src/access/cert-sign.js';
import { AccessError } from '../../../src/access/errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../../src/access/http.js';
import { certFile, certKeyFile } from '../../../src/access/paths.js';
import type { AppToken } from '../../../src/access/types.js';
import { sshUserFor } from '../../../src/hosts/hosts.js';
import { hostOptions, renderEntries, type RenderOptions } from '../../../src/ssh/entries.js';
import { quoteConfigPath } from '../../../src/ssh/quote.js';
import { SshConfigError, validateHostname } from '../../../src/ssh/validate.js';
import { tempDir } from '../../support/tmp.js';
import { fakeHelper, readEvidence, run, SSH, sshG } from '../../support/openssh.js';
import { sshArgs } from '../../support/ssh-args.js';
import { hostname } from '../../support/hostname.js';

/** Inputs tried per class, reported at the end (the README quotes them). */
const tried = new Tally();
const note = (cls: string): void => tried.note(cls);

// ---------------------------------------------------------------- paths, checked by the real OpenSSH

const PATH_DIRS = [
  'with space',
  '$(touch PWNED)',
  '`touch PWNED`',
  'hash#dir',
  'per%cent',
  'ünï©ødé',
  'semi;colon&amp',
  'paren(s)',
  'tilde~x',
  'dollar$HOME',
  "sq'uote",
];

// ---------------------------------------------------------------- cert_sign answers

const ISS = 'https://sandbox.cloudflareaccess.com';
function jwt(claims: Record<string, unknown>): AppToken {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return parseAppToken(`${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2ln`).token;
}
const TOKEN = jwt({ iss: ISS, aud: ['aud1'], email: 'jdoe@example.com', exp: Math.floor(Date.now() / 1000) + 3600 });

/** An HttpClient stand-in whose cert_sign answer is made by `answer` from the posted public key. */
function fakeEdge(answer: (publicKey: string) => { status: number; body: string }): HttpClient {
  return {
    async request(req: HttpRequest): Promise<HttpResponse> {
      const posted = JSON.parse(String(req.body)) as { public_key: string };
      const a = answer(posted.public_key);
      return {
        status: a.status,
        headers: { 'content-type': 'application/json' },
        setCookies: [],
        body: Buffer.from(a.body),
        url: new URL(String(req.url)),
      };
    },
  } as unknown as HttpClient;
}

test('key and helper paths with $(…), backticks, #, %, spaces, non-ASCII: quoted so that ssh reads back exactly; nothing is run', async (t) => {
  const dir = tempDir(t, 'hostile-paths-');
  try {
    for (const d of PATH_DIRS) {
      note('path: helper and key directory');
      const base = path.join(dir, d);
      const helper = path.join(base, 'access-ssh');
      const evidence = path.join(dir, `evidence-${PATH_DIRS.indexOf(d)}`);
      const opts: RenderOptions = { helper, keyDir: path.join(base, 'keys'), platform: 'linux', nonInteractive: true };
      if (d.includes("'")) {
        // A single quote cannot be carried by the Match exec line: refused, clearly.
        assert.throws(
          () => hostOptions({ hostname: hostname('ok.example.com') }, opts),
          (e: unknown) => {
            assertClear(e, d);
            return e instanceof SshConfigError && /single quote/.test(e.message);
          },
        );
        // As a key path alone it is fine.
        const q = quoteConfigPath(path.join(base, 'k'), 'linux');
        const cfg = path.join(dir, 'sq-config');
        fs.writeFileSync(cfg, `Host t\n  IdentityFile ${q}\n`);
        assert.deepEqual((await sshG(cfg, 't')).get('identityfile'), [path.join(base, 'k')]);
        continue;
      }
      await fakeHelper(helper, evidence);
      const cfg = path.join(dir, `config-${PATH_DIRS.indexOf(d)}`);
      fs.writeFileSync(cfg, renderEntries([{ hostname: hostname('ok.example.com'), user: 'jdoe' }], opts));
      const g = await sshG(cfg, 'cfpipe-ok.example.com', ['-o', 'BatchMode=yes']);
      // ssh -G shows paths before their %-expansion, which turns %% back into %.
      const expanded = (v: string[] | undefined): string[] | undefined => v?.map((x) => x.replace(/%%/g, '%'));
      assert.deepEqual(expanded(g.get('identityfile')), [path.join(base, 'keys', 'ok.example.com-cf_key')], d);
      assert.deepEqual(expanded(g.get('certificatefile')), [path.join(base, 'keys', 'ok.example.com-cf_key-cert.pub')], d);
      assert.deepEqual(g.get('user'), ['jdoe']);
      // ssh -G ran the Match exec: our helper, at that path, with exactly these arguments.
      assert.deepEqual(await readEvidence(evidence), ['ssh-gen|--hostname|ok.example.com|--non-interactive|--quiet-signed-out'], d);
      // The ProxyCommand, run by a real connection attempt.
      await run(SSH, sshArgs({ config: cfg, connectTimeout: 5, destination: 'cfpipe-ok.example.com', command: ['true'] }), 20_000);
      assert.ok(
        (await readEvidence(evidence)).includes('ssh|--hostname|ok.example.com|--non-interactive'),
        `${d}: ${JSON.stringify(await readEvidence(evidence))}`,
      );
      assert.ok(
        !fs.existsSync(path.join(process.cwd(), 'PWNED')) && !fs.existsSync(path.join(base, 'PWNED')),
        `${d}: nothing injected ran`,
      );
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('cert_sign answers that try to smuggle lines, control characters or another identity: refused, nothing written, messages clean', async (t) => {
  const work = tempDir(t, 'hostile-cert-');
  const ca = path.join(work, 'ca');
  execFileSync('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', ca]);
  let seq = 0;
  const sign = (pub: string, principals: string, id = 'jdoe@example.com'): string => {
    const f = path.join(work, `k${seq++}.pub`);
    fs.writeFileSync(f, pub + '\n');
    execFileSync('ssh-keygen', ['-q', '-s', ca, '-I', id, '-n', principals, '-V', '-1m:+3m', f]);
    return fs
      .readFileSync(f.replace(/\.pub$/, '-cert.pub'), 'utf8')
      .trim()
      .split(' ')
      .slice(0, 2)
      .join(' ');
  };
  const ok = (certificate: string) => ({
    status: 200,
    body: JSON.stringify({ id: 'x', certificate, expires_at: new Date(Date.now() + 180_000).toISOString() }),
  });
  const cases: [string, (pub: string) => { status: number; body: string }, RegExp][] = [
    [
      'a certificate followed by ssh_config lines',
      (pub) => ok(`${sign(pub, 'jdoe')}\nHost *\n  ProxyCommand touch /tmp/pwned`),
      /certificate/i,
    ],
    ['a certificate with a CR-LF and junk', (pub) => ok(`${sign(pub, 'jdoe')}\r\nX`), /certificate/i],
    ['a principal with a newline', (pub) => ok(sign(pub, 'jdoe\nProxyCommand x')), /principal/i],
    ['a key id with a newline and an escape sequence', (pub) => ok(sign(pub, 'jdoe', 'jdoe\n\u001b[2Jfake')), /key id|certificate/i],
    [
      'a certificate that is not one',
      () => ok('ssh-ed25519-cert-v01@openssh.com AAAA$(id)'),
      /not (one line of )?(an )?OpenSSH certificate/,
    ],
    ['base64 that is not a certificate', () => ok('ssh-ed25519-cert-v01@openssh.com AAAAQUJD'), /not an OpenSSH certificate/],
    ['a one-megabyte certificate', () => ok(`ssh-ed25519-cert-v01@openssh.com ${'A'.repeat(1 << 20)}`), /certificate/i],
    [
      'an error message with a newline and a terminal escape',
      () => ({ status: 500, body: JSON.stringify({ status: 500, message: 'bad\n\u001b[2J\u001b[31mPassword: ' }) }),
      /HTTP 500/,
    ],
    [
      'an error message that carries a token',
      () => ({ status: 400, body: JSON.stringify({ status: 400, message: `invalid jwt ${TOKEN}` }) }),
      /HTTP 400/,
    ],
    ['a 200 whose certificate is a number', () => ({ status: 200, body: '{"certificate": 42}' }), /without a certificate/],
  ];
  for (const [name, answer, rule] of cases) {
    note('cert_sign answer');
    const dir = path.join(work, `out${seq++}`);
    const err = await issueCertificate(fakeEdge(answer), dir, validateHostname('ok.example.com'), {
      get: async () => TOKEN,
      forget: async () => undefined,
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    assert.ok(err instanceof AccessError, `${name}: refused (${String(err)})`);
    assertClear(err, name);
    assert.match(err.message, rule, `${name}: ${err.message}`);
    assert.ok(!err.message.includes(TOKEN) && !err.message.includes(TOKEN.split('.')[1]!), `${name}: no token in the message`);
    assert.ok(
      !fs.existsSync(certFile(dir, hostname('ok.example.com'))) && !fs.existsSync(certKeyFile(dir, hostname('ok.example.com'))),
      `${name}: nothing written`,
    );
  }
  // The edge decides the principal: a certificate for another account is kept, but a
  // principal reaches a User line only when src/ssh accepts it as a user name.
  for (const [principals, user] of [
    ['"$(id)"', undefined],
    ['root', 'root'],
    ['"$(id)",deploy', 'deploy'],
    ['jdoe\u202eevil', undefined],
  ] as const) {
    note('cert_sign principal');
    const dir = path.join(work, `out${seq++}`);
    const info = await issueCertificate(
      fakeEdge((pub) => ok(sign(pub, principals))),
      dir,
      validateHostname('ok.example.com'),
      { get: async () => TOKEN, forget: async () => undefined },
    );
    assert.deepEqual(info.principals, principals.split(','));
    const chosen = sshUserFor({ principals: info.principals, email: 'jdoe@example.com' });
    assert.equal(chosen.user, user ?? 'jdoe', `User for principals ${JSON.stringify(principals)}`);
    assert.equal(chosen.source, user === undefined ? 'email' : 'certificate');
  }
  // The key id and principals of an accepted certificate are never trusted for a User line.
  note('cert_sign answer');
  const signed = await signCertificate(
    fakeEdge((pub) => ok(sign(pub, 'jdoe'))),
    TOKEN,
    sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' }).toPublic().toString('ssh'),
  );
  assert.match(signed.certificate, /^ecdsa-sha2-nistp256-cert-v01@openssh\.com [A-Za-z0-9+/=]+$/);
  fs.rmSync(work, { recursive: true, force: true });
});

after(() => tried.report('hostile inputs tried against the real programs'));
