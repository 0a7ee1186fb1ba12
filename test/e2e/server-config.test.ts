// `access-ssh server-config`: the script it prints is run (as root) against a
// server layout in a temp folder; the real `sshd -t` validates the result; a real
// sshd started from it accepts the sandbox's certificate for a mapped account
// (jdoe@example.com logs in as deploy) and refuses it for a principal that is not
// mapped; a configuration sshd -t refuses takes the drop-in back.
import { strict as assert } from 'node:assert';
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import type { Origin } from '../sandbox/edge';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { ensureUser, findSshd, freePort, waitForSshd } from '../sandbox/sshd';
import { explain, HELPER, helperMissing, makeClient, runProcess } from './harness';

const APP = 'srv.sandbox.test';

function configText(node: string, user: string): string {
  return [
    `Match host ${APP} exec "${node} ${HELPER} ssh-gen --hostname %h --non-interactive"`,
    `Host ${APP}`,
    `  User ${user}`,
    `  ProxyCommand ${node} ${HELPER} ssh --hostname %h --non-interactive`,
    `  IdentityFile %HOME%/.cloudflared/${APP}-cf_key`,
    `  CertificateFile %HOME%/.cloudflared/${APP}-cf_key-cert.pub`,
    '  IdentitiesOnly yes',
    '',
  ].join('\n');
}

describe('access-ssh server-config: the sshd side, run and proven with a real sshd', { skip: helperMissing() }, () => {
  let sb: Sandbox;
  let dir: string;
  let sshd: ChildProcess | undefined;
  let sshdLog = '';
  let hostKeyLine = '';
  const origins: Record<string, Origin> = {};
  const homes: string[] = [];
  /** A client whose ssh config logs in as deploy; its HOME goes in the suite's `after`. */
  const client = (name: string) => {
    const c = makeClient(sb, name, { configText: configText(process.execPath, 'deploy') });
    homes.push(c.home);
    return c;
  };
  const paths = () => ({
    main: join(dir, 'sshd_config'),
    dropIn: join(dir, 'sshd_config.d', '50-cloudflare-access.conf'),
    ca: join(dir, 'ca.pub'),
    principals: join(dir, 'auth_principals'),
  });
  /** `access-ssh server-config` onto the files of `paths()`, for `maps` and an sshd_config. */
  const serverConfig = (maps = ['jdoe=deploy'], sshdConfig = paths().main) =>
    runProcess(
      process.execPath,
      [
        HELPER,
        'server-config',
        '--ca-file',
        sb.sshCaPublicKeyFile,
        ...maps.flatMap((m) => ['--map', m]),
        '--ca-path',
        paths().ca,
        '--principals-dir',
        paths().principals,
        '--drop-in',
        paths().dropIn,
        '--sshd-config',
        sshdConfig,
      ],
      { PATH: process.env.PATH },
    );

  before(async () => {
    sb = await startSandbox({ sshd: false, origins });
    dir = mkdtempSync(join(tmpdir(), 'access-ssh-server-config-'));
    // A server's /etc/ssh is world-readable: sshd reads the principals file as the user logging in.
    chmodSync(dir, 0o755);
    await ensureUser('deploy');
    await ensureUser('jdoe');
  });
  after(async () => {
    sshd?.kill('SIGTERM');
    await sb?.stop();
    rmSync(dir, { recursive: true, force: true });
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('the printed script writes the drop-in, CA key and principals file, and the real sshd -t accepts them', async () => {
    const port = await freePort();
    const hostKey = join(dir, 'host_key');
    await runProcess('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', hostKey], { PATH: process.env.PATH });
    hostKeyLine = readFileSync(`${hostKey}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
    mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });
    // A main sshd_config as a distribution ships it: the drop-in folder included at the top.
    writeFileSync(
      paths().main,
      [
        `Include ${join(dir, 'sshd_config.d')}/*.conf`,
        'ListenAddress 127.0.0.1',
        `Port ${port}`,
        `HostKey ${hostKey}`,
        'PidFile none',
        'UsePAM no',
        'AuthorizedKeysFile none',
        'PasswordAuthentication no',
        'KbdInteractiveAuthentication no',
        'StrictModes no',
        'X11Forwarding yes',
        'LogLevel VERBOSE',
        '',
      ].join('\n'),
    );
    const out = await serverConfig();
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /^#!\/bin\/sh\n/);
    const script = join(dir, 'setup.sh');
    writeFileSync(script, out.stdout);
    const r = await runProcess('/bin/sh', [script], { PATH: `${process.env.PATH}:/usr/sbin` });
    assert.equal(r.code, 0, `${r.stdout}\n${r.stderr}`);
    assert.match(r.stdout, /sshd -t: the configuration is valid/);
    assert.doesNotMatch(r.stderr, /does not include/, 'the main config includes the drop-in folder');

    assert.equal(
      readFileSync(paths().ca, 'utf8'),
      readFileSync(sb.sshCaPublicKeyFile, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ') + '\n',
    );
    const dropIn = readFileSync(paths().dropIn, 'utf8');
    assert.match(dropIn, /^PubkeyAuthentication yes$/m);
    assert.match(dropIn, new RegExp(`^TrustedUserCAKeys ${paths().ca}$`, 'm'));
    assert.match(dropIn, new RegExp(`^Match User deploy\\n {2}AuthorizedPrincipalsFile ${paths().principals}/%u\\n$`, 'm'));
    assert.equal(readFileSync(join(paths().principals, 'deploy'), 'utf8'), '# Access principals that may log in as deploy\njdoe\n');
    for (const f of [paths().dropIn, paths().ca, join(paths().principals, 'deploy')]) assert.equal(statSync(f).mode & 0o777, 0o644, f);

    // sshd's own view: the principals file for deploy only; the main config's lines still apply to everyone.
    const tOf = async (user: string) =>
      (await runProcess(findSshd(), ['-T', '-f', paths().main, '-C', `user=${user},host=x,addr=127.0.0.1`], {})).stdout;
    const deploy = await tOf('deploy');
    const other = await tOf('jdoe');
    assert.match(deploy, new RegExp(`^authorizedprincipalsfile ${paths().principals}/%u$`, 'm'));
    assert.match(other, /^authorizedprincipalsfile none$/m, 'the Match block ends with the drop-in');
    assert.match(other, /^x11forwarding yes$/m, 'the main config after the Include still applies to other users');
    assert.match(other, new RegExp(`^trustedusercakeys ${paths().ca}$`, 'm'));

    // Start the real sshd from it and route the sandbox's app to it.
    const child = spawn(findSshd(), ['-D', '-e', '-f', paths().main], { stdio: ['ignore', 'ignore', 'pipe'] });
    sshd = child;
    child.stderr.on('data', (d: Buffer) => (sshdLog += d.toString()));
    await waitForSshd(port, child, () => sshdLog, 60_000);
    origins[APP] = { host: '127.0.0.1', port };
  });

  it("jdoe@example.com's certificate (principal jdoe) logs in as the mapped account deploy", async () => {
    const c = client('srvcfg');
    writeFileSync(c.knownHosts, `${APP} ${hostKeyLine}\n`);
    const login = await c.helper(['login', `https://${APP}`]);
    assert.equal(login.code, 0, login.stderr);
    const r = await c.ssh(['whoami'], { host: APP });
    assert.equal(r.code, 0, `${explain(r, sb)}\n${sshdLog.slice(-2000)}`);
    assert.equal(r.stdout.trim(), 'deploy');
    // And as jdoe itself (not mapped: the principal equals the account).
    writeFileSync(c.config, configText(process.execPath, 'jdoe').replace(/%HOME%/g, c.home));
    const j = await c.ssh(['whoami'], { host: APP });
    assert.equal(j.code, 0, j.stderr);
    assert.equal(j.stdout.trim(), 'jdoe');
  });

  it('a principal that is not mapped is refused for deploy', async () => {
    sb.setOptions({ autoApprove: 'eve@example.com', defaultEmail: 'eve@example.com' });
    const logFrom = sshdLog.length;
    try {
      const c = client('srvcfg-eve');
      writeFileSync(c.knownHosts, `${APP} ${hostKeyLine}\n`);
      const login = await c.helper(['login', `https://${APP}`]);
      assert.equal(login.code, 0, login.stderr);
      const r = await c.ssh(['whoami'], { host: APP });
      assert.notEqual(r.code, 0, 'eve may not log in as deploy');
      assert.match(r.stderr, /Permission denied \(publickey\)/);
      const log = sshdLog.slice(logFrom);
      assert.match(log, /Certificate does not contain an authorized principal\r?\nFailed publickey for deploy .* ID eve@example\.com/);
    } finally {
      sb.setOptions({ autoApprove: true, defaultEmail: 'jdoe@example.com' });
    }
  });

  it('a configuration sshd -t refuses takes the drop-in back, and the script fails', async () => {
    const before = readFileSync(paths().dropIn, 'utf8');
    const broken = join(dir, 'sshd_config.broken');
    writeFileSync(broken, `Include ${join(dir, 'sshd_config.d')}/*.conf\nHostKey ${join(dir, 'host_key')}\nNoSuchOption yes\n`);
    const out = await serverConfig(['jdoe=deploy', 'eve=deploy'], broken);
    assert.equal(out.code, 0, out.stderr);
    const script = join(dir, 'setup-broken.sh');
    writeFileSync(script, out.stdout);
    const r = await runProcess('/bin/sh', [script], { PATH: `${process.env.PATH}:/usr/sbin` });
    assert.equal(r.code, 1);
    assert.match(r.stderr, /sshd -t refused the configuration: the drop-in .* was taken back/);
    assert.equal(readFileSync(paths().dropIn, 'utf8'), before, 'the previous drop-in is back');
    assert.ok(!existsSync(`${paths().dropIn}.before`));
  });

  it('bad input: a private key, a certificate, a bad --map are refused without echoing a secret', async () => {
    const key = join(dir, 'id_test');
    await runProcess('ssh-keygen', ['-q', '-t', 'ed25519', '-N', '', '-f', key], { PATH: process.env.PATH });
    const secret = readFileSync(key, 'utf8');
    const p = await runProcess(process.execPath, [HELPER, 'server-config', '--ca-file', key], { PATH: process.env.PATH });
    assert.equal(p.code, 1);
    assert.match(p.stderr, /That is a private key, not the CA public key; it was not used or shown/);
    for (const line of secret.split('\n').filter((l) => l.length > 20)) assert.ok(!p.stderr.includes(line) && !p.stdout.includes(line));
    const m = await runProcess(
      process.execPath,
      [HELPER, 'server-config', '--ca-file', sb.sshCaPublicKeyFile, '--map', 'jdoe=de ploy;rm'],
      { PATH: process.env.PATH },
    );
    assert.equal(m.code, 2);
    assert.match(m.stderr, /is not a Unix user name/);
    const none = await runProcess(process.execPath, [HELPER, 'server-config'], { PATH: process.env.PATH });
    assert.equal(none.code, 2);
    assert.match(none.stderr, /--ca-file is required/);
  });
});
