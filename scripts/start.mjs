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
//   npm start -- --vscode          start the sandbox and open the extension on it in a VS Code:
//                                  the desktop `code` when on the PATH, else code-server in a
//                                  browser (--code-server forces that); runs until Ctrl-C
//   npm start -- --vscode --dev    the same sandbox and profile for F5 (.vscode/launch.json):
//                                  prepares .demo/vscode and .demo/home, prints
//                                  "ready for F5" and runs until stopped; VS Code itself is
//                                  started by the debugger with --extensionDevelopmentPath
import { spawn, spawnSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const APP = 'ssh.sandbox.test';
const args = process.argv.slice(2);
const interactive = args.includes('--interactive');
const keep = args.includes('--keep');
const noBuild = args.includes('--no-build');
const forceCodeServer = args.includes('--code-server');
const devMode = args.includes('--dev');
const vscodeMode = args.includes('--vscode') || forceCodeServer || devMode;
const portArg = args.indexOf('--port') >= 0 ? Number(args[args.indexOf('--port') + 1]) : undefined;
for (const a of args) {
  if (a.startsWith('--') && !['--interactive', '--keep', '--no-build', '--port', '--vscode', '--code-server', '--dev'].includes(a)) {
    fail(`unknown option ${a} (known: --interactive, --keep, --port N, --no-build, --vscode, --code-server, --dev)`);
  }
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
/** Undone in reverse order before the sandbox stops (the --vscode mode's editor, browser). */
const cleanups = [];
async function main() {
  if (vscodeMode) return vscodeMain();
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
    waitingForCtrlC = true;
    await new Promise((res) => {
      process.once('SIGINT', res);
      process.once('SIGTERM', res);
    });
  } else {
    process.stdout.write(`\nDone. Demo files are in ${demo} (npm start -- --keep leaves the sandbox running to try ssh yourself).\n`);
  }
}

// ---- npm start -- --vscode ------------------------------------------------------------

/** Waits for Ctrl-C (or SIGTERM), or for `also` to settle. */
function untilStopped(also) {
  waitingForCtrlC = true;
  return new Promise((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
    also?.then(res, res);
  });
}

/** The Chromium of this machine, if any. */
function findChromium() {
  if (process.env.ACCESS_SSH_CHROMIUM && existsSync(process.env.ACCESS_SSH_CHROMIUM)) return process.env.ACCESS_SSH_CHROMIUM;
  return ['chromium', 'chromium-browser', 'google-chrome', 'google-chrome-stable'].map(which).find(Boolean);
}

/** A command line as a user would type it in a POSIX shell: one line per group of arguments. */
function shellLine(groups) {
  const word = (a) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(a) ? a : a.includes('$(') ? `"${a}"` : `'${a.replace(/'/g, `'\\''`)}'`);
  return groups.map((g) => g.map(word).join(' ')).join(' \\\n        ');
}

/** Processes whose command line holds `arg` as one argument (the editor we started, by its own data dir). */
function pidsWithArg(arg) {
  const out = [];
  let entries = [];
  try {
    entries = readdirSync('/proc');
  } catch {
    return out;
  }
  for (const e of entries) {
    if (!/^\d+$/.test(e) || Number(e) === process.pid) continue;
    try {
      if (
        readFileSync(`/proc/${e}/cmdline`, 'utf8')
          .split('\0')
          .some((a) => a === arg || a.endsWith(`=${arg}`))
      )
        out.push(Number(e));
    } catch {
      // gone or not ours
    }
  }
  return out;
}

function killTree(child) {
  if (!child?.pid || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, 'SIGTERM');
  } catch {
    try {
      child.kill('SIGTERM');
    } catch {
      // gone
    }
  }
}

async function vscodeMain() {
  const require = createRequire(import.meta.url);
  // --dev: the debugger starts the editor; only the desktop profile is prepared.
  const code = devMode ? 'code' : forceCodeServer ? undefined : which('code');
  if (!noBuild) {
    const suites = code ? ['e2e'] : ['e2e', 'ui'];
    step(`Checking system packages (scripts/setup.mjs ${suites.join(' ')})`);
    runSync(process.execPath, ['scripts/setup.mjs', ...suites], 'scripts/setup.mjs');
    if (devMode) {
      step('Building the extension with source maps (scripts/build.mjs), compiling the sandbox and the workbench harness (tsc)');
      runSync(process.execPath, ['scripts/build.mjs'], 'scripts/build.mjs');
    } else {
      step('Building and packaging the extension (scripts/package.mjs), compiling the sandbox and the workbench harness (tsc)');
      runSync(process.execPath, ['scripts/package.mjs'], 'scripts/package.mjs');
    }
    const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
    if (tsc.status !== 0) {
      if (!existsSync(join(ROOT, 'out/test/sandbox/sandbox.js')) || !existsSync(join(ROOT, 'out/test/ui/workbench.js'))) {
        fail(`the TypeScript compile exited with ${tsc.status ?? tsc.signal}`);
      }
      process.stderr.write('warning: tsc reported errors (above); continuing with the compiled sandbox and harness\n');
    }
  }
  const vsix = join(ROOT, 'access-ssh.vsix');
  for (const f of [
    devMode ? join(ROOT, 'dist/extension.js') : vsix,
    join(ROOT, 'out/test/sandbox/sandbox.js'),
    join(ROOT, 'out/test/ui/workbench.js'),
    join(ROOT, 'out/test/ui/browser.js'),
  ]) {
    if (!existsSync(f)) fail(`${f} is missing: run npm start -- --vscode without --no-build (or npm run package && npx tsc -p .)`);
  }

  step('Starting the sandbox Access edge and a real sshd');
  const { startSandbox } = require(join(ROOT, 'out/test/sandbox/sandbox.js'));
  try {
    // The login page shows its form: approving it in the browser is part of the demo.
    sandbox = await startSandbox({ autoApprove: false, port: portArg });
  } catch (err) {
    fail(`the sandbox did not start: ${err.message}`);
  }
  const sb = sandbox;
  process.stdout.write(
    `    edge     https://${APP} (and the team, transfer and admin names) on 127.0.0.1:${sb.port}\n` +
      `    sshd     127.0.0.1:${sb.sshd.port}, TrustedUserCAKeys ${sb.sshCaPublicKeyFile}\n`,
  );
  // The browser that shows the login page must reach the sandbox's names and trust its leaf.
  const { routingFlags, sandboxHostMap, spkiHash } = require(join(ROOT, 'out/test/ui/browser.js'));
  const spki = await spkiHash(sb.port, APP);
  const flags = routingFlags({ hostMap: sandboxHostMap(sb.port), spkiHashes: [spki] });
  const asRoot = process.getuid?.() === 0;
  // Chromium refuses to run as root without --no-sandbox.
  const chromiumBase = ['--no-first-run', '--no-default-browser-check', ...(asRoot ? ['--no-sandbox'] : []), ...flags];
  const settings = {
    'accessSSH.hosts': [APP],
    'accessSSH.connectTo': sb.env.ACCESS_SSH_CONNECT_TO,
  };
  if (code) await openDesktop(code, sb, settings, chromiumBase, vsix);
  else await openCodeServer(require, sb, settings, chromiumBase);
}

/** code-server in a browser, through test/ui/workbench.ts (the harness of the ui tests). */
async function openCodeServer(require, sb, settings, chromiumBase) {
  const { startWorkbench, missingWorkbench } = require(join(ROOT, 'out/test/ui/workbench.js'));
  const missing = missingWorkbench();
  if (missing) fail(missing);
  step('Starting code-server with access-ssh.vsix installed (test/ui/workbench.ts)');
  let wb;
  try {
    wb = await startWorkbench({
      homeFiles: {
        '.ssh/config': `# The demo's ssh config (npm start -- --vscode): the extension puts its Include at the top.\n`,
        '.ssh/known_hosts': `${sb.knownHostsLine ?? ''}\n`,
        'sandbox-ca.pem': readFileSync(sb.caFile, 'utf8'),
      },
      settings: (home) => ({
        ...settings,
        'accessSSH.extraCAFile': join(home, 'sandbox-ca.pem'),
        'accessSSH.configFile': join(home, '.ssh', 'config'),
      }),
    });
  } catch (err) {
    fail(`code-server did not start: ${err.message}`);
  }
  cleanups.push(() => wb.stop());
  const url = wb.url;
  const profile = join(wb.dir, 'chromium-profile');
  const routing = chromiumBase.filter(
    (f) => f.startsWith('--host-resolver-rules=') || f.startsWith('--ignore-certificate-errors-spki-list='),
  );
  const argv = [
    ['chromium', `--user-data-dir=$(mktemp -d)`, ...chromiumBase.filter((f) => !routing.includes(f))],
    ...routing.map((f) => [f]),
    [url],
  ];
  process.stdout.write(
    `    workbench   ${bold(url)}\n` +
      `    runs as     Unix user ${wb.user}, HOME ${wb.home} (its passwd home, so ssh's ~ is the demo's too)\n` +
      `    ssh config  ${join(wb.home, '.ssh', 'config')} (accessSSH.configFile)\n` +
      `    settings    ${join(wb.userDataDir, 'User', 'settings.json')} and ${join(wb.userDataDir, 'Machine', 'settings.json')}\n`,
  );
  step('Open the workbench in a Chromium that reaches the sandbox (the login page is served under its names):');
  process.stdout.write(
    `\n      ${shellLine(argv)}\n\n` +
      `    In the Access view, ${APP} is listed, signed out. Sign In (confirm "Open" for the external website)\n` +
      `    shows the sandbox's login page in a new tab: approve as jdoe@example.com. Then Open in Terminal\n` +
      `    runs ssh through the written config and lands on the sandbox's sshd as jdoe.\n`,
  );
  const chromium = findChromium();
  if (process.env.DISPLAY && chromium) {
    mkdirSync(profile, { recursive: true });
    const child = spawn(chromium, [`--user-data-dir=${profile}`, ...chromiumBase, url], { stdio: 'ignore', detached: true });
    child.on('error', (err) => process.stderr.write(`could not start ${chromium}: ${err.message}\n`));
    cleanups.push(() => killTree(child));
    process.stdout.write(`    Started ${chromium} on $DISPLAY=${process.env.DISPLAY}.\n`);
  }
  step('Running until Ctrl-C (then code-server, its Unix user, the sandbox and sshd are stopped)');
  await untilStopped();
  process.stdout.write('\nStopping.\n');
}

/** The desktop `code`, in a profile of its own under .demo/vscode, with HOME at .demo/home. */
async function openDesktop(code, sb, settings, chromiumBase, vsixFile) {
  const demo = join(ROOT, '.demo');
  const vdir = join(demo, 'vscode');
  const home = join(demo, 'home');
  // Fresh every run: the sandbox's CA and keys are new every run.
  for (const d of [vdir, home]) rmSync(d, { recursive: true, force: true });
  const userData = join(vdir, 'user-data');
  const extensions = join(vdir, 'extensions');
  const workspace = join(vdir, 'project');
  for (const d of [join(userData, 'User'), extensions, workspace]) mkdirSync(d, { recursive: true });
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  chmodSync(join(home, '.ssh'), 0o700);
  writeFileSync(join(workspace, 'README.md'), '# Access SSH demo\n\nThe Access view (activity bar) lists ssh.sandbox.test.\n');
  const knownHosts = join(home, '.ssh', 'known_hosts');
  writeFileSync(knownHosts, `${sb.knownHostsLine ?? ''}\n`, { mode: 0o600 });
  const ca = join(vdir, 'sandbox-ca.pem');
  writeFileSync(ca, readFileSync(sb.caFile));
  const key = join(home, '.cloudflared', `${APP}-cf_key`);
  const sshConfig = join(vdir, 'ssh_config');
  // Not ~/.ssh/config of the demo HOME: the extension adds `-F <file>` to the ssh commands
  // it runs only when the file is not that one, and ssh itself reads the passwd home's.
  writeFileSync(
    sshConfig,
    [
      `# The demo's ssh config (npm start -- --vscode): accessSSH.configFile and remote.SSH.configFile.`,
      `# The extension puts its Include at the top. Its entries name ~/.cloudflared/...; ssh expands ~`,
      `# from the passwd entry, not $HOME, so these lines add the demo's key files by absolute path`,
      `# (IdentityFile and CertificateFile accumulate) and keep host keys out of your known_hosts.`,
      `Host ${APP} cfpipe-${APP}`,
      `  IdentityFile ${q(key)}`,
      `  CertificateFile ${q(key)}-cert.pub`,
      `  UserKnownHostsFile ${q(knownHosts)}`,
      ``,
    ].join('\n'),
    { mode: 0o600 },
  );
  const chromium = findChromium();
  let browserScript;
  if (chromium) {
    // VS Code opens the login page with the OS browser unless workbench.externalBrowser names
    // another: this one reaches the sandbox.
    browserScript = join(vdir, 'sandbox-browser.sh');
    const argv = [chromium, `--user-data-dir=${join(vdir, 'chromium')}`, ...chromiumBase];
    writeFileSync(
      browserScript,
      `#!/bin/sh\n# A Chromium that reaches the sandbox (npm start -- --vscode; workbench.externalBrowser).\nexec ${argv.map((a) => `'${a}'`).join(' ')} "$@"\n`,
      { mode: 0o755 },
    );
  }
  const userSettings = {
    ...settings,
    'accessSSH.extraCAFile': ca,
    'accessSSH.configFile': sshConfig,
    'remote.SSH.configFile': sshConfig,
    ...(browserScript ? { 'workbench.externalBrowser': browserScript } : {}),
    'telemetry.telemetryLevel': 'off',
    'update.mode': 'none',
    'extensions.ignoreRecommendations': true,
    'workbench.startupEditor': 'none',
  };
  writeFileSync(join(userData, 'User', 'settings.json'), JSON.stringify(userSettings, null, 2) + '\n');
  if (devMode) {
    step('Sandbox and profile ready for F5 (.vscode/launch.json starts VS Code with --extensionDevelopmentPath)');
    process.stdout.write(
      `    HOME        ${home}\n    profile     ${userData}\n    ssh config  ${sshConfig}\n` +
        `    In the Access view, ${APP} is listed, signed out: Sign In, approve as jdoe@example.com.\n` +
        `ready for F5\n`,
    );
    await untilStopped();
    return;
  }

  // HOME: os.homedir() honours it, so the extension's ~/.cloudflared, ~/.ssh/access-ssh and the
  // helper's files all land in .demo/home. A parent VS Code's CLI hook would send `code` there.
  const env = { ...process.env, HOME: home };
  for (const k of Object.keys(env)) if (k.startsWith('VSCODE_') || k === 'ELECTRON_RUN_AS_NODE') delete env[k];
  delete env.SSH_AUTH_SOCK;
  const base = ['--user-data-dir', userData, '--extensions-dir', extensions, ...(process.getuid?.() === 0 ? ['--no-sandbox'] : [])];
  step(`${code} --install-extension access-ssh.vsix (profile in ${vdir})`);
  const inst = spawnSync(code, [...base, '--install-extension', vsixFile, '--force'], { cwd: ROOT, env, stdio: 'inherit' });
  if (inst.error || inst.status !== 0)
    fail(
      `${code} --install-extension exited with ${inst.error?.message ?? inst.status ?? inst.signal} (if it is not a desktop VS Code, use --code-server)`,
    );

  step('Opening VS Code on the sandbox');
  process.stdout.write(
    `    HOME        ${home} (the extension's ~/.cloudflared and ~/.ssh/access-ssh are there)\n` +
      `    ssh config  ${sshConfig} (accessSSH.configFile, remote.SSH.configFile)\n` +
      `    settings    ${join(userData, 'User', 'settings.json')}\n` +
      (browserScript
        ? `    login page  opens in ${browserScript} (workbench.externalBrowser), a Chromium that reaches the sandbox\n`
        : `    login page  no Chromium found: open the login URL in a browser that maps *.sandbox.test,\n` +
          `                sandbox.cloudflareaccess.com and login.cloudflareaccess.org to 127.0.0.1:${sb.port} and trusts ${ca}\n`) +
      `    In the Access view, ${APP} is listed, signed out: Sign In, approve as jdoe@example.com.\n`,
  );
  const child = spawn(code, [...base, '--new-window', '--wait', '--password-store=basic', workspace], {
    cwd: workspace,
    env,
    stdio: 'inherit',
  });
  const closed = new Promise((res) => {
    child.once('exit', res);
    child.once('error', (err) => {
      process.stderr.write(`${code}: ${err.message}\n`);
      res();
    });
  });
  cleanups.push(() => {
    child.kill('SIGTERM');
    // The window outlives the CLI: end the editor processes of this profile (ours alone use it).
    for (const pid of pidsWithArg(userData)) {
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        // gone
      }
    }
  });
  step('Running until the window is closed or Ctrl-C (then the sandbox and sshd are stopped)');
  await untilStopped(closed);
  process.stdout.write('\nStopping.\n');
}

const stop = async () => {
  while (cleanups.length)
    await Promise.resolve()
      .then(cleanups.pop())
      .catch((err) => process.stderr.write(`cleanup: ${err?.message ?? err}\n`));
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
