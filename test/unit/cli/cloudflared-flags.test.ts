// cloudflared's other `access` flags (issue 8, item 5): global flags before the
// command, tcp/rdp/smb, --destination, -H, --url, --logfile/--log-directory, and the
// usage errors for what access-ssh does not support.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { helpText, listFlag, parseArgs, stringFlag, UsageError, type Invocation, type ParsedCommand } from '../../../src/cli/args.js';
import { COMMANDS, PROGRAM } from '../../../src/cli/spec.js';
import { checkDestination, parseHeaders } from '../../../src/cli/headers.js';
import { parseListenAddress } from '../../../src/cli/listen-address.js';
import { logFilePath, openLogFile, LOG_FILE_NAME } from '../../../src/cli/log-file.js';

function run(argv: string[], env: Record<string, string> = {}): ParsedCommand {
  const inv: Invocation = parseArgs(argv, COMMANDS, env);
  assert.equal(inv.kind, 'run', argv.join(' '));
  return inv;
}

function usage(argv: string[], pattern: RegExp, env: Record<string, string> = {}): void {
  assert.throws(
    () => parseArgs(argv, COMMANDS, env),
    (err: unknown) => {
      assert.ok(err instanceof UsageError, `${argv.join(' ')}: ${String(err)}`);
      assert.match(err.message, pattern, argv.join(' '));
      return true;
    },
  );
}

function usageOf(fn: () => unknown, pattern: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof UsageError, String(err));
    assert.match(err.message, pattern);
    return true;
  });
}

test('global flags stand before the command, before or after "access", as with cloudflared', () => {
  for (const argv of [
    ['--loglevel', 'debug', 'access', 'ssh', '--hostname', 'h.example.com'],
    ['--loglevel=debug', 'ssh', '--hostname', 'h.example.com'],
    ['access', '--loglevel', 'debug', 'tcp', '-T', 'h.example.com'],
    ['-loglevel', 'debug', 'forward', 'ssh', '--hostname=h.example.com'],
    ['--log-level', 'debug', 'access', 'rdp', '--hostname', 'h.example.com'],
  ]) {
    const p = run(argv);
    assert.equal(p.command.name, 'ssh', argv.join(' '));
    assert.equal(stringFlag(p, 'loglevel'), 'debug', argv.join(' '));
    assert.equal(stringFlag(p, 'hostname'), 'h.example.com', argv.join(' '));
  }
  const p = run(['--logfile', '/tmp/x.log', '--no-autoupdate', 'access', 'ssh-gen', '--hostname', 'h.example.com']);
  assert.equal(p.command.name, 'ssh-gen');
  assert.equal(stringFlag(p, 'logfile'), '/tmp/x.log');
  const d = run(['--log-directory', '/tmp/logs', 'login', 'https://a.example.com']);
  assert.equal(stringFlag(d, 'log-directory'), '/tmp/logs');
  assert.deepEqual(d.positionals, ['https://a.example.com']);
  // A command's own flag before it works too (cloudflared: `access --fedramp ssh`).
  assert.equal(stringFlag(run(['--hostname', 'h.example.com', 'ssh']), 'hostname'), 'h.example.com');
  // Before the command, a flag of another command only is refused once the command is known.
  usage(['--short-lived-cert', 'ssh', '--hostname', 'h'], /Unknown option "--short-lived-cert" for "ssh" \(given before the command\)/);
  usage(['--bogus', 'ssh'], /Unknown option "--bogus"/);
  usage(['--loglevel'], /--loglevel needs a value/);
  usage(['--loglevel', 'debug'], /No command given/);
  usage(['--loglevel', 'debug', 'ssh', '--loglevel', 'info', '--hostname', 'h'], /--loglevel is given twice/);
});

test('ssh, tcp, rdp and smb are one command; --url/--listener/-L, --destination, env defaults', () => {
  for (const word of ['ssh', 'tcp', 'rdp', 'smb']) {
    assert.equal(run([word, '--hostname', 'h.example.com']).command.name, 'ssh', word);
  }
  for (const flag of ['--url', '--listener', '-L', '-url']) {
    assert.equal(stringFlag(run(['tcp', '-T', 'h.example.com', flag, '127.0.0.1:5432']), 'url'), '127.0.0.1:5432', flag);
  }
  const positional = run(['tcp', '--hostname', 'h.example.com', '127.0.0.1:5432']);
  assert.deepEqual(positional.positionals, ['127.0.0.1:5432']);
  const env = run(['tcp'], {
    TUNNEL_SERVICE_HOSTNAME: 'e.example.com',
    TUNNEL_SERVICE_URL: 'localhost:3389',
    TUNNEL_SERVICE_DESTINATION: 'db.internal:5432',
  });
  assert.equal(stringFlag(env, 'url'), 'localhost:3389');
  assert.equal(stringFlag(env, 'destination'), 'db.internal:5432');
  assert.equal(
    stringFlag(run(['ssh', '-T', 'h', '--destination', 'x:22'], { TUNNEL_SERVICE_DESTINATION: 'env:22' }), 'destination'),
    'x:22',
  );
  usage(['ssh', '-T', 'h', 'a:1', 'b:2'], /Too many arguments/);
});

test('-H/--header repeats, in order; other flags still may not', () => {
  const p = run(['ssh', '--hostname', 'h', '-H', 'X-One: 1', '--header', 'X-Two: 2', '-H=X-One: 3', '--header=X-Three:3']);
  assert.deepEqual(listFlag(p, 'header'), ['X-One: 1', 'X-Two: 2', 'X-One: 3', 'X-Three:3']);
  assert.deepEqual(listFlag(run(['ssh', '--hostname', 'h']), 'header'), []);
  usage(['ssh', '--hostname', 'h', '-H'], /--header needs a value/);
  usage(['ssh', '--destination', 'a:1', '--destination', 'b:2', '-T', 'h'], /--destination is given twice/);
  // -h stays help; -H is the header.
  const h = parseArgs(['ssh', '-h'], COMMANDS);
  assert.equal(h.kind, 'help');
});

test('what access-ssh does not support is a usage error that says what to use instead', () => {
  usage(['ssh', '-T', 'h', '--connect-to', 'x:443:127.0.0.1:8443'], /--connect-to is not supported.*ACCESS_SSH_CONNECT_TO/);
  usage(['tcp', '-T', 'h', '--debug-stream', '10'], /--debug-stream is not supported.*--loglevel debug/);
  usage(['--output', 'json', 'ssh', '-T', 'h'], /--output is not supported.*plain text/);
  usage(['--transport-loglevel', 'debug', 'access', 'ssh', '-T', 'h'], /--transport-loglevel is not supported.*--loglevel/);
  usage(['--config', '/etc/cloudflared/config.yml', 'access', 'ssh', '-T', 'h'], /--config is not supported.*no configuration file/);
  usage(['access', 'curl', 'https://a.example.com'], /"curl" is not supported[\s\S]*access-ssh token <url>; \} \| curl -H @-/);
  usage(['tcp', '-T', 'h', '--bogus'], /Unknown option "--bogus" for "ssh"/);
  // Not in the help: the unsupported command and flags.
  const text = helpText(PROGRAM, COMMANDS);
  assert.doesNotMatch(text, /curl <url>|--connect-to <|--output|--transport-loglevel/);
  assert.match(text, /also tcp, rdp, smb/);
  assert.match(text, /--logfile <file>/);
  assert.match(text, /--log-directory <dir>/);
  const sshHelp = helpText(
    PROGRAM,
    COMMANDS,
    COMMANDS.find((c) => c.name === 'ssh'),
  );
  assert.match(sshHelp, /--header, -H <Name: value> …/);
  assert.match(sshHelp, /--url, --listener, -L <host:port>/);
  assert.match(sshHelp, /--destination <host:port>.*TUNNEL_SERVICE_DESTINATION/);
  assert.doesNotMatch(sshHelp, /connect-to|debug-stream/);
});

test('headers: "Name: value" trimmed as cloudflared does; repeated names joined; the bad ones refused by name only', () => {
  assert.deepEqual(parseHeaders(['X-Team: blue', 'x-team:green', ' X-Empty :', 'X-Colon: a:b '], 'ssh'), {
    'X-Team': 'blue, green',
    'X-Empty': '',
    'X-Colon': 'a:b',
  });
  assert.deepEqual(parseHeaders([], 'ssh'), {});
  usageOf(() => parseHeaders(['X-Secret=hunter2'], 'ssh'), /"Name: value"/);
  assert.throws(
    () => parseHeaders(['X-Secret=hunter2'], 'ssh'),
    (e: Error) => !e.message.includes('hunter2'),
  );
  usageOf(() => parseHeaders(['Bad Name: x'], 'ssh'), /not a valid header name/);
  usageOf(() => parseHeaders([': x'], 'ssh'), /not a valid header name/);
  usageOf(() => parseHeaders(['X-A: one\r\nInjected: two'], 'ssh'), /line break/);
  usageOf(() => parseHeaders(['X-A: one\ntwo'], 'ssh'), /line break/);
  usageOf(() => parseHeaders(['X-A: nul\u0000'], 'ssh'), /control character/);
  assert.deepEqual(parseHeaders(['X-Tab: a\tb'], 'ssh'), { 'X-Tab': 'a\tb' });
  const refused: Array<[string, RegExp]> = [
    ['Cf-Access-Token', /sends the stored app token itself/],
    ['cf-access-client-id', /--service-token-id/],
    ['CF-ACCESS-CLIENT-SECRET', /--service-token-secret/],
    ['Cookie', /Cf-Access-Token/],
    ['Cf-Access-Jump-Destination', /use --destination/],
    ['User-Agent', /its own User-Agent/],
    ['Host', /ACCESS_SSH_CONNECT_TO/],
    ['Proxy-Authorization', /proxy URL/],
    ['Upgrade', /websocket handshake sets it/],
    ['Sec-WebSocket-Key', /websocket handshake sets it/],
    ['Connection', /websocket handshake sets it/],
  ];
  for (const [name, re] of refused) {
    usageOf(() => parseHeaders([`${name}: s3cr3t-value`], 'ssh'), re);
    // The message names the header, never its value.
    assert.throws(
      () => parseHeaders([`${name}: s3cr3t-value`], 'ssh'),
      (e: Error) => e.message.includes(name) && !e.message.includes('s3cr3t'),
      name,
    );
  }
});

test('--destination: sent verbatim when it is a single header-safe word', () => {
  assert.equal(checkDestination(undefined, 'ssh'), undefined);
  assert.equal(checkDestination('db.internal:5432', 'ssh'), 'db.internal:5432');
  assert.equal(checkDestination(' tcp://10.0.0.5:22/ ', 'ssh'), 'tcp://10.0.0.5:22/');
  usageOf(() => checkDestination('', 'ssh'), /empty/);
  usageOf(() => checkDestination('a b:22', 'ssh'), /space/);
  usageOf(() => checkDestination('a:22\r\nX-Evil: 1', 'ssh'), /line break/);
  usageOf(() => checkDestination('x'.repeat(2000), 'ssh'), /longer than 1024/);
});

test('--url: [scheme://]host:port as cloudflared validates it; a port is required', () => {
  assert.deepEqual(parseListenAddress('127.0.0.1:5432', 'ssh'), { host: '127.0.0.1', port: 5432, exposed: false });
  assert.deepEqual(parseListenAddress('localhost:2222', 'ssh'), { host: 'localhost', port: 2222, exposed: false });
  assert.deepEqual(parseListenAddress('tcp://localhost:3306', 'ssh'), { host: 'localhost', port: 3306, exposed: false });
  assert.deepEqual(parseListenAddress('rdp://127.0.0.2:3389/', 'ssh'), { host: '127.0.0.2', port: 3389, exposed: false });
  assert.deepEqual(parseListenAddress('[::1]:0', 'ssh'), { host: '::1', port: 0, exposed: false });
  assert.deepEqual(parseListenAddress('0.0.0.0:5000', 'ssh'), { host: '0.0.0.0', port: 5000, exposed: true });
  assert.deepEqual(parseListenAddress('db-proxy.lan:5000', 'ssh'), { host: 'db-proxy.lan', port: 5000, exposed: true });
  for (const [bad, re] of [
    ['', /empty/],
    ['127.0.0.1', /no port/],
    ['localhost:', /no port/],
    [':5432', /no host/],
    ['127.0.0.1:65536', /not a port number/],
    ['127.0.0.1:http', /not a port number/],
    ['ftp://127.0.0.1:21', /ftp scheme/],
    ['::1:22', /brackets/],
    ['[not-v6]:22', /not a host name/],
    ['999.1.1.1:22', /not a host name or IP/],
    ['bad host:22', /not a host name/],
  ] as Array<[string, RegExp]>) {
    usageOf(() => parseListenAddress(bad, 'ssh'), re);
  }
});

test('--logfile / --log-directory: one of them; the file is 0600 and every line redacted', () => {
  const dir = mkdtempSync(join(tmpdir(), 'access-ssh-logfile-'));
  try {
    usageOf(() => logFilePath({ logfile: 'a', logDirectory: 'b' }), /do not go together/);
    usageOf(() => logFilePath({ logfile: ' ' }), /--logfile is empty/);
    assert.equal(logFilePath({}), undefined);
    assert.equal(logFilePath({ logDirectory: join(dir, 'd') }), join(dir, 'd', LOG_FILE_NAME));

    const file = join(dir, 'helper.log');
    const jwt = 'eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJqZG9lIn0.c2lnbmF0dXJl';
    const lf = openLogFile({ logfile: file }, 'info')!;
    lf.logger.debug('not at info');
    lf.logger.info(`handshake with Cf-Access-Token: ${jwt}`);
    lf.logger.warn('second\nline');
    lf.close();
    lf.logger.info('after close: dropped');
    const text = readFileSync(file, 'utf8');
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.doesNotMatch(text, /not at info|after close/);
    assert.ok(!text.includes(jwt), text);
    assert.match(text, /^\d{4}-\d\d-\d\dT[\d:.]+Z \[\d+\] access-ssh: handshake with Cf-Access-Token: \[redacted\]$/m);
    assert.match(text, /access-ssh: warning: second\n\S+ \[\d+\]\s+line\n$/);

    // Appends; an existing world-readable log of ours is made private.
    chmodSync(file, 0o644);
    const again = openLogFile({ logfile: file }, 'debug')!;
    again.logger.debug('appended');
    again.close();
    assert.equal(statSync(file).mode & 0o777, 0o600);
    assert.match(readFileSync(file, 'utf8'), /handshake[\s\S]*appended/);

    // --log-directory: created 0700, access-ssh.log in it; a large one is moved to .1.
    const logs = join(dir, 'logs', 'nested');
    const d = openLogFile({ logDirectory: logs }, 'info')!;
    d.logger.info('in the directory');
    d.close();
    assert.equal(statSync(logs).mode & 0o777, 0o700);
    assert.equal(statSync(join(logs, LOG_FILE_NAME)).mode & 0o777, 0o600);
    writeFileSync(join(logs, LOG_FILE_NAME), Buffer.alloc(5 * 1024 * 1024 + 1, 0x61));
    const r = openLogFile({ logDirectory: logs }, 'info')!;
    r.logger.info('fresh');
    r.close();
    assert.equal(statSync(join(logs, `${LOG_FILE_NAME}.1`)).size, 5 * 1024 * 1024 + 1);
    assert.match(readFileSync(join(logs, LOG_FILE_NAME), 'utf8'), /^\S+ \[\d+\] access-ssh: fresh\n$/);

    // A path that cannot be opened is an error naming it, with a next step.
    assert.throws(
      () => openLogFile({ logfile: join(dir, 'missing-dir', 'x.log') }, 'info'),
      (e: Error & { code?: string; hint?: string }) => {
        assert.equal(e.code, 'config');
        assert.match(e.message, /Cannot open the log file .*missing-dir.*ENOENT/);
        assert.match(e.hint ?? '', /--logfile/);
        return true;
      },
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
