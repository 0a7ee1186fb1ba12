// Flag parsing: cloudflared's syntax and names, usage errors, env defaults.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boolFlag, helpText, parseArgs, stringFlag, UsageError, type Invocation, type ParsedCommand } from '../../../src/cli/args.js';
import { COMMANDS, PROGRAM } from '../../../src/cli/spec.js';
import { parseTarget } from '../../../src/cli/host.js';
import { parseLogLevel } from '../../../src/cli/log.js';
import { browserCommand } from '../../../src/cli/open-browser.js';

function run(argv: string[], env: Record<string, string> = {}): ParsedCommand {
  const inv: Invocation = parseArgs(argv, COMMANDS, env);
  assert.equal(inv.kind, 'run');
  return inv;
}

function usage(argv: string[], pattern: RegExp, env: Record<string, string> = {}): void {
  assert.throws(
    () => parseArgs(argv, COMMANDS, env),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, String(err));
      assert.match(err.message, pattern);
      return true;
    },
  );
}

test('flag forms: --x v, --x=v, -x v, aliases, flags after positionals', () => {
  for (const argv of [
    ['ssh', '--hostname', 'h.example.com'],
    ['ssh', '--hostname=h.example.com'],
    ['ssh', '-hostname', 'h.example.com'],
    ['ssh', '-T', 'h.example.com'],
    ['ssh', '--tunnel-host', 'h.example.com'],
    ['access', 'ssh', '--hostname', 'h.example.com'],
    ['forward', 'tcp', '--hostname', 'h.example.com'],
  ]) {
    const p = run(argv);
    assert.equal(p.command.name, 'ssh', argv.join(' '));
    assert.equal(stringFlag(p, 'hostname'), 'h.example.com', argv.join(' '));
  }
  const login = run(['login', 'https://app.example.com', '--quiet']);
  assert.deepEqual(login.positionals, ['https://app.example.com']);
  assert.equal(boolFlag(login, 'quiet'), true);
  assert.equal(boolFlag(run(['login', '-q', 'https://a.example.com']), 'quiet'), true);
  assert.equal(boolFlag(run(['ssh-config', '--hostname', 'h', '--short-lived-cert=false']), 'short-lived-cert'), false);
  assert.equal(boolFlag(run(['ssh-gen', '--hostname', 'h', '--non-interactive']), 'non-interactive'), true);
});

test('service token and hostname from the environment, flags win', () => {
  const env = {
    TUNNEL_SERVICE_TOKEN_ID: 'env-id',
    TUNNEL_SERVICE_TOKEN_SECRET: 'env-secret',
    TUNNEL_SERVICE_HOSTNAME: 'env.example.com',
    ACCESS_SSH_LOGLEVEL: 'debug',
  };
  const p = run(['ssh'], env);
  assert.equal(stringFlag(p, 'service-token-id'), 'env-id');
  assert.equal(stringFlag(p, 'service-token-secret'), 'env-secret');
  assert.equal(stringFlag(p, 'hostname'), 'env.example.com');
  assert.equal(stringFlag(p, 'loglevel'), 'debug');
  const q = run(['ssh', '--id', 'flag-id', '--secret', 'flag-secret', '--hostname', 'f.example.com', '--loglevel', 'warn'], env);
  assert.equal(stringFlag(q, 'service-token-id'), 'flag-id');
  assert.equal(stringFlag(q, 'service-token-secret'), 'flag-secret');
  assert.equal(stringFlag(q, 'hostname'), 'f.example.com');
  assert.equal(stringFlag(q, 'loglevel'), 'warn');
});

test('help and version', () => {
  assert.deepEqual(parseArgs(['--version'], COMMANDS), { kind: 'version' });
  assert.deepEqual(parseArgs(['version'], COMMANDS), { kind: 'version' });
  assert.deepEqual(parseArgs(['--help'], COMMANDS), { kind: 'help' });
  assert.deepEqual(parseArgs(['help'], COMMANDS), { kind: 'help' });
  const h = parseArgs(['help', 'ssh-gen'], COMMANDS);
  assert.equal(h.kind === 'help' && h.command?.name, 'ssh-gen');
  const h2 = parseArgs(['ssh', '--help'], COMMANDS);
  assert.equal(h2.kind === 'help' && h2.command?.name, 'ssh');
  const text = helpText(PROGRAM, COMMANDS);
  for (const c of [
    'login <url>',
    'token <url>',
    'ssh --hostname <host>',
    'ssh-gen --hostname <host>',
    'ssh-config --hostname <host> [--short-lived-cert]',
  ]) {
    assert.ok(text.includes(c), c);
  }
  const sshHelp = helpText(
    PROGRAM,
    COMMANDS,
    COMMANDS.find((c) => c.name === 'ssh'),
  );
  assert.match(sshHelp, /--service-token-id, --id <id>/);
  assert.match(sshHelp, /TUNNEL_SERVICE_TOKEN_ID/);
  assert.match(sshHelp, /--non-interactive/);
});

test('usage errors', () => {
  usage([], /No command/);
  usage(['frobnicate'], /Unknown command "frobnicate"/);
  usage(['--bogus'], /Unknown option/);
  usage(['ssh', '--bogus', 'x'], /Unknown option "--bogus" for "ssh"/);
  usage(['ssh', '--hostname'], /needs a value/);
  usage(['ssh', '--hostname', 'a', '--hostname', 'b'], /given twice/);
  usage(['ssh', '--hostname', 'a', '127.0.0.1:1', 'extra'], /Too many arguments/);
  usage(['login', 'https://a.example.com', 'https://b.example.com'], /Too many arguments/);
  usage(['ssh-config', '--short-lived-cert=maybe'], /true or false/);
  usage(['help', 'nope'], /unknown command/);
});

test('targets: bare host or https URL; no other schemes, no junk', () => {
  assert.deepEqual({ ...parseTarget('ssh.example.com', 'ssh') }, { host: 'ssh.example.com', appUrl: new URL('https://ssh.example.com/') });
  assert.equal(parseTarget('https://SSH.example.com/', 'ssh').host, 'ssh.example.com');
  assert.equal(parseTarget('http://ssh.example.com', 'ssh').appUrl.protocol, 'https:');
  assert.equal(parseTarget('ssh.example.com:8443', 'ssh').appUrl.port, '8443');
  for (const bad of ['', 'ftp://x.example.com', 'bad host', 'a"b', 'x;rm -rf', '%h', 'https://u:p@x.example.com']) {
    assert.throws(() => parseTarget(bad, 'ssh'), UsageError, bad);
  }
  assert.throws(() => parseTarget(undefined, 'ssh'), /--hostname is required/);
});

test('log levels and browser commands', () => {
  assert.equal(parseLogLevel('DEBUG'), 'debug');
  assert.equal(parseLogLevel('fatal'), 'error');
  assert.equal(parseLogLevel('loud'), undefined);
  const url = 'https://a.example.com/cdn-cgi/access/cli?token=x';
  assert.deepEqual(browserCommand(url, {}, 'linux'), { command: 'xdg-open', args: [url] });
  assert.deepEqual(browserCommand(url, {}, 'darwin'), { command: 'open', args: [url] });
  assert.deepEqual(browserCommand(url, {}, 'win32'), { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] });
  assert.deepEqual(browserCommand(url, { BROWSER: '/opt/b.sh' }, 'linux'), { command: '/opt/b.sh', args: [url] });
  assert.deepEqual(browserCommand(url, { BROWSER: 'firefox --new-tab %s:chromium' }, 'linux'), {
    command: 'firefox',
    args: ['--new-tab', url],
  });
});

test('a trailing dot is normalised once: the same name for files, Host and SNI (issue 11, item 8)', () => {
  const t = parseTarget('VM.example.test.', 'ssh-gen');
  assert.equal(t.host, 'vm.example.test');
  assert.equal(t.appUrl.hostname, 'vm.example.test');
  assert.equal(t.appUrl.href, 'https://vm.example.test/');
  assert.equal(parseTarget('https://vm.example.test./app', 'login').appUrl.href, 'https://vm.example.test/app');
});

test('--fedramp: on login, token, ssh, ssh-gen, ssh-config, after the command or before it as cloudflared access takes it', () => {
  for (const cmd of [
    ['login', 'https://h.example.com'],
    ['token', 'https://h.example.com'],
    ['ssh', '--hostname', 'h.example.com'],
    ['ssh-gen', '--hostname', 'h.example.com'],
    ['ssh-config', '--hostname', 'h.example.com'],
  ]) {
    assert.equal(boolFlag(run([...cmd, '--fedramp']), 'fedramp'), true, `${cmd[0]} --fedramp`);
    assert.equal(boolFlag(run(['access', '--fedramp', ...cmd]), 'fedramp'), true, `access --fedramp ${cmd[0]}`);
    assert.equal(boolFlag(run(['--fedramp', ...cmd]), 'fedramp'), true, `--fedramp ${cmd[0]}`);
    assert.equal(boolFlag(run(['access', '--fedramp=false', ...cmd]), 'fedramp'), false);
    assert.equal(boolFlag(run(cmd), 'fedramp'), false, `${cmd[0]} alone`);
  }
  usage(['--fedramp=maybe', 'ssh', '--hostname', 'h.example.com'], /--fedramp takes true or false/);
  // The flag given after the command wins over the one before it.
  assert.equal(boolFlag(run(['--fedramp', 'ssh', '--hostname', 'h.example.com', '--fedramp=false']), 'fedramp'), false);
});
