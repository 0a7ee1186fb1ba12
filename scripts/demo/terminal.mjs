// `npm start`: the whole flow on this machine with no Cloudflare account. Starts the
// sandbox Access edge and a real sshd (test/sandbox/), then, with HOME pointing at
// .demo/home (your real ~/.ssh and ~/.cloudflared are never touched), runs
//   ssh -F .demo/home/.ssh/config ssh.sandbox.test whoami
// through the access-ssh helper (Match exec ssh-gen + ProxyCommand ssh), and prints
// the remote user, the certificate and the edge's counters. Options: scripts/start.mjs.
import { spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP, bold, compile, fail, q, ROOT, runAsync, runSync, startSandbox, step, untilStopped, which } from './common.mjs';

export async function terminalDemo({ interactive, keep, noBuild, port }) {
  if (!noBuild) {
    if (existsSync(join(ROOT, 'scripts/setup.mjs'))) {
      step('Checking system packages (scripts/setup.mjs e2e)');
      runSync(process.execPath, ['scripts/setup.mjs', 'e2e'], 'scripts/setup.mjs');
    }
    step('Building the bundles (scripts/build.mjs) and compiling the sandbox (tsc)');
    runSync(process.execPath, ['scripts/build.mjs'], 'the esbuild bundle');
    compile(['out/test/sandbox/sandbox.js'], 'sandbox');
  }
  const helper = join(ROOT, 'dist/access-ssh.js');
  if (!existsSync(helper)) fail(`${helper} is missing: the helper did not build (node scripts/build.mjs)`);
  const sandboxJs = join(ROOT, 'out/test/sandbox/sandbox.js');
  if (!existsSync(sandboxJs)) fail(`${sandboxJs} is missing: compile with npx tsc -p .`);
  const ssh = which('ssh');
  if (!ssh) fail('ssh not found: apt-get install openssh-client');
  const sshKeygen = which('ssh-keygen');
  if (!sshKeygen) fail('ssh-keygen not found: apt-get install openssh-client');

  step('Starting the sandbox Access edge and a real sshd');
  const sb = await startSandbox({ autoApprove: !interactive, port });
  process.stdout.write(
    `    edge     https://${APP} (and the team, transfer and admin names) on 127.0.0.1:${sb.port}\n` +
      `    sshd     127.0.0.1:${sb.sshd.port}, TrustedUserCAKeys ${sb.sshCaPublicKeyFile}\n` +
      `    client   ACCESS_SSH_CONNECT_TO=${sb.env.ACCESS_SSH_CONNECT_TO} NODE_EXTRA_CA_CERTS=${sb.env.NODE_EXTRA_CA_CERTS}\n`,
  );

  // The demo's own HOME: fresh every run (the sandbox's keys are new every run).
  const demo = join(ROOT, '.demo');
  const home = join(demo, 'home');
  rmSync(home, { recursive: true, force: true });
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  chmodSync(join(home, '.ssh'), 0o700);
  const node = q(process.execPath);
  const helperQ = q(helper);
  const keyFile = join(home, '.cloudflared', `${APP}-cf_key`);
  const knownHosts = join(home, '.ssh', 'known_hosts');
  const config = join(home, '.ssh', 'config');
  writeFileSync(
    config,
    [
      `# Written by npm start: the entries of \`access-ssh ssh-config --hostname ${APP} --short-lived-cert\`,`,
      `# with the helper run by this Node.`,
      `Match host ${APP} exec "${node} ${helperQ} ssh-gen --hostname %h"`,
      ``,
      `Host ${APP}`,
      `  ProxyCommand ${node} ${helperQ} ssh --hostname %h`,
      `  IdentityFile ${q(keyFile)}`,
      `  CertificateFile ${q(keyFile)}-cert.pub`,
      `  IdentitiesOnly yes`,
      `  User jdoe`,
      `  UserKnownHostsFile ${q(knownHosts)}`,
      `  StrictHostKeyChecking accept-new`,
      ``,
    ].join('\n'),
    { mode: 0o600 },
  );
  const browserSh = join(ROOT, 'test/sandbox/browser.sh');
  const env = {
    ...process.env,
    HOME: home,
    ...sb.env,
    BROWSER: interactive ? 'true' : browserSh,
  };
  delete env.SSH_AUTH_SOCK; // the demo's key is the only one ssh should offer
  const envFile = join(demo, 'env.sh');
  writeFileSync(
    envFile,
    [
      `export HOME=${home}`,
      `export ACCESS_SSH_CONNECT_TO=${sb.env.ACCESS_SSH_CONNECT_TO}`,
      `export NODE_EXTRA_CA_CERTS=${sb.env.NODE_EXTRA_CA_CERTS}`,
      `export BROWSER=${env.BROWSER}`,
      '',
    ].join('\n'),
  );

  if (interactive) {
    const leaf = join(sb.dir, 'leaf.pem');
    let spki = '';
    try {
      const cert = new X509Certificate(readFileSync(leaf));
      spki = createHash('sha256')
        .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
        .digest('base64');
    } catch {
      // printed without the pin
    }
    const rules = ['*.sandbox.test', 'sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org']
      .map((h) => `MAP ${h} 127.0.0.1:${sb.port}`)
      .join(', ');
    step('Interactive login');
    process.stdout.write(
      `    ssh will print a login URL (https://${APP}/cdn-cgi/access/cli?...). Open it in a browser that\n` +
        `    reaches the sandbox and trusts its CA, pick the e-mail (jdoe@example.com logs in as jdoe), Approve.\n` +
        `    For example, Chromium:\n\n` +
        `      chromium --user-data-dir=$(mktemp -d) --host-resolver-rules="${rules}" \\\n` +
        (spki ? `        --ignore-certificate-errors-spki-list=${spki} \\\n` : '') +
        `        '<the login URL>'\n\n` +
        `    or trust ${sb.caFile} in your browser and map those names to 127.0.0.1:${sb.port}.\n` +
        `    Same machine without a browser: curl --cacert ${sb.caFile} --connect-to ::127.0.0.1:${sb.port} '<the login URL>' shows the form.\n`,
    );
  }

  step(`ssh -F ${config} ${APP} whoami`);
  const started = Date.now();
  const r = await runAsync(ssh, ['-F', config, APP, 'whoami'], env);
  const took = ((Date.now() - started) / 1000).toFixed(1);
  if (r.code !== 0) {
    process.stderr.write(`\n--- sshd log (last lines) ---\n${sb.sshd.log().split('\n').slice(-15).join('\n')}\n`);
    fail(`ssh exited with ${r.code}; its messages are above`);
  }
  process.stdout.write(`    remote whoami: ${bold(r.stdout.trim())}   (${took} s, login + certificate + connection)\n`);

  const certFile = `${keyFile}-cert.pub`;
  if (!existsSync(certFile)) fail(`no certificate at ${certFile}`);
  const l = spawnSync(sshKeygen, ['-L', '-f', certFile], { encoding: 'utf8' });
  if (l.status !== 0) fail(`ssh-keygen -L ${certFile}: ${l.stderr}`);
  const field = (name) => l.stdout.match(new RegExp(`^\\s*${name}: (.*)$`, 'm'))?.[1]?.trim();
  const principals = [];
  {
    const lines = l.stdout.split('\n');
    const at = lines.findIndex((x) => /^\s*Principals:/.test(x));
    const indent = at >= 0 ? lines[at].search(/\S/) : 0;
    for (let i = at + 1; at >= 0 && i < lines.length && lines[i].search(/\S/) > indent; i++) principals.push(lines[i].trim());
  }
  step(`Certificate ${certFile}`);
  process.stdout.write(
    `    principals: ${principals.join(', ')}\n    valid:      ${field('Valid')}\n    key id:     ${field('Key ID')}   serial ${field('Serial')}\n    signed by:  ${field('Signing CA')}\n`,
  );

  step('Second connection (reuses the certificate and the token)');
  const before = { ...sb.counters };
  const r2 = await runAsync(ssh, ['-F', config, APP, 'whoami'], env);
  if (r2.code !== 0) fail(`second ssh exited with ${r2.code}`);
  process.stdout.write(
    `    remote whoami: ${r2.stdout.trim()}; new logins: ${sb.counters.approvals - before.approvals}, new certificates: ${sb.counters.certSigns - before.certSigns}\n`,
  );

  step('Sandbox counters');
  const c = sb.counters;
  const rows = Object.entries(c).filter(([k]) => k !== 'faultsApplied');
  process.stdout.write(rows.map(([k, v]) => `    ${k.padEnd(20)} ${v}`).join('\n') + '\n');

  if (keep) {
    step('The sandbox keeps running (Ctrl-C stops it). In another shell:');
    process.stdout.write(`    . ${envFile} && ssh -F ${config} ${APP}\n`);
    await untilStopped();
  } else {
    process.stdout.write(`\nDone. Demo files are in ${demo} (npm start -- --keep leaves the sandbox running to try ssh yourself).\n`);
  }
}
