import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  quoteConfigPath,
  quoteIncludePath,
  proxyCommandValue,
  matchExecValue,
  unquoteConfigToken,
  escapePercent,
} from '../../../src/ssh/quote.js';
import { SshConfigError } from '../../../src/ssh/validate.js';

const H = { sshToken: 'h' } as const;

test('escapePercent doubles every %', () => {
  assert.equal(escapePercent('a%b%%c%'), 'a%%b%%%%c%%');
});

test('quoteConfigPath: double quotes, % doubled, ~ kept, same on every platform', () => {
  for (const p of ['linux', 'darwin', 'win32'] as const) {
    assert.equal(quoteConfigPath('/tmp/x/Application Support/a%b/k', p), '"/tmp/x/Application Support/a%%b/k"');
    assert.equal(quoteConfigPath('~/.cloudflared/h-cf_key', p), '"~/.cloudflared/h-cf_key"');
    assert.equal(quoteConfigPath("/tmp/it's $HOME `x` #1/k", p), '"/tmp/it\'s $HOME `x` #1/k"');
  }
  assert.equal(quoteConfigPath('C:\\Users\\Jane Doe\\.cloudflared\\h-cf_key', 'win32'), '"C:\\Users\\Jane Doe\\.cloudflared\\h-cf_key"');
});

test('quoteConfigPath refuses what cannot be represented', () => {
  const bad: [string, RegExp][] = [
    ['/tmp/a"b/k', /double quote/],
    ['/tmp/a\nb/k', /line break/],
    ['/tmp/a\rb/k', /line break/],
    ['/tmp/a\u0000b', /control/],
    ['/tmp/${HOME}/k', /environment variable/],
    ['C:\\keys\\', /ends with a backslash/],
    ['/tmp/a\\\\b', /backslash followed by/],
    ["/tmp/a\\'b", /backslash followed by/],
    ['', /empty/],
  ];
  for (const [p, rule] of bad) {
    assert.throws(
      () => quoteConfigPath(p, 'linux'),
      (e: unknown) => e instanceof SshConfigError && rule.test(e.message) && e.message.includes(JSON.stringify(p)),
      p,
    );
  }
});

test('quoteIncludePath refuses %, ${ and globs (expanded by some OpenSSH versions only)', () => {
  assert.equal(quoteIncludePath('/home/j d/.ssh/access-ssh/config', 'linux'), '"/home/j d/.ssh/access-ssh/config"');
  for (const p of ['/a%b/config', '/a/${X}/config', '/a/*/config', '/a/c?nfig', '/a/[x]', '/a"b']) {
    assert.throws(() => quoteIncludePath(p, 'linux'), SshConfigError, p);
  }
});

test('proxyCommandValue on Unix: single-quoted program when needed, % doubled, %h kept', () => {
  assert.equal(
    proxyCommandValue('/usr/local/bin/access-ssh', ['ssh', '--hostname', H], 'linux'),
    '/usr/local/bin/access-ssh ssh --hostname %h',
  );
  assert.equal(
    proxyCommandValue('/tmp/x/Application Support/a%b/helper', ['ssh', '--hostname', H, '--non-interactive'], 'darwin'),
    "'/tmp/x/Application Support/a%%b/helper' ssh --hostname %h --non-interactive",
  );
  assert.equal(proxyCommandValue('/a/$(id)`x`#/h', ['a b', '100%'], 'linux'), "'/a/$(id)`x`#/h' 'a b' 100%%");
  assert.equal(proxyCommandValue('~/bin/my helper', [], 'linux'), "~/'bin/my helper'");
});

test('command quoting on Unix refuses single quotes, backslashes, relative paths, line breaks', () => {
  for (const p of ["/tmp/it's/helper", '/tmp/a\\b/helper', 'bin/helper', '/tmp/a\nb', '/tmp/a"b']) {
    assert.throws(() => proxyCommandValue(p, [], 'linux'), SshConfigError, p);
    assert.throws(() => matchExecValue(p, [], 'linux'), SshConfigError, p);
  }
  assert.throws(() => proxyCommandValue('/h', ["it's"], 'linux'), SshConfigError);
});

test('matchExecValue on Unix: the whole command in one double-quoted token', () => {
  assert.equal(
    matchExecValue('/tmp/x/Application Support/a%b/helper', ['ssh-gen', '--hostname', 'h.example.com'], 'linux'),
    '"\'/tmp/x/Application Support/a%%b/helper\' ssh-gen --hostname h.example.com"',
  );
});

test('Windows: ProxyCommand program always double-quoted (Win32-OpenSSH passes a leading " through)', () => {
  assert.equal(
    proxyCommandValue('C:\\Users\\Jane Doe\\AppData\\Roaming\\access-ssh.cmd', ['ssh', '--hostname', H, '--non-interactive'], 'win32'),
    '"C:\\Users\\Jane Doe\\AppData\\Roaming\\access-ssh.cmd" ssh --hostname %h --non-interactive',
  );
  assert.equal(proxyCommandValue('C:/tools/access-ssh.exe', ['ssh'], 'win32'), '"C:/tools/access-ssh.exe" ssh');
  for (const p of ['C:\\a%b\\h.cmd', 'access-ssh.cmd', '\\\\server\\share\\h.cmd', 'C:\\a"b\\h.cmd']) {
    assert.throws(() => proxyCommandValue(p, [], 'win32'), SshConfigError, p);
  }
  assert.throws(() => proxyCommandValue('C:\\h.cmd', ['a b'], 'win32'), SshConfigError);
});

test('Windows: Match exec cannot quote a path (cmd.exe + strdelim), so spaces and metacharacters are refused', () => {
  assert.equal(
    matchExecValue('C:\\Users\\jdoe\\AppData\\access-ssh.cmd', ['ssh-gen', '--hostname', 'h.example.com'], 'win32'),
    '"C:\\Users\\jdoe\\AppData\\access-ssh.cmd ssh-gen --hostname h.example.com"',
  );
  for (const p of ['C:\\Users\\Jane Doe\\h.cmd', 'C:\\a&b\\h.cmd', 'C:\\a(x86)\\h.cmd', 'C:\\a^b\\h.cmd']) {
    assert.throws(
      () => matchExecValue(p, [], 'win32'),
      (e: unknown) => e instanceof SshConfigError && /cmd\.exe/.test(e.message) && /8\.3|no spaces/.test(e.hint),
      p,
    );
  }
});

test('unquoteConfigToken reads like argv_split', () => {
  assert.equal(unquoteConfigToken('"a b"'), 'a b');
  assert.equal(unquoteConfigToken(`"it's"`), "it's");
  assert.equal(unquoteConfigToken('"a\\\\b\\"c\\\'d\\xe"'), 'a\\b"c\'d\\xe');
  assert.equal(unquoteConfigToken('plain'), 'plain');
});

// ---- real OpenSSH ----------------------------------------------------------
