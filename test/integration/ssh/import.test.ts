// Import against the real ssh: each real-world config shape
// (test/fixtures/import/shapes/*.conf, each with its expected hosts in its first
// lines) is found as expected and is a config the real ssh accepts; --fedramp too.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { cloudflaredCall, nodeScanIo, scanForCloudflaredHosts } from '../../../src/ssh/import.js';
import { run, SSH } from '../../support/openssh.js';

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
