// The helper as a whole, in process: exit codes and messages, ssh-config's output.
// The real process against the sandbox edge: test/integration/cli/cli.test.ts.

import { test, describe } from 'node:test';
import assert from 'node:assert/strict';
import { cliInProcess, SELF, type CliResult } from '../../support/cli.js';
import { renderSshConfig } from '../../../src/cli/commands/ssh-config.js';

const inProcess = (argv: string[], env: Record<string, string> = {}): Promise<CliResult> => cliInProcess(argv, env, { self: SELF });

describe('in process', () => {
  test('--help, help <command>, --version: exit 0 on stdout', async () => {
    const h = await inProcess(['--help']);
    assert.equal(h.code, 0);
    assert.match(h.stdout, /^Usage: access-ssh <command>/);
    assert.equal(h.stderr, '');
    const hs = await inProcess(['help', 'ssh']);
    assert.match(hs.stdout, /^Usage: access-ssh ssh --hostname <host>/);
    const v = await inProcess(['--version']);
    assert.equal(v.code, 0);
    assert.match(v.stdout, /^access-ssh version \d+\.\d+\.\d+/);
  });

  test('usage errors exit 2 with one message and where to look', async () => {
    for (const [argv, pattern, env] of [
      [['ssh'], /--hostname is required/, {}],
      [['bogus'], /Unknown command/, {}],
      [['ssh-gen', '--hostname', 'a.example.com', '--loglevel', 'loud'], /Unknown log level/, {}],
      [['ssh-gen', '--hostname', 'a.example.com'], /ACCESS_SSH_RENEW_MARGIN/, { ACCESS_SSH_RENEW_MARGIN: 'soon' }],
      [['ssh', '--hostname', 'a.example.com', '--service-token-id', 'x'], /go together/, {}],
      [['login'], /application URL is required/, {}],
    ] as const) {
      const r = await inProcess([...argv], { ...env });
      assert.equal(r.code, 2, argv.join(' '));
      assert.match(r.stderr, pattern);
      assert.match(r.stderr, /Run "access-ssh (help|--help)/);
      assert.equal(r.stdout, '');
      assert.ok(r.stderr.trim().split('\n').length <= 2);
    }
  });

  test('ssh-config prints cloudflared-style entries with this helper', async () => {
    const r = await inProcess(['ssh-config', '--hostname', 'ssh.example.com', '--short-lived-cert'], { HOME: '/home/jdoe' });
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Add to your \/home\/jdoe\/\.ssh\/config:/);
    assert.ok(
      r.stdout.includes(`Match host ssh.example.com exec "/usr/bin/node '/opt/access ssh/access-ssh.js' ssh-gen --hostname %h"`),
      r.stdout,
    );
    assert.ok(r.stdout.includes(`  ProxyCommand /usr/bin/node '/opt/access ssh/access-ssh.js' ssh --hostname %h`));
    assert.ok(r.stdout.includes('  IdentityFile ~/.cloudflared/%h-cf_key\n'));
    assert.ok(r.stdout.includes('  CertificateFile ~/.cloudflared/%h-cf_key-cert.pub\n'));
    const plain = renderSshConfig(undefined, false, 'access-ssh', '/home/x');
    assert.match(plain, /Host \[your hostname\]\n {2}ProxyCommand access-ssh ssh --hostname %h/);
  });
});
