import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  addToSetting,
  cliOnlyHosts,
  describeProblem,
  displayValue,
  hostnameProblem,
  mergeHosts,
  normaliseHostname,
  parseHostEntry,
  parseHostList,
  parseRepoHostsFile,
  removeFromSetting,
  renameInSetting,
  sshUserFor,
} from '../../../src/hosts/hosts.js';
import { hostname } from '../../support/hostname.js';

test('plain host names are normalised to lower case', () => {
  assert.equal(normaliseHostname('  SSH.Example.COM '), 'ssh.example.com');
  assert.equal(normaliseHostname('ssh.example.com.'), 'ssh.example.com');
});

test('a pasted https URL is reduced to its host, but not one with a path, port or user', () => {
  assert.equal(normaliseHostname('https://ssh.example.com/'), 'ssh.example.com');
  assert.equal(normaliseHostname('https://ssh.example.com'), 'ssh.example.com');
  assert.throws(() => normaliseHostname('https://ssh.example.com/x'));
  assert.throws(() => normaliseHostname('https://ssh.example.com:8443/'));
  assert.throws(() => normaliseHostname('https://u:p@ssh.example.com/'));
  assert.throws(() => normaliseHostname('https://ssh.example.com/?q=1'));
});

test('entries: strings and objects with label and path', () => {
  assert.deepEqual(parseHostEntry('a.example.com', 'settings'), { hostname: 'a.example.com', source: 'settings' });
  assert.deepEqual(parseHostEntry({ hostname: 'B.example.com', label: 'Build', path: '/home/jdoe/src' }, 'repo'), {
    hostname: 'b.example.com',
    label: 'Build',
    path: '/home/jdoe/src',
    source: 'repo',
  });
  assert.equal(parseHostEntry({ hostname: 'w.example.com', path: 'C:/src' }, 'settings').path, 'C:/src');
});

const hostile: unknown[] = [
  'a.example.com -oProxyCommand=touch /tmp/pwned',
  'a.example.com\nProxyCommand sh -c evil',
  '-oProxyCommand=evil',
  'a.example.com;rm -rf ~',
  'a.example.com"',
  "a.example.com'",
  '%h.example.com',
  '$(id).example.com',
  '`id`.example.com',
  '*.example.com',
  'a.example.com#x',
  'a,b.example.com',
  'a..example.com',
  'exa\u0000mple.com',
  'ex\u202eample.com',
  'exämple.com',
  'a'.repeat(64) + '.example.com',
  'x.'.repeat(130) + 'com',
  '',
  '   ',
  42,
  null,
  true,
  ['a.example.com'],
  {},
  { hostname: 42 },
  { hostname: 'a.example.com', path: 'relative/path' },
  { hostname: 'a.example.com', path: '/x\nProxyCommand evil' },
  { hostname: 'a.example.com', path: '' },
  { hostname: 'a.example.com', label: 7 },
  { hostname: 'a.example.com', proxyCommand: 'evil' },
  { hostname: 'a.example.com', __proto__: { path: '/x' }, user: 'root x' },
  { hostname: 'a.example.com', user: '-oProxyCommand=evil' },
  { hostname: 'a.example.com', fedramp: 'true' },
  JSON.parse('{"__proto__": {"hostname": "a.example.com"}}'),
  JSON.parse('{"hostname": "a.example.com", "constructor": 1}'),
];

test('hostile entries are refused with a message and never used', () => {
  const { hosts, problems } = parseHostList([...hostile, 'good.example.com'], 'repo');
  assert.deepEqual(
    hosts.map((h) => h.hostname),
    ['good.example.com'],
  );
  assert.equal(problems.length, hostile.length);
  for (const p of problems) {
    assert.equal(p.source, 'repo');
    assert.ok(p.message.length > 0);
    // The rendering of a bad value is one printable line.
    assert.doesNotMatch(p.value, /[\u0000-\u001f\u007f\u202e]/);
    assert.ok(p.value.length <= 80);
    assert.doesNotMatch(describeProblem(p), /\n/);
  }
});

test('labels are cleaned of control characters and bounded', () => {
  const e = parseHostEntry({ hostname: 'a.example.com', label: 'line1\nline2\u202e' + 'x'.repeat(200) }, 'settings');
  assert.doesNotMatch(e.label!, /[\n\u202e]/);
  assert.ok(e.label!.length <= 100);
});

test('duplicates keep the first entry; a non-array is a problem', () => {
  const { hosts } = parseHostList(['a.example.com', { hostname: 'A.EXAMPLE.COM', label: 'x' }], 'settings');
  assert.equal(hosts.length, 1);
  assert.equal(hosts[0]!.label, undefined);
  const r = parseHostList('a.example.com', 'settings');
  assert.equal(r.hosts.length, 0);
  assert.equal(r.problems.length, 1);
  assert.deepEqual(parseHostList(undefined, 'settings'), { hosts: [], problems: [] });
});

test('repo file: JSON with comments, object with hosts', () => {
  const r = parseRepoHostsFile('// team hosts\n{ "hosts": ["a.example.com", /* b */ {"hostname": "b.example.com", "path": "/srv"}] }');
  assert.deepEqual(
    r.hosts.map((h) => [h.hostname, h.source]),
    [
      ['a.example.com', 'repo'],
      ['b.example.com', 'repo'],
    ],
  );
  assert.equal(parseRepoHostsFile('{"hosts": ["a.example.com // not a comment"]}').problems.length, 1);
  assert.equal(parseRepoHostsFile('not json').problems.length, 1);
  assert.equal(parseRepoHostsFile('[]').problems.length, 1);
  assert.equal(parseRepoHostsFile('{}').hosts.length, 0);
});

test('merge: settings first and winning over the repo', () => {
  const s = parseHostList([{ hostname: 'a.example.com', label: 'mine' }], 'settings');
  const r = parseRepoHostsFile('{"hosts": [{"hostname": "a.example.com", "label": "theirs"}, "b.example.com", "bad host"]}');
  const m = mergeHosts(s, r);
  assert.deepEqual(
    m.hosts.map((h) => [h.hostname, h.label, h.source]),
    [
      ['a.example.com', 'mine', 'settings'],
      ['b.example.com', undefined, 'repo'],
    ],
  );
  assert.equal(m.problems.length, 1);
  assert.deepEqual(mergeHosts(s).hosts.length, 1);
});

test('adding and removing in the setting value', () => {
  assert.deepEqual(addToSetting(undefined, 'a.example.com'), ['a.example.com']);
  assert.deepEqual(addToSetting(['A.example.com'], 'a.example.com'), ['A.example.com']);
  const cur = ['a.example.com', { hostname: 'B.example.com', path: '/x' }, 'c.example.com', 'bad host'];
  assert.deepEqual(removeFromSetting(cur, 'b.example.com'), ['a.example.com', 'c.example.com', 'bad host']);
  assert.deepEqual(removeFromSetting(cur, 'a.example.com').length, 3);
});

test('displayValue escapes controls and bidi overrides and bounds the length', () => {
  assert.equal(displayValue('a\nb'), '"a\\nb"');
  assert.equal(displayValue('a\u202eb'), '"a\\u202eb"');
  assert.ok(displayValue('x'.repeat(500)).length <= 80);
  assert.equal(displayValue(undefined), 'undefined');
});

test('a long list is parsed quickly (1,000 hosts)', () => {
  const list = Array.from({ length: 1000 }, (_, i) => `host${i}.example.com`);
  const t = process.hrtime.bigint();
  const { hosts } = parseHostList(list, 'settings');
  assert.equal(hosts.length, 1000);
  assert.ok(Number(process.hrtime.bigint() - t) / 1e6 < 500);
});

test('hostnameProblem: the input box message, undefined for a good host', () => {
  assert.equal(hostnameProblem('https://SSH.Example.com/'), undefined);
  assert.match(hostnameProblem('ssh example.com') ?? '', /\S/);
  assert.match(hostnameProblem('https://ssh.example.com:8443/') ?? '', /host name only/);
});

test('renameInSetting: renames in place, keeps label and path, never duplicates', () => {
  assert.deepEqual(renameInSetting(['a.example.com', 'b.example.com'], 'a.example.com', 'c.example.com'), [
    'c.example.com',
    'b.example.com',
  ]);
  assert.deepEqual(renameInSetting([{ hostname: 'A.example.com', label: 'Box', path: '/src' }], 'a.example.com', 'c.example.com'), [
    { hostname: 'c.example.com', label: 'Box', path: '/src' },
  ]);
  assert.deepEqual(renameInSetting(['a.example.com', 'c.example.com'], 'a.example.com', 'c.example.com'), ['c.example.com']);
  assert.deepEqual(renameInSetting('not a list', 'a.example.com', 'c.example.com'), []);
  assert.deepEqual(renameInSetting([42, 'a.example.com'], 'a.example.com', 'a.example.com'), [42, 'a.example.com']);
});

test('entries: a per-host user and fedramp, validated', () => {
  assert.deepEqual(parseHostEntry({ hostname: 'a.example.com', user: 'deploy', fedramp: true }, 'settings'), {
    hostname: 'a.example.com',
    user: 'deploy',
    fedramp: true,
    source: 'settings',
  });
  assert.deepEqual(parseHostEntry({ hostname: 'a.example.com', user: ' ops.team ', fedramp: false }, 'settings'), {
    hostname: 'a.example.com',
    user: 'ops.team',
    source: 'settings',
  });
  for (const [raw, message] of [
    [{ hostname: 'a.example.com', user: 'root; rm -rf' }, /"user": Invalid user name/],
    [{ hostname: 'a.example.com', user: '-oProxyCommand=x' }, /"user": Invalid user name/],
    [{ hostname: 'a.example.com', user: 'a\nb' }, /"user": Invalid user name/],
    [{ hostname: 'a.example.com', user: 7 }, /"user" must be a string/],
    [{ hostname: 'a.example.com', user: '' }, /"user": Invalid user name .* empty/],
    [{ hostname: 'a.example.com', fedramp: 'yes' }, /"fedramp" must be true or false/],
  ] as const) {
    assert.throws(() => parseHostEntry(raw, 'settings'), message, JSON.stringify(raw));
  }
  const list = parseHostList([{ hostname: 'a.example.com', user: 'x y' }, 'b.example.com'], 'settings');
  assert.deepEqual(
    list.hosts.map((h) => h.hostname),
    ['b.example.com'],
  );
  assert.equal(list.problems.length, 1);
});

test("sshUserFor: the host's user, else the certificate's principal, else the e-mail's local part", () => {
  assert.deepEqual(sshUserFor({ configured: 'ops', principals: ['deploy'], email: 'jdoe@example.com' }), {
    user: 'ops',
    source: 'configured',
  });
  assert.deepEqual(sshUserFor({ principals: ['deploy'], email: 'jdoe@example.com' }), {
    user: 'deploy',
    source: 'certificate',
    differsFromEmail: 'jdoe',
  });
  assert.deepEqual(sshUserFor({ principals: ['jdoe'], email: 'jdoe@example.com' }), { user: 'jdoe', source: 'certificate' });
  assert.deepEqual(sshUserFor({ principals: ['bad name', 'jdoe2'], email: 'jdoe@example.com' }), {
    user: 'jdoe2',
    source: 'certificate',
    differsFromEmail: 'jdoe',
  });
  assert.deepEqual(sshUserFor({ principals: [], email: 'jdoe@example.com' }), { user: 'jdoe', source: 'email' });
  assert.deepEqual(sshUserFor({ email: 'john.doe@example.com' }), { user: 'john.doe', source: 'email' });
  assert.deepEqual(sshUserFor({ principals: ['$(id)'], email: 'x y@example.com' }), { source: 'none' });
  assert.deepEqual(sshUserFor({}), { source: 'none' });
});

test('cliOnlyHosts: the hosts only access-ssh config add lists, with its user and fedramp', () => {
  const listed = [parseHostEntry('ssh.example.com', 'settings'), parseHostEntry('repo.example.com', 'repo')];
  const managed = [
    { hostname: hostname('ssh.example.com'), from: ['cli', 'vscode'] },
    { hostname: hostname('repo.example.com'), from: ['cli'] },
    { hostname: hostname('build.example.com'), user: 'deploy', from: ['cli'] },
    { hostname: hostname('gov.example.com'), fedramp: true, from: ['cli'] },
    { hostname: hostname('old.example.com'), from: ['vscode'] },
  ];
  assert.deepEqual(cliOnlyHosts(managed, listed), [
    { hostname: 'build.example.com', user: 'deploy', source: 'cli' },
    { hostname: 'gov.example.com', fedramp: true, source: 'cli' },
  ]);
  assert.deepEqual(cliOnlyHosts([], listed), []);
});

test('addToSetting: a CLI host keeps its user and fedramp in the object form', () => {
  assert.deepEqual(addToSetting(['a.example.com'], 'b.example.com', { user: 'deploy' }), [
    'a.example.com',
    { hostname: 'b.example.com', user: 'deploy' },
  ]);
  assert.deepEqual(addToSetting([], 'gov.example.com', { fedramp: true }), [{ hostname: 'gov.example.com', fedramp: true }]);
  assert.deepEqual(addToSetting([], 'c.example.com', {}), ['c.example.com']);
});
