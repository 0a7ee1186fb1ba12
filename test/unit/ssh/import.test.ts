// Import: hosts already set up for cloudflared, found in real-world config shapes
// (test/fixtures/import/shapes/*.conf, each with its expected hosts in its first
// lines), a HOME whose config follows Include (globs, ~, relative, a loop), and
// the user's files only read. Each shape is also a config the real ssh accepts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cloudflaredCall, nodeScanIo, scanForCloudflaredHosts } from '../../../src/ssh/import.js';
import { run, SSH } from './helpers.js';

const FIXTURES = path.join(__dirname, '../../../../test/fixtures/import');
const SHAPES = path.join(FIXTURES, 'shapes');

interface Expectation {
  hosts: string[];
  users: Record<string, string>;
  skipped: number;
}

function expectation(text: string): Expectation {
  const line = /^# expect:(.*)$/m.exec(text)?.[1] ?? '';
  const hosts: string[] = [];
  const users: Record<string, string> = {};
  for (const w of line.trim().split(/\s+/).filter(Boolean)) {
    const m = /^user=(.+)$/.exec(w);
    if (m) users[hosts[hosts.length - 1]!] = m[1]!;
    else hosts.push(w);
  }
  return { hosts, users, skipped: Number(/^# skipped: (\d+)$/m.exec(text)?.[1] ?? 0) };
}

const shapes = readdirSync(SHAPES)
  .filter((f) => f.endsWith('.conf'))
  .sort();

test('there are fixtures', () => assert.ok(shapes.length >= 13, `${shapes.length} shapes`));

for (const name of shapes) {
  test(`shape ${name}`, async () => {
    const file = path.join(SHAPES, name);
    const before = readFileSync(file);
    const want = expectation(before.toString('utf8'));
    const scan = await scanForCloudflaredHosts(file, nodeScanIo('/nonexistent-home'));
    assert.deepEqual(scan.hosts.map((h) => h.hostname).sort(), [...want.hosts].sort(), 'hosts');
    for (const h of scan.hosts) assert.equal(h.user, want.users[h.hostname], `user of ${h.hostname}`);
    assert.equal(scan.skipped.length, want.skipped, `skipped: ${JSON.stringify(scan.skipped)}`);
    for (const h of scan.hosts)
      for (const f of h.found) {
        assert.equal(f.file, file);
        assert.ok(f.line >= 1, 'a line to show');
      }
    assert.deepEqual(readFileSync(file), before, "the user's file is only read");
    // The shape is a config the real OpenSSH reads (a shape that ssh rejects would prove nothing).
    const g = await run(SSH, ['-G', '-F', file, 'probe.invalid']);
    assert.equal(g.code, 0, `ssh -G rejects ${name}: ${g.stderr}`);
  });
}

test('a HOME whose config keeps hosts in included files: globs, ~, relative to ~/.ssh, a loop', async () => {
  const home = path.join(FIXTURES, 'home');
  const config = path.join(home, '.ssh', 'config');
  const scan = await scanForCloudflaredHosts(config, nodeScanIo(home));
  assert.deepEqual(scan.hosts.map((h) => h.hostname).sort(), ['build.work.example', 'personal.example.com', 'team.example.com']);
  const team = scan.hosts.find((h) => h.hostname === 'team.example.com')!;
  assert.deepEqual(
    team.found.map((f) => [path.relative(home, f.file), f.line, f.by, f.alias]),
    [
      ['.ssh/config.d/10-cloudflare.conf', 1, 'cfpipe', 'cfpipe-team.example.com'],
      ['.ssh/config.d/10-cloudflare.conf', 3, 'proxycommand', 'cfpipe-team.example.com'],
    ],
  );
  assert.deepEqual(
    scan.files.map((f) => path.relative(home, f)),
    ['.ssh/config', '.ssh/config.d/10-cloudflare.conf', '.ssh/config.d/20-other.conf', '.ssh/work.conf', '.ssh/loop.conf'],
    'each file once, README not matched by *.conf, the loop stopped',
  );
  assert.deepEqual(scan.errors, []);
});

test('a missing config is no hosts, not an error; an unreadable include is reported', async () => {
  const none = await scanForCloudflaredHosts('/nonexistent/config', nodeScanIo('/nonexistent'));
  assert.deepEqual([none.hosts, none.files, none.errors], [[], [], []]);
  const dir = await fs.mkdtemp(path.join(tmpdir(), 'import-'));
  try {
    await fs.writeFile(
      path.join(dir, 'config'),
      `Include ${dir}/sub\nHost x.example.com\n  ProxyCommand cloudflared access ssh --hostname %h\n`,
    );
    await fs.mkdir(path.join(dir, 'sub'));
    const scan = await scanForCloudflaredHosts(path.join(dir, 'config'), nodeScanIo(dir));
    assert.deepEqual(
      scan.hosts.map((h) => h.hostname),
      ['x.example.com'],
    );
    assert.equal(scan.errors.length, 1, 'a directory named by Include cannot be read');
    assert.equal(scan.errors[0]!.file, path.join(dir, 'sub'));
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('cloudflaredCall reads the command lines people write', () => {
  assert.deepEqual(cloudflaredCall('/usr/local/bin/cloudflared access ssh --hostname %h'), {
    sub: 'ssh',
    hostname: '%h',
    serviceToken: false,
  });
  assert.deepEqual(cloudflaredCall('cloudflared access ssh-gen --hostname=vm.example.com'), {
    sub: 'ssh-gen',
    hostname: 'vm.example.com',
    serviceToken: false,
  });
  assert.deepEqual(cloudflaredCall('env TUNNEL_LOGLEVEL=debug cloudflared access tcp -hostname x.example.com'), {
    sub: 'ssh',
    hostname: 'x.example.com',
    serviceToken: false,
  });
  assert.equal(cloudflaredCall('cloudflared tunnel run'), undefined);
  assert.equal(cloudflaredCall('access-ssh ssh --hostname %h'), undefined, 'our own helper is not an import');
  assert.deepEqual(cloudflaredCall('cloudflared --loglevel debug --edge x access ssh --hostname %h'), {
    sub: 'ssh',
    hostname: '%h',
    serviceToken: false,
  });
  assert.equal(cloudflaredCall('cloudflared update; access ssh --hostname x'), undefined, 'access of another command');
});

test('cloudflared access --fedramp: recognised, and the host is imported as a FedRAMP host', async () => {
  assert.deepEqual(cloudflaredCall('cloudflared access --fedramp ssh --hostname %h'), {
    sub: 'ssh',
    hostname: '%h',
    serviceToken: false,
    fedramp: true,
  });
  assert.deepEqual(cloudflaredCall('cloudflared access --fedramp ssh-gen --hostname fed.example.gov'), {
    sub: 'ssh-gen',
    hostname: 'fed.example.gov',
    serviceToken: false,
    fedramp: true,
  });
  assert.deepEqual(cloudflaredCall('cloudflared access ssh --hostname %h --fedramp'), {
    sub: 'ssh',
    hostname: '%h',
    serviceToken: false,
    fedramp: true,
  });
  const dir = mkdtempSync(path.join(tmpdir(), 'import-fed-'));
  try {
    const file = path.join(dir, 'config');
    writeFileSync(
      file,
      [
        'Host fed.example.gov',
        '  ProxyCommand /usr/local/bin/cloudflared access --fedramp ssh --hostname %h',
        '  User jdoe',
        '',
        'Host plain.example.com',
        '  ProxyCommand cloudflared access ssh --hostname %h',
        '',
      ].join('\n'),
    );
    const scan = await scanForCloudflaredHosts(file, nodeScanIo('/nonexistent-home'));
    assert.deepEqual(
      scan.hosts.map((h) => [h.hostname, h.fedramp ?? false]),
      [
        ['fed.example.gov', true],
        ['plain.example.com', false],
      ],
    );
    const g = await run(SSH, ['-G', '-F', file, 'fed.example.gov']);
    assert.equal(g.code, 0, g.stderr);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
