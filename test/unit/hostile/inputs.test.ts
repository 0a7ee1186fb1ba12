// Hostile input (issue #4, item 3): host names, user names and paths with newline,
// quotes, %, spaces, $(…), backticks, #, non-ASCII, overlong values, arriving from the
// settings, a repository's host list, a deep link, the command line and JWT claims (an
// e-mail becoming a `User`). Each is refused with a clear message (the value shown
// escaped: no raw line break or control character reaches a message). Paths read back
// by the real ssh and cert_sign answers: test/integration/hostile/inputs.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Tally } from '../../support/figures.js';
import { assertClear, RAW_CONTROL } from './helpers.js';
import { emailLocalPart } from '../../../src/access/jwt.js';
import { parseTarget } from '../../../src/cli/host.js';
import { UsageError } from '../../../src/cli/args.js';
import { parseHostList, parseRepoHostsFile } from '../../../src/hosts/hosts.js';
import { parseDeepLink } from '../../../src/remote-ssh/authority.js';
import { renderEntries, type RenderOptions } from '../../../src/ssh/entries.js';
import { SshConfigError, validateHostname, validateUser } from '../../../src/ssh/validate.js';
import { forgedHostname, hostname } from '../../support/hostname.js';

/** Inputs tried per class, reported at the end (the README quotes them). */
const tried = new Tally();
const note = (cls: string): void => tried.note(cls);

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
      () => renderEntries([{ hostname: forgedHostname(value) }], LINUX),
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
    assert.throws(() => renderEntries([{ hostname: hostname('ok.example.com'), user }], LINUX), SshConfigError, name);
  }
});

test('figures: hostile inputs tried', () => {
  tried.report('hostile inputs tried');
  assert.ok(tried.total >= 50, `${tried.total}`);
});
