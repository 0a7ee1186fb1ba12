// `npm start`: the whole flow on this machine with no Cloudflare account. Starts the
// sandbox Access edge and a real sshd (test/sandbox/), then, with HOME pointing at
// .demo/home (your real ~/.ssh and ~/.cloudflared are never touched), runs
//   ssh -F .demo/home/.ssh/config ssh.sandbox.test whoami
// through the access-ssh helper (Match exec ssh-gen + ProxyCommand ssh), and prints
// the remote user, the certificate and the edge's counters.
//
//   npm start                      login approved automatically (a stand-in browser)
//   npm start -- --interactive     you approve the login in a real browser
//   npm start -- --keep            keep the sandbox running afterwards to try ssh yourself
//   npm start -- --port 8443       HTTPS port of the sandbox (default: random)
//   npm start -- --no-build        skip setup, bundle and compile
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const APP = 'ssh.sandbox.test';
const args = process.argv.slice(2);
const interactive = args.includes('--interactive');
const keep = args.includes('--keep');
const noBuild = args.includes('--no-build');
const portArg = args.indexOf('--port') >= 0 ? Number(args[args.indexOf('--port') + 1]) : undefined;
for (const a of args) {
  if (a.startsWith('--') && !['--interactive', '--keep', '--no-build', '--port'].includes(a)) fail(`unknown option ${a} (known: --interactive, --keep, --port N, --no-build)`);
}

const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);
function step(msg) {
  process.stdout.write(`\n${bold('==>')} ${msg}\n`);
}
function fail(msg) {
  process.stderr.write(`\nnpm start failed: ${msg}\n`);
  process.exitCode = 1;
  throw new StartError(msg);
}
class StartError extends Error {}

function runSync(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} exited with ${r.status ?? r.signal}`);
}

function which(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Runs a command with inherited stdin (the login may be interactive), capturing stdout and stderr. */
function runAsync(cmd, argv, env, { echoStderr = true } = {}) {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['inherit', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (echoStderr) process.stderr.write(d);
    });
    child.on('error', (err) => resolveRun({ code: 127, stdout, stderr: stderr + err.message }));
    child.on('close', (code, signal) => resolveRun({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

function q(p) {
  if (/["\s%]/.test(p)) fail(`this demo needs a path without spaces, quotes or %: ${p}`);
  return p;
}

let sandbox;
let waitingForCtrlC = false;
async function main() {
  if (!noBuild) {
    if (existsSync(join(ROOT, 'scripts/setup.mjs'))) {
      step('Checking system packages (scripts/setup.mjs e2e)');
      runSync(process.execPath, ['scripts/setup.mjs', 'e2e'], 'scripts/setup.mjs');
    }
    step('Building the bundles (scripts/build.mjs) and compiling the sandbox (tsc)');
    runSync(process.execPath, ['scripts/build.mjs'], 'the esbuild bundle');
    // tsc emits even with type errors; a type error elsewhere in the tree must not stop the
    // demo as long as the sandbox compiled, but it is reported.
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
    if (tsc.status !== 0) {
      if (!existsSync(join(ROOT, 'out/test/sandbox/sandbox.js'))) fail(`the TypeScript compile exited with ${tsc.status ?? tsc.signal}`);
      process.stderr.write('warning: tsc reported errors (above); continuing with the compiled sandbox\n');
    }
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
  const { startSandbox } = createRequire(import.meta.url)(sandboxJs);
  try {
    sandbox = await startSandbox({ autoApprove: !interactive, port: portArg });
  } catch (err) {
    fail(`the sandbox did not start: ${err.message}`);
  }
  const sb = sandbox;
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
    [`export HOME=${home}`, `export ACCESS_SSH_CONNECT_TO=${sb.env.ACCESS_SSH_CONNECT_TO}`, `export NODE_EXTRA_CA_CERTS=${sb.env.NODE_EXTRA_CA_CERTS}`, `export BROWSER=${env.BROWSER}`, ''].join('\n'),
  );

  if (interactive) {
    const leaf = join(sb.dir, 'leaf.pem');
    let spki = '';
    try {
      const cert = new X509Certificate(readFileSync(leaf));
      spki = createHash('sha256').update(cert.publicKey.export({ type: 'spki', format: 'der' })).digest('base64');
    } catch {
      // printed without the pin
    }
    const rules = ['*.sandbox.test', 'sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org'].map((h) => `MAP ${h} 127.0.0.1:${sb.port}`).join(', ');
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
    waitingForCtrlC = true;
    await new Promise((res) => {
      process.once('SIGINT', res);
      process.once('SIGTERM', res);
    });
  } else {
    process.stdout.write(`\nDone. Demo files are in ${demo} (npm start -- --keep leaves the sandbox running to try ssh yourself).\n`);
  }
}

const stop = async () => {
  const s = sandbox;
  sandbox = undefined;
  if (s) await s.stop().catch(() => {});
};
process.on('SIGINT', () => {
  if (!waitingForCtrlC) stop().then(() => process.exit(130));
});
process.on('SIGTERM', () => {
  if (!waitingForCtrlC) stop().then(() => process.exit(143));
});
try {
  await main();
} catch (err) {
  if (!(err instanceof StartError)) {
    process.stderr.write(`\nnpm start failed: ${err?.stack ?? err}\n`);
    process.exitCode = 1;
  }
} finally {
  await stop();
}
