// Our ssh_config entries read by the real OpenSSH client: ssh -G, Match exec running the
// helper, a connection through the ProxyCommand.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { renderEntries, type RenderOptions } from '../../../src/ssh/entries.js';
import { ensureInclude, writeManagedFile } from '../../../src/ssh/include.js';
import { type HasAfter, tempDir } from '../../support/tmp.js';
import { sshG, fakeHelper, readEvidence, run, SSH } from '../../support/openssh.js';
import { sshArgs } from '../../support/ssh-args.js';
import { hostname } from '../../support/hostname.js';

// ---- real OpenSSH round trips ---------------------------------------------

async function setup(t: HasAfter, userConfigBody: string, hostUser = 'jdoe') {
  const dir = tempDir(t);
  const base = path.join(dir, 'x', 'Application Support', 'a%b');
  const helper = path.join(base, 'bin dir', 'access-ssh');
  const keyDir = path.join(base, 'keys');
  const evidence = path.join(dir, 'evidence');
  await fakeHelper(helper, evidence);
  const ours = path.join(dir, 'home', '.ssh', 'access-ssh', 'config');
  const opts: RenderOptions = { helper, keyDir, platform: 'linux', nonInteractive: true };
  await writeManagedFile(
    ours,
    renderEntries([{ hostname: hostname('ssh.example.com'), user: hostUser }, { hostname: hostname('other.example.com') }], opts),
  );
  const userConfig = path.join(dir, 'home', '.ssh', 'config');
  await fs.writeFile(userConfig, userConfigBody);
  await ensureInclude(userConfig, ours, { platform: 'linux' });
  return { dir, helper, keyDir, evidence, ours, userConfig, opts };
}

const HOSTILE_USER_CONFIG = [
  'Host *',
  '  IdentityFile ~/.ssh/id_everything',
  '  CertificateFile ~/.ssh/id_everything-cert.pub',
  '  ProxyCommand nc %h %p',
  '  User someoneelse',
  '',
].join('\n');

test('real ssh -G: helper and key dir with spaces and % read back exactly, and win over a later Host *', async (t) => {
  const s = await setup(t, HOSTILE_USER_CONFIG);
  for (const alias of ['cfpipe-ssh.example.com', 'ssh.example.com']) {
    const g = await sshG(s.userConfig, alias);
    assert.deepEqual(g.get('hostname'), ['ssh.example.com']);
    assert.deepEqual(g.get('user'), ['jdoe']);
    assert.deepEqual(g.get('proxycommand'), [`'${s.helper.replace(/%/g, '%%')}' ssh --hostname %h --non-interactive`]);
    // ours first; the Host * one is only tried after
    assert.deepEqual(g.get('identityfile'), [`${s.keyDir.replace(/%/g, '%%')}/ssh.example.com-cf_key`, '~/.ssh/id_everything']);
    assert.deepEqual(g.get('certificatefile'), [
      `${s.keyDir.replace(/%/g, '%%')}/ssh.example.com-cf_key-cert.pub`,
      '~/.ssh/id_everything-cert.pub',
    ]);
    assert.deepEqual(g.get('identitiesonly'), ['yes']);
  }
  // an unrelated host still gets the user's Host * (our block doesn't leak)
  const g = await sshG(s.userConfig, 'unrelated.example.org');
  assert.deepEqual(g.get('proxycommand'), ['nc %h %p']);
  assert.deepEqual(g.get('user'), ['someoneelse']);
});

test('real ssh: Match exec runs the helper (ssh-gen, literal host, --non-interactive) only for our hosts', async (t) => {
  const s = await setup(t, HOSTILE_USER_CONFIG);
  await sshG(s.userConfig, 'cfpipe-ssh.example.com');
  assert.deepEqual(await readEvidence(s.evidence), ['ssh-gen|--hostname|ssh.example.com|--non-interactive|--quiet-signed-out']);
  await sshG(s.userConfig, 'other.example.com');
  assert.deepEqual((await readEvidence(s.evidence)).slice(1), [
    'ssh-gen|--hostname|other.example.com|--non-interactive|--quiet-signed-out',
  ]);
  await sshG(s.userConfig, 'unrelated.example.org');
  await sshG(s.userConfig, 'cfpipe-unrelated.example.org');
  assert.equal((await readEvidence(s.evidence)).length, 2, 'no exec for other hosts');
});

test('real ssh: a connection renews first, then runs the ProxyCommand, and loads the key and certificate from the % path', async (t) => {
  const s = await setup(t, HOSTILE_USER_CONFIG);
  const r = await run(
    SSH,
    sshArgs({ config: s.userConfig, knownHosts: '/dev/null', extra: ['-v'], destination: 'cfpipe-ssh.example.com', command: ['true'] }),
  );
  assert.deepEqual(await readEvidence(s.evidence), [
    'ssh-gen|--hostname|ssh.example.com|--non-interactive|--quiet-signed-out',
    'ssh|--hostname|ssh.example.com|--non-interactive',
  ]);
  const ids = [...r.stderr.matchAll(/identity file (.*) type /g)].map((m) => m[1]);
  assert.equal(ids[0], path.join(s.keyDir, 'ssh.example.com-cf_key'));
  const certs = [...r.stderr.matchAll(/certificate file (.*) type /g)].map((m) => m[1]);
  assert.equal(certs[0], path.join(s.keyDir, 'ssh.example.com-cf_key-cert.pub'));
});

test('real ssh: why "Match originalhost" and not "Match host"', async (t) => {
  // `Match host` compares with HostName once one is set (here by -o, as in a
  // final CanonicalizeHostname pass); `originalhost` is always what was typed.
  const s = await setup(t, '');
  await sshG(s.userConfig, 'cfpipe-ssh.example.com', ['-o', 'HostName=10.0.0.1']);
  assert.deepEqual(await readEvidence(s.evidence), ['ssh-gen|--hostname|ssh.example.com|--non-interactive|--quiet-signed-out']);

  const hostVariant = path.join(s.dir, 'host-variant');
  const text = (await fs.readFile(s.ours, 'utf8')).replace(/^Match originalhost /gm, 'Match host ');
  await fs.writeFile(hostVariant, text);
  await fs.rm(s.evidence);
  await sshG(hostVariant, 'cfpipe-ssh.example.com', ['-o', 'HostName=10.0.0.1']);
  assert.deepEqual(await readEvidence(s.evidence), [], 'Match host misses the renewal');
});

test('real ssh: a failing renewal does not stop ssh from reading the rest', async (t) => {
  const s = await setup(t, '');
  await fakeHelper(s.helper, s.evidence, 1);
  const g = await sshG(s.userConfig, 'cfpipe-ssh.example.com');
  assert.deepEqual(g.get('user'), ['jdoe']);
  assert.equal(g.get('proxycommand')?.length, 1);
});

test('real ssh: top-level lines of the user file after our Include stay global', async (t) => {
  const s = await setup(t, 'User globaluser\nPort 2222\n');
  const g = await sshG(s.userConfig, 'unrelated.example.org');
  assert.deepEqual(g.get('user'), ['globaluser']);
  assert.deepEqual(g.get('port'), ['2222']);
  const ours = await sshG(s.userConfig, 'cfpipe-ssh.example.com');
  assert.deepEqual(ours.get('user'), ['jdoe']);
  assert.deepEqual(ours.get('port'), ['2222']);
});
