// checkSshG against the real `ssh -G`: our Include at the top wins, each override is
// reported with its file and line, ProxyJump, a file ssh rejects.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { checkSshConfig, describeMismatch } from '../../../src/ssh/ssh-g.js';
import { renderEntries, hostOptions, type RenderOptions } from '../../../src/ssh/entries.js';
import { ensureInclude, writeManagedFile } from '../../../src/ssh/include.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { type HasAfter, tempDir } from '../../support/tmp.js';
import { fakeHelper, SSH } from '../../support/openssh.js';
import { hostname } from '../../support/hostname.js';

async function setup(t: HasAfter) {
  const dir = tempDir(t);
  const helper = path.join(dir, 'Application Support', 'a%b', 'access-ssh');
  await fakeHelper(helper, path.join(dir, 'evidence'));
  const opts: RenderOptions = { helper, keyDir: path.join(dir, 'keys %x'), platform: 'linux', nonInteractive: true };
  const ours = path.join(dir, 'access-ssh', 'config');
  await writeManagedFile(ours, renderEntries([{ hostname: hostname('ssh.example.com'), user: 'jdoe' }], opts));
  const o = hostOptions({ hostname: hostname('ssh.example.com'), user: 'jdoe' }, opts);
  const expected = { proxyCommand: o.proxyCommand, identityFile: o.identityFile, certificateFile: o.certificateFile, user: 'jdoe' };
  return { dir, ours, opts, expected, userConfig: path.join(dir, 'config') };
}

test('ok when our Include is at the top, even with a hostile Host * below', async (t) => {
  const s = await setup(t);
  await fs.writeFile(s.userConfig, 'Host *\n  ProxyCommand nc %h %p\n  IdentityFile ~/.ssh/x\n  User root\n');
  await ensureInclude(s.userConfig, s.ours, { platform: 'linux' });
  for (const alias of ['cfpipe-ssh.example.com', 'ssh.example.com']) {
    const r = await checkSshConfig({ alias, configFile: s.userConfig, sshPath: SSH, expected: s.expected });
    assert.deepEqual(r.mismatches, []);
    assert.equal(r.ok, true);
  }
  // plain paths (not config syntax) compare equal too
  const plain = { ...s.expected, identityFile: path.join(s.dir, 'keys %x', 'ssh.example.com-cf_key') };
  assert.equal(
    (await checkSshConfig({ alias: 'cfpipe-ssh.example.com', configFile: s.userConfig, sshPath: SSH, expected: plain })).ok,
    true,
  );
});

test('reports each override with the file and line that set it', async (t) => {
  const s = await setup(t);
  const conf = path.join(s.dir, 'conf.d', 'corp.conf');
  await fs.mkdir(path.dirname(conf));
  await fs.writeFile(conf, '# corp\nHost *.example.com\n  CertificateFile ~/.ssh/corp-cert.pub\n');
  await fs.writeFile(
    s.userConfig,
    [
      'Host other',
      '  User notme',
      'Host * !nothing',
      '  ProxyCommand nc %h %p',
      '  IdentityFile "~/.ssh/id_ed25519"',
      '  User root',
      `Include ${path.join(s.dir, 'conf.d', '*.conf')}`,
      `Include "${s.ours}"`,
      '',
    ].join('\n'),
  );
  const r = await checkSshConfig({ alias: 'cfpipe-ssh.example.com', configFile: s.userConfig, sshPath: SSH, expected: s.expected });
  assert.equal(r.ok, false);
  const by = new Map(r.mismatches.map((m) => [m.option, m]));
  assert.deepEqual([...by.keys()].sort(), ['certificatefile', 'identityfile', 'proxycommand', 'user']);
  assert.equal(by.get('proxycommand')!.actual, 'nc %h %p');
  assert.deepEqual(by.get('proxycommand')!.source, {
    file: s.userConfig,
    line: 4,
    text: '  ProxyCommand nc %h %p',
    option: 'proxycommand',
  });
  assert.equal(by.get('identityfile')!.source?.line, 5);
  assert.equal(by.get('user')!.source?.line, 6, 'the Host other block is not blamed');
  assert.deepEqual(by.get('certificatefile')!.source, {
    file: conf,
    line: 3,
    text: '  CertificateFile ~/.ssh/corp-cert.pub',
    option: 'certificatefile',
  });
  assert.match(describeMismatch(by.get('user')!), /ssh uses user "root" instead of "jdoe"\. It is set by .*config:6/);
});

test('a ProxyJump that wins over our ProxyCommand is reported', async (t) => {
  const s = await setup(t);
  await fs.writeFile(s.userConfig, `Host *\n  ProxyJump bastion.example.com\nInclude "${s.ours}"\n`);
  const r = await checkSshConfig({ alias: 'cfpipe-ssh.example.com', configFile: s.userConfig, sshPath: SSH, expected: s.expected });
  const m = r.mismatches.find((x) => x.option === 'proxycommand')!;
  assert.equal(m.actual, '(none: ProxyJump bastion.example.com is set)');
  assert.equal(m.source?.option, 'proxyjump');
  assert.equal(m.source?.line, 2);
});

test('ssh rejecting the file is an SshConfigError naming the line; a BOM gets its own hint', async (t) => {
  const s = await setup(t);
  await fs.writeFile(s.userConfig, 'Host *\n  IdentityFile "unbalanced\n');
  await assert.rejects(
    checkSshConfig({ alias: 'cfpipe-ssh.example.com', configFile: s.userConfig, sshPath: SSH, expected: s.expected }),
    (e: unknown) => e instanceof SshConfigError && e.code === 'ssh-failed' && /line 2/.test(e.message),
  );
  await fs.writeFile(s.userConfig, '\uFEFFHost *\n');
  await assert.rejects(
    checkSshConfig({ alias: 'cfpipe-ssh.example.com', configFile: s.userConfig, sshPath: SSH, expected: s.expected }),
    (e: unknown) => e instanceof SshConfigError && /byte order mark/.test(e.hint),
  );
  await assert.rejects(checkSshConfig({ alias: '-oProxyCommand=x', sshPath: SSH, expected: s.expected }), SshConfigError);
});
