// `access-ssh config add|remove|list`: the extension's writer for any OpenSSH
// client, in process (messages, exit codes, files, import). The real `ssh -G` reading
// the result and eight helper processes at once: test/integration/cli/config.test.ts.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cliInProcess, SELF, type CliResult } from '../../support/cli.js';
import { BEGIN_MARKER } from '../../../src/ssh/include.js';
import { readManagedHosts } from '../../../src/ssh/managed-hosts.js';
import { tempDir } from '../../support/tmp.js';

const cli = (argv: string[], home: string): Promise<CliResult> =>
  cliInProcess(argv, { HOME: home, PATH: process.env['PATH'] }, { self: SELF });

test('config: usage errors exit 2 and name the command', async (t) => {
  const home = tempDir(t, 'access-ssh-config-');
  for (const [argv, pattern] of [
    [['config'], /needs an action: add, remove, list or import/],
    [['config', 'frob'], /Unknown config action "frob"/],
    [['config', 'add'], /--hostname is required/],
    [['config', 'add', '--hostname', 'a b'], /not a valid host name|is not a host name/],
    [['config', 'add', '--hostname', 'a.example.com', '--user', '$(id)'], /Invalid user name/],
    [['config', 'list', '--hostname', 'a.example.com'], /takes no --hostname/],
  ] as const) {
    const r = await cli([...argv], home);
    assert.equal(r.code, 2, argv.join(' '));
    assert.match(r.stderr, pattern, argv.join(' '));
    assert.match(r.stderr, /Run "access-ssh help config"/);
  }
  assert.deepEqual(fs.readdirSync(home), [], 'nothing written');
});

test('config add: the last CLI host removed takes the Include out; a damaged marker is an error and nothing changes', async (t) => {
  const home = tempDir(t, 'access-ssh-config-');
  const sshConfig = path.join(home, 'config');
  fs.writeFileSync(sshConfig, 'Host a\n  User x\n');
  assert.equal((await cli(['config', 'add', '--hostname', 'a.example.com', '--config', sshConfig, '--no-check'], home)).code, 0);
  const r = await cli(['config', 'remove', '--hostname', 'a.example.com', '--config', sshConfig], home);
  assert.equal(r.code, 0);
  assert.match(r.stderr, /removed the Include/);
  assert.equal(fs.readFileSync(sshConfig, 'utf8'), 'Host a\n  User x\n');

  const broken = `${BEGIN_MARKER}\nHost a\n`;
  fs.writeFileSync(sshConfig, broken);
  const b = await cli(['config', 'add', '--hostname', 'a.example.com', '--config', sshConfig, '--no-check'], home);
  assert.equal(b.code, 1);
  assert.match(b.stderr, /damaged/);
  assert.match(b.stderr, /remove the lines between/);
  assert.equal(fs.readFileSync(sshConfig, 'utf8'), broken);
});

test("config import: lists the hosts set up for cloudflared (following Include), --yes adds them; the user's lines stay", async (t) => {
  const home = tempDir(t, 'access-ssh-config-import-');
  const sshConfig = path.join(home, 'config');
  const included = path.join(home, 'work.conf');
  const mine = `Include ${included}\nHost bastion\n  HostName bastion.corp.example\n  User admin\n  ProxyCommand /usr/local/bin/cloudflared access ssh --hostname %h\nHost *.lab.example\n  ProxyCommand cloudflared access ssh --hostname %h\n`;
  fs.writeFileSync(sshConfig, mine);
  fs.writeFileSync(
    included,
    'Match host vm.example.com exec "cloudflared access ssh-gen --hostname %h"\n  ProxyCommand cloudflared access ssh --hostname %h\n',
  );
  const list = await cli(['config', 'import', '--config', sshConfig], home);
  assert.equal(list.code, 0, list.stderr);
  assert.match(
    list.stdout,
    /2 hosts set up for cloudflared:\n {2}vm\.example\.com {2}.*work\.conf:1 match-exec\n {2}bastion\.corp\.example \(user admin\) {2}.*config:5 proxycommand Host bastion\n/,
  );
  assert.match(list.stdout, /access-ssh config import --yes/);
  assert.match(list.stderr, /skipped .*config:6: a wildcard pattern names no host to import/);
  assert.equal(fs.readFileSync(sshConfig, 'utf8'), mine, 'listing changes nothing');
  assert.ok(!fs.existsSync(path.join(home, '.ssh')), 'nor writes anything');

  const yes = await cli(['config', 'import', '--yes', '--config', sshConfig], home);
  assert.equal(yes.code, 0, yes.stderr);
  const hosts = await readManagedHosts(path.join(home, '.ssh', 'access-ssh', 'config'));
  assert.deepEqual(
    hosts.map((h) => [h.hostname, h.user, h.from.join()]),
    [
      ['bastion.corp.example', 'admin', 'cli'],
      ['vm.example.com', undefined, 'cli'],
    ],
  );
  const after = fs.readFileSync(sshConfig, 'utf8');
  assert.ok(after.endsWith(mine), 'every line of the user is kept, the Include block put before them');
  assert.ok(after.startsWith(BEGIN_MARKER));
  // Imported hosts are not offered again.
  const again = await cli(['config', 'import', '--config', sshConfig], home);
  assert.match(again.stdout, /No hosts set up for cloudflared in .* that are not Access hosts already/);
});
