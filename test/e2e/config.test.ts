// `access-ssh config add` for a terminal user, end to end: the entries it writes,
// read by the real ssh with a HOME that is not the passwd entry's (the tests run
// as root, whose passwd home is not this temp HOME), reach the sandbox sshd as the
// certificate's principal; signed out, the same ssh fails at once naming sign-in.
import { strict as assert } from 'node:assert';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { APP, explain, helperMissing, makeClient, runProcess, type Client } from './harness';
import { sshArgs } from '../support/ssh-args';

describe('access-ssh config: a terminal ssh through the written entries', { skip: helperMissing() }, () => {
  let sb: Sandbox;
  let c: Client;
  let sshConfig: string;
  before(async () => {
    sb = await startSandbox();
    c = makeClient(sb, 'config', { configText: "# the user's own config\nHost *\n  ServerAliveInterval 15\n" });
    sshConfig = c.config;
    writeFileSync(c.knownHosts, `${sb.knownHostsLine}\ncfpipe-${APP} ${sb.sshd!.hostKey}\n`);
  });
  after(async () => {
    await sb?.stop();
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  const ssh = (extra: string[] = []) =>
    runProcess(
      'ssh',
      sshArgs({
        config: sshConfig,
        knownHosts: c.knownHosts,
        connectTimeout: 15,
        extra,
        destination: `cfpipe-${APP}`,
        command: ['whoami'],
      }),
      c.env,
      60_000,
    );

  it('config add writes absolute paths ($HOME is not the passwd home), and ssh -G checks them', async () => {
    assert.notEqual(userInfo().homedir, c.home, "the test needs a HOME other than the passwd entry's");
    const r = await c.helper(['config', 'add', '--hostname', APP, '--config', sshConfig]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /ssh -G cfpipe-ssh\.sandbox\.test: the Access entries are in force/);
    assert.match(
      r.stderr,
      /No User line for ssh\.sandbox\.test yet.*\n.*access-ssh login https:\/\/ssh\.sandbox\.test\) and run this again/,
    );
    const managed = readFileSync(join(c.home, '.ssh', 'access-ssh', 'config'), 'utf8');
    assert.ok(managed.includes(`IdentityFile "${c.home}/.cloudflared/${APP}-cf_key"`), managed);
  });

  it('signed out: ssh fails at once, naming the sign-in', async () => {
    const r = await ssh();
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /access-ssh login https:\/\/ssh\.sandbox\.test|Access: Sign In/, r.stderr);
    assert.equal(c.browserOpens(), 0, 'no browser inside ssh');
  });

  it("after access-ssh login, ssh cfpipe-H logs in as the certificate's principal", async () => {
    const login = await c.helper(['login', `https://${APP}`]);
    assert.equal(login.code, 0, login.stderr);
    // config add again: the User now comes from the login (the e-mail's local part).
    const again = await c.helper(['config', 'add', '--hostname', APP, '--config', sshConfig]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stderr, /cfpipe-ssh\.sandbox\.test {2}\(ssh\.sandbox\.test, user jdoe; added by access-ssh config\)/);
    const r = await ssh();
    assert.equal(r.code, 0, explain(r, sb));
    assert.equal(r.stdout.trim(), 'jdoe');
    // The certificate is in this HOME, named by absolute path; ssh's passwd home has none.
    assert.ok(readFileSync(c.certFile, 'utf8').includes('-cert-v01@openssh.com'));
  });
});
