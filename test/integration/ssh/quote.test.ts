// Quoting read back by the real OpenSSH client: paths, both tokenizers, Match exec and
// ProxyCommand, a Windows-style line.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { quoteConfigPath, proxyCommandValue, matchExecValue, escapePercent } from '../../../src/ssh/quote.js';
import { tempDir } from '../../support/tmp.js';
import { sshG, fakeHelper, readEvidence, run, SSH } from '../../support/openssh.js';
import { sshArgs } from '../../support/ssh-args.js';

const H = { sshToken: 'h' } as const;

test('real ssh -G: quoted paths read back exactly (spaces, %, quote, $, #, backtick, ~)', async (t) => {
  const dir = tempDir(t);
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

test('real ssh: the two tokenizers, the reason a backslash before \\ \' " is refused', async (t) => {
  const dir = tempDir(t);
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

test('real ssh: Match exec runs the quoted helper with the right args; ProxyCommand too', async (t) => {
  const dir = tempDir(t);
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
  await run(SSH, sshArgs({ config: cfg, connectTimeout: 5, destination: 't', command: ['true'] }));
  assert.deepEqual((await readEvidence(evidence)).slice(1), ['ssh-gen|--hostname|h.example.com|50%', 'ssh|--hostname|h.example.com|a b']);
  await assert.rejects(fs.access(path.join(dir, 'pwned')));
  await assert.rejects(fs.access('pwned'));
});

test('real ssh -G: a Windows-style ProxyCommand line is carried verbatim by the config parser', async (t) => {
  const dir = tempDir(t);
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
