// `access-ssh config`: what it writes read back by the real `ssh -G` (a HOME that is
// not the passwd entry's), then eight real helper processes adding hosts at once (the lock).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliInProcess, SELF, type CliResult } from '../../support/cli.js';
import { BEGIN_MARKER } from '../../../src/ssh/include.js';
import { readManagedHosts, syncExtensionHosts, updateManagedHosts } from '../../../src/ssh/managed-hosts.js';
import { tempDir } from '../../support/tmp.js';
import { sshG } from '../../support/openssh.js';
import { hostname } from '../../support/hostname.js';

const MAIN = path.join(__dirname, '../../../src/cli/main.js');

const cli = (argv: string[], home: string): Promise<CliResult> =>
  cliInProcess(argv, { HOME: home, PATH: process.env['PATH'] }, { self: SELF });

test('config add/list/remove: the managed file, one Include, absolute paths for a HOME that is not the passwd one; ssh -G reads it', async (t) => {
  const home = tempDir(t, 'access-ssh-config-');
  const sshConfig = path.join(home, 'my ssh config');
  const mine = 'Host *\n  ServerAliveInterval 30\n';
  fs.writeFileSync(sshConfig, mine, { mode: 0o640 });
  const add = await cli(
    ['config', 'add', '--hostname', 'Build.Example.com', '--user', 'deploy', '--config', sshConfig, '--no-check'],
    home,
  );
  assert.equal(add.code, 0, add.stderr);
  assert.match(
    add.stderr,
    /Wrote .*access-ssh\/config: cfpipe-build\.example\.com {2}\(build\.example\.com, user deploy; added by access-ssh config\)/,
  );
  assert.match(add.stderr, /Sign in once with: {2}access-ssh login https:\/\/build\.example\.com/);
  const managed = path.join(home, '.ssh', 'access-ssh', 'config');
  const text = fs.readFileSync(managed, 'utf8');
  assert.match(text, /^# access-ssh-host build\.example\.com from=cli user=deploy$/m);
  assert.ok(!/~/.test(text), 'no ~ anywhere: ssh would expand it from the passwd entry, not $HOME');
  assert.equal(fs.readFileSync(sshConfig, 'utf8'), `${BEGIN_MARKER}\nInclude "${managed}"\n# <<< Access SSH (managed) <<<\n${mine}`);
  assert.equal(fs.statSync(sshConfig).mode & 0o777, 0o640, "the user's mode kept");

  // The real ssh, with the user's own `Host *` below our Include.
  const g = await sshG(sshConfig, 'cfpipe-build.example.com', ['-o', 'StrictHostKeyChecking=no']);
  assert.deepEqual(g.get('user'), ['deploy']);
  assert.deepEqual(g.get('proxycommand'), ["/usr/bin/node '/opt/access ssh/access-ssh.js' ssh --hostname %h --non-interactive"]);
  assert.equal(g.get('identityfile')?.[0], path.join(home, '.cloudflared', 'build.example.com-cf_key'));
  assert.equal(g.get('certificatefile')?.[0], path.join(home, '.cloudflared', 'build.example.com-cf_key-cert.pub'));
  assert.deepEqual(g.get('serveraliveinterval'), ['30'], "the user's lines still apply");

  // A second host, then the extension syncs its own list: the CLI's hosts stay.
  assert.equal((await cli(['config', 'add', '--hostname', 'b.example.com', '--config', sshConfig, '--no-check'], home)).code, 0);
  await updateManagedHosts(
    managed,
    (hs) =>
      syncExtensionHosts(hs, [
        { hostname: hostname('ext.example.com'), user: 'jdoe' },
        { hostname: hostname('b.example.com'), user: 'jdoe' },
      ]),
    {
      helper: '/x/launcher',
      platform: 'linux',
      nonInteractive: true,
      keyDir: path.join(home, '.cloudflared'),
    },
  );
  const list = await cli(['config', 'list', '--json'], home);
  assert.equal(list.code, 0);
  const json = JSON.parse(list.stdout) as { hosts: { hostname: string; from: string[]; user?: string }[] };
  assert.deepEqual(
    json.hosts.map((h) => [h.hostname, h.from.join(','), h.user]),
    [
      ['b.example.com', 'cli,vscode', 'jdoe'],
      ['build.example.com', 'cli', 'deploy'],
      ['ext.example.com', 'vscode', 'jdoe'],
    ],
  );
  const plain = await cli(['config', 'list'], home);
  assert.match(
    plain.stdout,
    /3 Access hosts in .*\n {2}cfpipe-b\.example\.com {2}\(b\.example\.com, user jdoe; added by access-ssh config and VS Code\)/,
  );

  // Remove: the extension's host is not the CLI's to remove; a shared one keeps the extension's mark.
  const refused = await cli(['config', 'remove', '--hostname', 'ext.example.com', '--config', sshConfig], home);
  assert.equal(refused.code, 1);
  assert.match(refused.stderr, /was added in VS Code.*Access: Remove Host/);
  const shared = await cli(['config', 'remove', '--hostname', 'b.example.com', '--config', sshConfig], home);
  assert.equal(shared.code, 0);
  assert.match(shared.stderr, /stays in .* because VS Code lists it too/);
  assert.equal((await cli(['config', 'remove', '--hostname', 'build.example.com', '--config', sshConfig], home)).code, 0);
  assert.deepEqual(
    (await readManagedHosts(managed)).map((h) => `${h.hostname}:${h.from.join(',')}`),
    ['b.example.com:vscode', 'ext.example.com:vscode'],
  );
  assert.ok(fs.readFileSync(sshConfig, 'utf8').startsWith(BEGIN_MARKER), 'the Include stays while hosts are left');
  const none = await cli(['config', 'remove', '--hostname', 'nope.example.com', '--config', sshConfig], home);
  assert.equal(none.code, 0);
  assert.match(none.stderr, /not in .*nothing to remove/);
});

test('eight access-ssh processes adding hosts at once: all eight land (the lock shared with the extension)', async (t) => {
  const home = tempDir(t, 'access-ssh-config-race-');
  const sshConfig = path.join(home, 'config');
  const hosts = Array.from({ length: 8 }, (_, i) => `h${i}.example.com`);
  const results = await Promise.all(
    hosts.map(
      (h) =>
        new Promise<{ code: number | null; err: string }>((resolve) => {
          const child = spawn(process.execPath, [MAIN, 'config', 'add', '--hostname', h, '--config', sshConfig, '--no-check'], {
            env: { HOME: home, PATH: process.env['PATH'] },
            stdio: ['ignore', 'ignore', 'pipe'],
          });
          let err = '';
          child.stderr.on('data', (d: Buffer) => (err += d.toString()));
          child.on('close', (code) => resolve({ code, err }));
        }),
    ),
  );
  for (const r of results) assert.equal(r.code, 0, r.err);
  const listed = await readManagedHosts(path.join(home, '.ssh', 'access-ssh', 'config'));
  assert.deepEqual(
    listed.map((h) => h.hostname),
    hosts,
  );
  assert.equal(fs.readFileSync(sshConfig, 'utf8').split(BEGIN_MARKER).length, 2, 'one Include block');
  assert.ok(!fs.existsSync(path.join(home, '.ssh', 'access-ssh', 'config.lock')), 'the lock is released');
});
