// Import: hosts already set up for cloudflared: a HOME whose config follows Include
// (globs, ~, relative, a loop), the user's files only read, the command lines people
// write. The real-world shapes read by the real ssh: test/integration/ssh/import.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cloudflaredCall, nodeScanIo, scanForCloudflaredHosts } from '../../../src/ssh/import.js';

const FIXTURES = path.join(__dirname, '../../../../test/fixtures/import');

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
