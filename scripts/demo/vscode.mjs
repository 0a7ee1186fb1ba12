// `npm start -- --vscode`: the sandbox Access edge and a real sshd, then the extension on
// them in a VS Code: the desktop `code` when on the PATH (a profile of its own under
// .demo/vscode, HOME=.demo/home), else code-server in a browser through the ui tests'
// harness (test/ui/workbench.ts). With --dev only the sandbox and the desktop profile are
// prepared, for F5 (.vscode/launch.json). Options: scripts/start.mjs.
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { APP, bold, cleanups, compile, fail, q, require, ROOT, runSync, startSandbox, step, untilStopped, which } from './common.mjs';

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

export async function vscodeDemo({ noBuild, port, forceCodeServer, devMode }) {
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
    compile(['out/test/sandbox/sandbox.js', 'out/test/ui/workbench.js'], 'sandbox and harness');
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
  // The login page shows its form: approving it in the browser is part of the demo.
  const sb = await startSandbox({ autoApprove: false, port });
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
  if (code) await openDesktop(code, sb, settings, chromiumBase, vsix, devMode);
  else await openCodeServer(sb, settings, chromiumBase);
}

/** code-server in a browser, through test/ui/workbench.ts (the harness of the ui tests). */
async function openCodeServer(sb, settings, chromiumBase) {
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
async function openDesktop(code, sb, settings, chromiumBase, vsixFile, devMode) {
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
