// The rendered launchers run by the real shell: the helper on the editor runtime, and
// cloudflared's.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { renderLauncher } from '../../../src/ssh/launcher.js';

test('POSIX launcher runs the helper on the editor runtime with the routing environment', { skip: process.platform === 'win32' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  try {
    const script = join(dir, "it's a helper.js");
    writeFileSync(
      script,
      'console.log(JSON.stringify({argv: process.argv.slice(2), ct: process.env.ACCESS_SSH_CONNECT_TO, ca: process.env.NODE_EXTRA_CA_CERTS, e: process.env.ELECTRON_RUN_AS_NODE}))',
    );
    const l = renderLauncher({
      platform: process.platform,
      execPath: process.execPath,
      script,
      env: { ACCESS_SSH_CONNECT_TO: '::127.0.0.1:8443', NODE_EXTRA_CA_CERTS: join(dir, 'ca $x.pem'), EMPTY: '' },
    });
    assert.equal(l.fileName, 'access-ssh');
    assert.doesNotMatch(l.content, /EMPTY/);
    const file = join(dir, l.fileName);
    writeFileSync(file, l.content);
    chmodSync(file, 0o700);
    const out = JSON.parse(execFileSync(file, ['ssh', '--hostname', 'a b', '--non-interactive'], { encoding: 'utf8' })) as unknown;
    assert.deepEqual(out, {
      argv: ['ssh', '--hostname', 'a b', '--non-interactive'],
      ct: '::127.0.0.1:8443',
      ca: join(dir, 'ca $x.pem'),
      e: '1',
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('cloudflared launcher drops --non-interactive and runs `cloudflared access`', { skip: process.platform === 'win32' }, () => {
  const dir = mkdtempSync(join(tmpdir(), 'launcher-'));
  try {
    const fake = join(dir, 'cloudflared');
    writeFileSync(fake, '#!/bin/sh\nfor a do printf "%s|" "$a"; done\n');
    chmodSync(fake, 0o700);
    const l = renderLauncher({ platform: 'linux', execPath: '/x/node', script: '/x/h.js', env: {}, cloudflared: fake });
    const file = join(dir, l.fileName);
    writeFileSync(file, l.content);
    chmodSync(file, 0o700);
    const out = execFileSync(file, ['ssh-gen', '--hostname', 'h.example.com', '--non-interactive'], { encoding: 'utf8' });
    assert.equal(out, 'access|ssh-gen|--hostname|h.example.com|');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
