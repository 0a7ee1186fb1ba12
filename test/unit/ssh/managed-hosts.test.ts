// The managed file's host list: the one source of truth of `access-ssh config` and
// the extension's writer (SshConfigSync calls syncExtensionHosts through
// updateManagedHosts, the CLI calls addCliHost/removeCliHost through it). Property
// tests over interleaved operations of both writers: neither ever loses a host of
// the other, the file reads back to the model, a write is idempotent. The real
// `ssh -G` reading the result: test/integration/ssh/managed-hosts.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fc from 'fast-check';
import { MANAGED_HEADER, renderEntries, type RenderOptions } from '../../../src/ssh/entries.js';
import { runs } from '../../support/figures.js';
import {
  addCliHost,
  LIST_INTRO,
  parseManagedHosts,
  removeCliHost,
  renderManagedFile,
  syncExtensionHosts,
  type HostOrigin,
  type ManagedHost,
} from '../../../src/ssh/managed-hosts.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { hostArb, MANAGED_OPTS } from './helpers.js';
import { hostname } from '../../support/hostname.js';
import type { Hostname } from '../../../src/base/hostname.js';

type HostOriginList = HostOrigin[];
const userArb = fc.option(fc.constantFrom('jdoe', 'deploy', 'j.doe', 'svc_build'), { nil: undefined });

type Op =
  | { kind: 'cli-add'; host: Hostname; user: string | undefined }
  | { kind: 'cli-remove'; host: Hostname }
  | { kind: 'ext-sync'; hosts: { hostname: Hostname; user?: string }[] };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('cli-add' as const), host: hostArb, user: userArb }),
  fc.record({ kind: fc.constant('cli-remove' as const), host: hostArb }),
  fc.record({
    kind: fc.constant('ext-sync' as const),
    hosts: fc
      .uniqueArray(fc.record({ hostname: hostArb, user: userArb }), { selector: (h) => h.hostname, maxLength: 4 })
      .map((hs) => hs.map((h) => (h.user === undefined ? { hostname: h.hostname } : { hostname: h.hostname, user: h.user }))),
  }),
);

/** What each side has asked for so far. */
interface Model {
  cli: Map<string, string | undefined>;
  ext: Map<string, string | undefined>;
}

function apply(hosts: ManagedHost[], op: Op): ManagedHost[] {
  switch (op.kind) {
    case 'cli-add':
      return addCliHost(hosts, op.host, op.user);
    case 'cli-remove':
      return removeCliHost(hosts, op.host);
    case 'ext-sync':
      return syncExtensionHosts(hosts, op.hosts);
  }
}

function step(model: Model, op: Op): void {
  switch (op.kind) {
    case 'cli-add':
      model.cli.set(op.host, op.user ?? model.cli.get(op.host));
      break;
    case 'cli-remove':
      model.cli.delete(op.host);
      break;
    case 'ext-sync':
      model.ext = new Map(op.hosts.map((h) => [h.hostname, h.user]));
      break;
  }
}

test("interleaved CLI and extension edits: nobody loses the other's hosts; the file reads back to the model", () => {
  fc.assert(
    fc.property(fc.array(opArb, { maxLength: 25 }), (ops) => {
      const model: Model = { cli: new Map(), ext: new Map() };
      let content: string | undefined;
      for (const op of ops) {
        const before = parseManagedHosts(content);
        const after = apply(before, op);
        step(model, op);
        content = renderManagedFile(after, MANAGED_OPTS);
        const read = parseManagedHosts(content);
        assert.deepEqual(read, after, 'the file reads back to what was written');
        assert.equal(renderManagedFile(read, MANAGED_OPTS), content, 'rewriting the same list changes nothing');
        // Every host of each side is there, marked by that side.
        const names = new Set([...model.cli.keys(), ...model.ext.keys()]);
        assert.deepEqual(
          read.map((h) => h.hostname),
          [...names].sort(),
        );
        for (const h of read) {
          assert.equal(h.from.includes('cli'), model.cli.has(h.hostname), `${h.hostname} cli mark`);
          assert.equal(h.from.includes('vscode'), model.ext.has(h.hostname), `${h.hostname} vscode mark`);
        }
        // The other side's hosts are untouched by an operation.
        if (op.kind === 'ext-sync') {
          for (const h of before.filter((b) => b.from.includes('cli'))) {
            const now = read.find((r) => r.hostname === h.hostname);
            assert.ok(now?.from.includes('cli'), `the extension kept the CLI's ${h.hostname}`);
            if (h.user !== undefined) assert.equal(now?.user, h.user, 'and the user the CLI wrote for it');
          }
        } else {
          for (const h of before.filter((b) => b.from.includes('vscode'))) {
            assert.ok(read.find((r) => r.hostname === h.hostname)?.from.includes('vscode'), `the CLI kept the extension's ${h.hostname}`);
          }
        }
        // An explicit --user of the CLI is what is written.
        if (op.kind === 'cli-add' && op.user !== undefined) assert.equal(read.find((r) => r.hostname === op.host)?.user, op.user);
        // Each listed host has its entries; no other host has any.
        for (const h of read) {
          assert.ok(content.includes(`\nHost cfpipe-${h.hostname}\n`), `entries of ${h.hostname}`);
          if (h.user !== undefined) assert.ok(content.includes(`Host cfpipe-${h.hostname}\n  HostName ${h.hostname}\n  User ${h.user}\n`));
        }
        assert.equal((content.match(/^Host cfpipe-/gm) ?? []).length, read.length);
      }
    }),
    { numRuns: runs(1500) },
  );
});

test('a damaged host list line is an error naming the file and line; nothing is guessed', () => {
  const good = renderManagedFile([{ hostname: hostname('a.example.com'), from: ['cli'] }], MANAGED_OPTS);
  for (const [bad, why] of [
    ['# access-ssh-host a..example.com from=cli', /valid host/],
    ['# access-ssh-host b.example.com from=nobody', /only cli and vscode/],
    ['# access-ssh-host b.example.com', /who added it/],
    ['# access-ssh-host b.example.com from=cli user=$(id)', /invalid user/],
    ['# access-ssh-host b.example.com from=cli color=red', /unknown field/],
    ['# access-ssh-host a.example.com from=vscode', /earlier line/],
  ] as const) {
    const text = good.replace('\n\n', `\n${bad}\n\n`);
    assert.throws(
      () => parseManagedHosts(text, '/x/config'),
      (e: unknown) => e instanceof SshConfigError && /\/x\/config, line 4/.test(e.message) && why.test(e.message),
      bad,
    );
  }
});

test("a file written before the list (entries only) is read as the extension's hosts", () => {
  const legacy = [
    '# managed by Access SSH; edits are overwritten',
    '',
    'Match originalhost cfpipe-a.example.com,a.example.com exec "/x ssh-gen --hostname a.example.com"',
    '',
    'Host cfpipe-a.example.com',
    '  HostName a.example.com',
    '',
    'Host a.example.com',
    '',
    'Host cfpipe-b.example.com',
    '  HostName b.example.com',
    '',
  ].join('\n');
  assert.deepEqual(parseManagedHosts(legacy), [
    { hostname: hostname('a.example.com'), from: ['vscode'] },
    { hostname: hostname('b.example.com'), from: ['vscode'] },
  ]);
  // Then a CLI add keeps both.
  const next = addCliHost(parseManagedHosts(legacy), hostname('c.example.com'), 'deploy');
  assert.deepEqual(
    next.map((h) => `${h.hostname}:${h.from.join(',')}`),
    ['a.example.com:vscode', 'b.example.com:vscode', 'c.example.com:cli'],
  );
});

test('the file is byte for byte what renderEntries writes, whatever earlier renders left to reuse', () => {
  // renderManagedFile reuses each host's entry from the previous render when the host and
  // the options are the same; the result must never differ from a render from scratch.
  const optionSets: RenderOptions[] = [
    MANAGED_OPTS,
    { ...MANAGED_OPTS, nonInteractive: false },
    { ...MANAGED_OPTS, keyDir: '/elsewhere/.cloudflared' },
    { ...MANAGED_OPTS, extraArgs: ['--loglevel', 'debug'] },
    { helper: 'C:\\Users\\jdoe\\access-ssh.cmd', platform: 'win32', nonInteractive: true },
  ];
  const hostsArb = fc.uniqueArray(
    fc.record({
      hostname: hostArb,
      user: userArb,
      fedramp: fc.boolean(),
      from: fc.constantFrom<HostOriginList>(['cli'], ['vscode'], ['cli', 'vscode']),
    }),
    { selector: (h) => h.hostname, maxLength: 5 },
  );
  fc.assert(
    fc.property(fc.array(fc.tuple(hostsArb, fc.nat(optionSets.length - 1)), { minLength: 1, maxLength: 6 }), (renders) => {
      for (const [raw, o] of renders) {
        const hosts: ManagedHost[] = raw.map((h) => ({
          hostname: h.hostname,
          from: h.from,
          ...(h.user === undefined ? {} : { user: h.user }),
          ...(h.fedramp ? { fedramp: true } : {}),
        }));
        const opts = optionSets[o]!;
        const sorted = [...hosts].sort((a, b) => (a.hostname < b.hostname ? -1 : 1));
        const scratch = renderEntries(
          sorted.map((h) => ({
            hostname: h.hostname,
            ...(h.user === undefined ? {} : { user: h.user }),
            ...(h.fedramp ? { fedramp: true } : {}),
          })),
          opts,
        );
        const text = renderManagedFile(hosts, opts);
        // Header line, host list, then exactly renderEntries' output after its header line.
        assert.ok(text.startsWith(`${MANAGED_HEADER}\n${LIST_INTRO}\n`));
        assert.ok(text.endsWith(scratch.slice(MANAGED_HEADER.length + 1)), 'entries as renderEntries writes them');
        assert.equal(text.split('\n# access-ssh-host ').length - 1, hosts.length, 'one list line per host');
        assert.deepEqual(
          parseManagedHosts(text),
          sorted.map((h) => ({ ...h, from: [...h.from] })),
          'reads back',
        );
      }
    }),
    { numRuns: runs(300) },
  );
});

test('list lines are found wherever they are, with CRLF line ends, and errors name the right line', () => {
  const text = [
    '# managed by Access SSH; edits are overwritten',
    '# access-ssh-host a.example.com from=cli',
    'Host x',
    '  # access-ssh-host not-at-line-start.example.com from=cli',
    '# access-ssh-host b.example.com from=vscode user=jdoe',
    '',
  ].join('\r\n');
  assert.deepEqual(parseManagedHosts(text), [
    { hostname: hostname('a.example.com'), from: ['cli'] },
    { hostname: hostname('b.example.com'), user: 'jdoe', from: ['vscode'] },
  ]);
  assert.deepEqual(
    parseManagedHosts('# access-ssh-host c.example.com from=cli'),
    [{ hostname: hostname('c.example.com'), from: ['cli'] }],
    'no line end',
  );
  assert.throws(
    () => parseManagedHosts(`${text}\r\nHost y\r\n# access-ssh-host b.example.com from=cli\r\n`, '/x/config'),
    (e: unknown) => e instanceof SshConfigError && /\/x\/config, line 8: /.test(e.message) && /earlier line/.test(e.message),
  );
});

test('a host whose name starts with the list marker reads back (its entry comment is no list line)', () => {
  // `# access-ssh-host: renew …` and `# access-ssh-host.example.com: renew …` are the
  // entries' comments of these hosts: the list marker is a word, not a prefix.
  const hosts: ManagedHost[] = [
    { hostname: hostname('access-ssh-host'), from: ['cli'] },
    { hostname: hostname('access-ssh-host-2.example.com'), from: ['vscode'], user: 'jdoe' },
    { hostname: hostname('access-ssh-host.example.com'), from: ['cli', 'vscode'] },
  ];
  const text = renderManagedFile(hosts, MANAGED_OPTS);
  assert.match(text, /^# access-ssh-host: renew/m, 'the comment the old parse took for a list line');
  assert.deepEqual(parseManagedHosts(text), hosts);
  assert.deepEqual(parseManagedHosts(text.replace(/\n/g, '\r\n')), hosts, 'CRLF');
  // A later write starts from that parse.
  assert.deepEqual(parseManagedHosts(renderManagedFile(addCliHost(hosts, hostname('access-ssh-host'), 'deploy'), MANAGED_OPTS))[0], {
    hostname: hostname('access-ssh-host'),
    user: 'deploy',
    from: ['cli'],
  });
  // The marker alone is still a (damaged) list line.
  assert.throws(() => parseManagedHosts(text.replace('\n\n', '\n# access-ssh-host\n\n')), /names no valid host/);
});
