import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import {
  quoteConfigPath,
  quoteIncludePath,
  proxyCommandValue,
  matchExecValue,
  unquoteConfigToken,
  escapePercent,
} from '../../../src/ssh/quote.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { tempDir, sshG, fakeHelper, readEvidence, run, SSH } from './helpers.js';

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

test('real ssh -G: quoted paths read back exactly (spaces, %, quote, $, #, backtick, ~)', async () => {
  const dir = await tempDir();
  const paths = [
    path.join(dir, 'Application Support', 'a%b', 'h-cf_key'),
    path.join(dir, "it's a $HOME `x` #1", 'k'),
    path.join(dir, 'back\\slash', 'k'),
    '~/.cloudflared/h-cf_key',
  ];
  const cfg = path.join(dir, 'cfg');
  await fs.writeFile(cfg, `Host t\n${paths.map((p) => `  IdentityFile ${quoteConfigPath(p, 'linux')}`).join('\n')}\n`);
  const g = await sshG(cfg, 't');
  // ssh -G prints the value after its tokenizer, before %-expansion (so %% shows as %%)
  assert.deepEqual(g.get('identityfile'), paths.map(escapePercent));
  // and ssh really loads the file at the path, with %% turned into %:
  const r = await run(SSH, ['-v', '-F', cfg, '-o', 'ProxyCommand=false', '-o', 'BatchMode=yes', 't', 'true']);
  // (ssh -v logs a backslash as \\, and also tries "<file>-cert" for each identity)
  const loaded = [...r.stderr.matchAll(/identity file (.*) type /g)]
    .map((m) => m[1]!.replace(/\\\\/g, '\\'))
    .filter((f) => !f.endsWith('-cert'));
  assert.deepEqual(loaded, [paths[0], paths[1], paths[2], path.join(os.userInfo().homedir, '.cloudflared/h-cf_key')]);
});

test('real ssh: the two tokenizers, the reason a backslash before \\ \' " is refused', async () => {
  const dir = await tempDir();
  const evidence = path.join(dir, 'evidence');
  const cfg = path.join(dir, 'cfg');
  // IdentityFile goes through argv_split: \\ becomes \ . Match (9.x) goes through strdelim: \\ stays \\ .
  await fs.writeFile(cfg, `Match originalhost t exec "printf '%%s\\n' 'a\\\\b' >> ${evidence}"\nHost t\n  IdentityFile "/x/a\\\\b"\n`);
  const g = await sshG(cfg, 't');
  assert.deepEqual(g.get('identityfile'), ['/x/a\\b']);
  const [line] = await readEvidence(evidence);
  const ver = (await run(SSH, ['-V'])).stderr;
  const major = Number(/OpenSSH_(\d+)/.exec(ver)?.[1] ?? '0');
  if (major < 10)
    assert.equal(line, 'a\\\\b'); // strdelim: the backslashes reach the shell as written
  else assert.equal(line, 'a\\b'); // OpenSSH ≥ 10 uses argv_split for Match too
  // A single quote inside double quotes is an ordinary character for both:
  await fs.writeFile(cfg, `Host t\n  IdentityFile "/x/it's"\n  CertificateFile "/y/\\q"\n`);
  const g2 = await sshG(cfg, 't');
  assert.deepEqual(g2.get('identityfile'), ["/x/it's"]);
  assert.deepEqual(g2.get('certificatefile'), ['/y/\\q']); // an unrecognised escape is kept
});

test('real ssh: Match exec runs the quoted helper with the right args; ProxyCommand too', async () => {
  const dir = await tempDir();
  const helper = path.join(dir, 'x', 'Application Support', 'a%b', '$(touch pwned) `x`', 'helper');
  const evidence = path.join(dir, 'evidence');
  await fakeHelper(helper, evidence);
  const cfg = path.join(dir, 'cfg');
  await fs.writeFile(
    cfg,
    [
      `Match originalhost t exec ${matchExecValue(helper, ['ssh-gen', '--hostname', 'h.example.com', '50%'], 'linux')}`,
      'Host t',
      `  ProxyCommand ${proxyCommandValue(helper, ['ssh', '--hostname', H, 'a b'], 'linux')}`,
      '  HostName h.example.com',
      '',
    ].join('\n'),
  );
  await sshG(cfg, 't');
  assert.deepEqual(await readEvidence(evidence), ['ssh-gen|--hostname|h.example.com|50%']);
  await run(SSH, ['-F', cfg, '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=5', 't', 'true']);
  assert.deepEqual((await readEvidence(evidence)).slice(1), ['ssh-gen|--hostname|h.example.com|50%', 'ssh|--hostname|h.example.com|a b']);
  await assert.rejects(fs.access(path.join(dir, 'pwned')));
  await assert.rejects(fs.access('pwned'));
});

test('real ssh -G: a Windows-style ProxyCommand line is carried verbatim by the config parser', async () => {
  const dir = await tempDir();
  const cfg = path.join(dir, 'cfg');
  const pc = proxyCommandValue('C:\\Users\\Jane Doe\\AppData\\access-ssh.cmd', ['ssh', '--hostname', H], 'win32');
  const me = matchExecValue('C:\\Users\\jdoe\\AppData\\access-ssh.cmd', ['ssh-gen', '--hostname', 'h'], 'win32');
  await fs.writeFile(
    cfg,
    `Match originalhost never-this exec ${me}\nHost t\n  ProxyCommand ${pc}\n  IdentityFile ${quoteConfigPath('C:\\Users\\Jane Doe\\.cloudflared\\h-cf_key', 'win32')}\n`,
  );
  const g = await sshG(cfg, 't');
  assert.deepEqual(g.get('proxycommand'), [pc]);
  assert.deepEqual(g.get('identityfile'), ['C:\\Users\\Jane Doe\\.cloudflared\\h-cf_key']);
});
