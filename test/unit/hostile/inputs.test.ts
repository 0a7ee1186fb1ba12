// Hostile input (issue #4, item 3): host names, user names and paths with newline,
// quotes, %, spaces, $(…), backticks, #, non-ASCII, overlong values, arriving from the
// settings, a repository's host list, a deep link, the command line, JWT claims (an
// e-mail becoming a `User`) and a cert_sign answer. Each is refused with a clear
// message (the value shown escaped: no raw line break or control character reaches a
// message) or quoted so that the real `ssh -G` / ssh reads back exactly the value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import * as sshpk from 'sshpk';
import { issueCertificate } from '../../../src/access/cert-issue.js';
import { signCertificate } from '../../../src/access/cert-sign.js';
import { AccessError } from '../../../src/access/errors.js';
import type { HttpClient, HttpRequest, HttpResponse } from '../../../src/access/http.js';
import { emailLocalPart } from '../../../src/access/jwt.js';
import { certFile, certKeyFile } from '../../../src/access/paths.js';
import type { AppToken } from '../../../src/access/types.js';
import { parseTarget } from '../../../src/cli/host.js';
import { sshUserFor } from '../../../src/hosts/hosts.js';
import { UsageError } from '../../../src/cli/args.js';
import { parseHostList, parseRepoHostsFile } from '../../../src/hosts/hosts.js';
import { parseDeepLink } from '../../../src/remote-ssh/authority.js';
import { hostOptions, renderEntries, type RenderOptions } from '../../../src/ssh/entries.js';
import { quoteConfigPath } from '../../../src/ssh/quote.js';
import { SshConfigError, validateHostname, validateUser } from '../../../src/ssh/validate.js';
import { fakeHelper, readEvidence, run, SSH, sshG, tempDir } from '../ssh/helpers.js';

/** Inputs tried per class, reported at the end (the README quotes them). */
const tried = new Map<string, number>();
const note = (cls: string): void => {
  tried.set(cls, (tried.get(cls) ?? 0) + 1);
};

const RAW_CONTROL = /[\u0000-\u0008\u000a-\u001f\u007f\u2028\u2029]/;

/** A clear refusal: a message with no raw control character, naming the problem. */
function assertClear(err: unknown, what: string): void {
  assert.ok(err instanceof Error, `${what}: an Error`);
  assert.ok(err.message.length > 10 && err.message.length < 600, `${what}: a message of sane length: ${err.message.length}`);
  assert.doesNotMatch(err.message, RAW_CONTROL, `${what}: no raw control character in ${JSON.stringify(err.message)}`);
  const hint = (err as { hint?: string }).hint;
  if (hint !== undefined) assert.doesNotMatch(hint, RAW_CONTROL);
}

const HOSTS: [string, string][] = [
  ['newline + directive', 'a.example.com\nProxyCommand touch /tmp/pwned'],
  ['CRLF + Host *', 'a.example.com\r\nHost *'],
  ['double quote', 'a"b.example.com'],
  ['single quote', "a'b.example.com"],
  ['percent token', 'a%h.example.com'],
  ['space', 'a b.example.com'],
  ['tab + option', 'a.example.com\tUser root'],
  ['$(…)', '$(touch /tmp/pwned).example.com'],
  ['$(…) after a space', 'a.example.com $(id)'],
  ['backticks', '`id`.example.com'],
  ['hash comment', 'a.example.com#x'],
  ['${VAR}', '${HOME}.example.com'],
  ['non-ASCII', 'bücher.example.com'],
  ['line separator U+2028', 'a.example.com\u2028b'],
  ['NUL', 'a\u0000b.example.com'],
  ['right-to-left override', 'a\u202eb.example.com'],
  ['overlong name (300)', `${'a'.repeat(60)}.`.repeat(5) + 'com'],
  ['overlong label (64)', `${'a'.repeat(64)}.example.com`],
  ['option injection', '-oProxyCommand=touch /tmp/pwned'],
  ['pattern *', '*.example.com'],
  ['negation !', '!a.example.com'],
  ['comma list', 'a.example.com,b.example.com'],
  ['semicolon', 'a.example.com;id'],
  ['pipe', 'a.example.com|id'],
  ['path traversal', '../../etc/passwd'],
  ['backslash', 'a\\b.example.com'],
  ['empty', ''],
  ['only dots', '..'],
];

const LINUX: RenderOptions = { helper: '/opt/access-ssh/access-ssh', platform: 'linux', nonInteractive: true };

test(`host names from settings, a repository list, a deep link and ssh_config rendering: all ${HOSTS.length} refused, clearly`, () => {
  for (const [name, value] of HOSTS) {
    // Settings: a string entry and an object entry.
    for (const entry of [value, { hostname: value, label: 'x' }]) {
      note('host name: settings');
      const list = parseHostList([entry], 'settings');
      assert.deepEqual(list.hosts, [], `${name}: not used`);
      assert.equal(list.problems.length, 1, `${name}: reported`);
      assert.doesNotMatch(list.problems[0]!.value + list.problems[0]!.message, RAW_CONTROL, name);
    }
    // A repository's .vscode/access-hosts.json.
    note('host name: repository list');
    const repo = parseRepoHostsFile(JSON.stringify({ hosts: [value] }));
    assert.deepEqual(repo.hosts, [], `${name}: not used from the repository`);
    assert.equal(repo.problems.length, 1);
    assert.doesNotMatch(repo.problems[0]!.value + repo.problems[0]!.message, RAW_CONTROL, name);
    // A deep link vscode://…/connect?host=…
    note('host name: deep link');
    assert.throws(
      () => parseDeepLink('/connect', `host=${encodeURIComponent(value)}`),
      (e: unknown) => {
        assertClear(e, name);
        return true;
      },
      name,
    );
    // Straight into the ssh config.
    note('host name: ssh config');
    assert.throws(
      () => renderEntries([{ hostname: value }], LINUX),
      (e: unknown) => {
        assertClear(e, name);
        return e instanceof SshConfigError && e.code === 'invalid-value';
      },
      name,
    );
    assert.throws(() => validateHostname(value), SshConfigError);
  }
});

test("host names on the helper's command line: refused (usage error), or reduced to a plain DNS name", () => {
  for (const [name, value] of HOSTS) {
    note('host name: command line');
    let host: string | undefined;
    try {
      host = parseTarget(value, 'ssh').host;
    } catch (e) {
      assert.ok(e instanceof UsageError, `${name}: a usage error`);
      assertClear(e, name);
      continue;
    }
    // The URL parser turns e.g. "bücher" into its punycode: harmless.
    assert.match(host, /^[a-z0-9.-]+$/, `${name} → ${host}`);
    assert.equal(validateHostname(host), host);
  }
});

test('labels and remote paths from settings, a repository and deep links: control characters refused or replaced', () => {
  const bad = ['/home/x\nProxyCommand evil', '/home/x\r', '/home/\u0000x', 'relative/path', 'x'.repeat(2000)];
  for (const p of bad) {
    note('remote path: settings');
    const list = parseHostList([{ hostname: 'ok.example.com', path: p }], 'settings');
    assert.deepEqual(list.hosts, []);
    assert.doesNotMatch(list.problems[0]!.value + list.problems[0]!.message, RAW_CONTROL);
    note('remote path: deep link');
    assert.throws(
      () => parseDeepLink('/connect', `host=ok.example.com&path=${encodeURIComponent(p)}`),
      (e: unknown) => {
        assertClear(e, p);
        return true;
      },
    );
  }
  for (const label of ['Build\nbox', 'a\u202eb', '\u0007bell', 'x'.repeat(500)]) {
    note('label: settings');
    const list = parseHostList([{ hostname: 'ok.example.com', label }], 'settings');
    assert.equal(list.hosts.length, 1);
    assert.doesNotMatch(list.hosts[0]!.label!, RAW_CONTROL);
    assert.doesNotMatch(list.hosts[0]!.label!, /\u202e/);
    assert.ok(list.hosts[0]!.label!.length <= 100);
  }
  // Shell characters in a remote path are fine: it only goes into a vscode-remote URI.
  note('remote path: deep link');
  assert.equal(
    parseDeepLink('/connect', `host=ok.example.com&path=${encodeURIComponent('/srv/$(id)/`x`/#/ü')}`).path,
    '/srv/$(id)/`x`/#/ü',
  );
  for (const q of ['host=a.example.com&host=b.example.com', 'host=a.example.com&evil=1', 'host=a.example.com&window=%0a', 'x']) {
    note('deep link: structure');
    assert.throws(
      () => parseDeepLink('/connect', q),
      (e: unknown) => {
        assertClear(e, q);
        return true;
      },
    );
  }
});

const EMAILS: [string, string][] = [
  ['newline + directive', 'jdoe\nProxyCommand touch /tmp/pwned@example.com'],
  ['CR', 'jdoe\r@example.com'],
  ['double quote', 'j"doe@example.com'],
  ['single quote', "j'doe@example.com"],
  ['space', 'j doe@example.com'],
  ['percent', 'j%udoe@example.com'],
  ['$(…)', '$(id)@example.com'],
  ['backticks', '`id`@example.com'],
  ['hash', 'j#doe@example.com'],
  ['non-ASCII', 'jöe@example.com'],
  ['overlong', `${'j'.repeat(100)}@example.com`],
  ['option injection', '-oProxyCommand=x@example.com'],
  ['dot first', '.hidden@example.com'],
  ['path traversal', '../root@example.com'],
  ['NUL', 'root\u0000@example.com'],
  ['no local part', '@example.com'],
];

test(`e-mails in JWT claims that would become a User line: all ${EMAILS.length} refused`, () => {
  for (const [name, email] of EMAILS) {
    note('user: JWT e-mail claim');
    const user = emailLocalPart(email);
    assert.throws(
      () => validateUser(user),
      (e: unknown) => {
        assertClear(e, name);
        return e instanceof SshConfigError;
      },
      name,
    );
    assert.throws(() => renderEntries([{ hostname: 'ok.example.com', user }], LINUX), SshConfigError, name);
  }
});

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

test('key and helper paths with $(…), backticks, #, %, spaces, non-ASCII: quoted so that ssh reads back exactly; nothing is run', async () => {
  const dir = await tempDir('hostile-paths-');
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
          () => hostOptions({ hostname: 'ok.example.com' }, opts),
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
      fs.writeFileSync(cfg, renderEntries([{ hostname: 'ok.example.com', user: 'jdoe' }], opts));
      const g = await sshG(cfg, 'cfpipe-ok.example.com', ['-o', 'BatchMode=yes']);
      // ssh -G shows paths before their %-expansion, which turns %% back into %.
      const expanded = (v: string[] | undefined): string[] | undefined => v?.map((x) => x.replace(/%%/g, '%'));
      assert.deepEqual(expanded(g.get('identityfile')), [path.join(base, 'keys', 'ok.example.com-cf_key')], d);
      assert.deepEqual(expanded(g.get('certificatefile')), [path.join(base, 'keys', 'ok.example.com-cf_key-cert.pub')], d);
      assert.deepEqual(g.get('user'), ['jdoe']);
      // ssh -G ran the Match exec: our helper, at that path, with exactly these arguments.
      assert.deepEqual(await readEvidence(evidence), ['ssh-gen|--hostname|ok.example.com|--non-interactive|--quiet-signed-out'], d);
      // The ProxyCommand, run by a real connection attempt.
      await run(SSH, ['-F', cfg, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', 'cfpipe-ok.example.com', 'true'], 20_000);
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

// ---------------------------------------------------------------- cert_sign answers

const ISS = 'https://sandbox.cloudflareaccess.com';
function jwt(claims: Record<string, unknown>): AppToken {
  const b64 = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return `${b64({ alg: 'RS256', typ: 'JWT' })}.${b64(claims)}.c2ln` as AppToken;
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

test('cert_sign answers that try to smuggle lines, control characters or another identity: refused, nothing written, messages clean', async () => {
  const work = await tempDir('hostile-cert-');
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
      !fs.existsSync(certFile(dir, 'ok.example.com')) && !fs.existsSync(certKeyFile(dir, 'ok.example.com')),
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

test('figures: hostile inputs tried', () => {
  const total = [...tried.values()].reduce((a, b) => a + b, 0);
  process.stdout.write(`# hostile inputs tried: ${JSON.stringify(Object.fromEntries(tried))} = ${total}\n`);
  assert.ok(total >= 50, `${total}`);
});
