// cloudflared-compatible lock files (token.go acquireLockFile), so that
// concurrent ssh connections, the extension and cloudflared itself share one
// browser login instead of opening one tab each. `<target>.lock` holds
// `{"pid":N,"start_time":MS}`; a lock whose holder is gone is reclaimed.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { discardStaged, stageFile } from '../base/atomic-write.js';
import { onAbnormalExit } from '../base/cleanup.js';
import { checkPrivateDir, openPrivateFile, readPrivateFile } from '../base/private-files.js';
import { isFileError } from '../base/file-error.js';
import { AccessError, describeError } from './errors.js';
import { sleep } from '../base/sleep.js';

export const DEFAULT_LOCK_TIMEOUT_MS = 10 * 60 * 1000;
export const DEFAULT_LOCK_RETRY_MS = 2000;
/** cloudflared's tolerance between recorded and actual process start time. */
export const START_TIME_TOLERANCE_MS = 1000;
/** A lock file still being written by a cloudflared (create, then write) looks empty for a moment. */
const FRESH_EMPTY_GRACE_MS = 1000;

export interface LockHolder {
  readonly pid: number;
  readonly url?: string;
}

export interface LockOptions {
  readonly timeoutMs?: number;
  readonly retryMs?: number;
  /** Stop waiting when aborted (the caller's overall deadline); its reason is thrown. */
  readonly signal?: AbortSignal;
  onWaiting?(holder: LockHolder): void;
}

interface LockContent {
  readonly pid: number;
  readonly start_time: number;
}

/** Run `fn` while holding `<targetPath>.lock`; the lock is always released. */
export async function withFileLock<T>(targetPath: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lockPath = `${targetPath}.lock`;
  const mine = await acquire(lockPath, targetPath, opts);
  // SIGTERM, SIGINT, SIGHUP: the CLI removes the lock on its way out.
  const unregister = onAbnormalExit(() => releaseSync(lockPath, mine));
  try {
    await sweepDebris(targetPath);
    return await fn();
  } finally {
    unregister();
    await release(lockPath, mine);
  }
}

async function acquire(lockPath: string, targetPath: string, opts: LockOptions): Promise<string> {
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOCK_TIMEOUT_MS;
  const retryMs = opts.retryMs ?? DEFAULT_LOCK_RETRY_MS;
  const deadline = Date.now() + timeoutMs;
  const content = `${JSON.stringify(selfLockContent())}\n`;
  let lastUrl = '';
  let holderPid: number | undefined;
  let announced: number | undefined;
  try {
    await checkPrivateDir(path.dirname(lockPath));
  } catch (err) {
    throw lockFileError(err);
  }
  for (;;) {
    if (opts.signal?.aborted) throw abortReason(opts.signal, lockPath);
    if (Date.now() > deadline) {
      throw new AccessError(
        'lock',
        `Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${lockPath}${holderPid ? ` (held by pid ${holderPid})` : ''}`,
        {
          hint: `Another sign-in seems stuck. Finish or close it, or delete ${lockPath}.`,
        },
      );
    }
    try {
      await createExclusive(lockPath, content);
      return content;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') {
        if (isFileError(err)) throw lockFileError(err);
        throw new AccessError('lock', `Cannot create ${lockPath}: ${describeError(err)}`, { cause: err });
      }
    }

    const state = await inspectLock(lockPath, timeoutMs);
    if (state.kind === 'gone') continue;
    if (state.kind === 'stale') {
      // The O_EXCL create decides between processes reclaiming at once.
      await fsp.rm(lockPath, { force: true }).catch(() => undefined);
      continue;
    }
    if (state.kind === 'held') {
      holderPid = state.pid;
      const url = await readAuthUrl(targetPath);
      if (url && url !== lastUrl) {
        lastUrl = url;
        announced = state.pid;
        opts.onWaiting?.({ pid: state.pid, url });
      } else if (!url && announced !== state.pid) {
        // Say once that we wait, even before the holder has a login URL.
        announced = state.pid;
        opts.onWaiting?.({ pid: state.pid });
      }
    }
    await sleep(Math.min(retryMs, Math.max(0, deadline - Date.now()) + 1), opts.signal);
  }
}

function abortReason(signal: AbortSignal, lockPath: string): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new AccessError('lock', `Stopped waiting for ${lockPath}`);
}

/**
 * Create the lock file with its content in one step: write a private temp
 * file and hard-link it into place (fails with EEXIST like O_EXCL), so no
 * reader ever sees an empty lock of ours. Falls back to O_EXCL where links
 * are not supported.
 */
async function createExclusive(lockPath: string, content: string): Promise<void> {
  // The file layer's temp file: unpredictable name, O_EXCL|O_NOFOLLOW, checked. Not
  // fsynced (as cloudflared's lock is not): a lock names a live process, and after a
  // crash it is stale whatever it holds (an empty one too, once FRESH_EMPTY_GRACE_MS
  // passed); the fsync was one of a renewal's five (docs/BENCHMARKS.md, sixth round).
  const staged = await stageFile(lockPath, content, 0o600, { sync: false });
  try {
    try {
      await fsp.link(staged.temp, lockPath);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
    }
  } finally {
    await discardStaged([staged]);
  }
  const fh = await fsp.open(
    lockPath,
    fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | (fs.constants.O_NOFOLLOW ?? 0),
    0o600,
  );
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

async function release(lockPath: string, mine: string): Promise<void> {
  try {
    // Only remove our own lock: after a timeout another process may have reclaimed it.
    const current = (await readPrivateFile(lockPath, { sensitivity: 'public', maxBytes: MAX_LOCK_BYTES }))?.toString('utf8');
    if (current === mine) await fsp.rm(lockPath, { force: true });
  } catch {
    // Already gone, or not ours any more.
  }
}

/**
 * What a holder killed with -9 left behind: temp files of the files this lock
 * guards (`.<target>[.pub|-cert.pub|.url].<32 hex>.tmp`) and its `<target>.url`.
 * Only the lock holder writes them, and we hold the lock now, so they are debris;
 * a temp file is taken as debris once it is DEBRIS_AGE_MS old (a live one lives
 * milliseconds; the age spares a token written under a neighbouring lock).
 */
async function sweepDebris(targetPath: string): Promise<void> {
  const dir = path.dirname(targetPath);
  const base = path.basename(targetPath).replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  const temp = new RegExp(`^\\.${base}(?:\\.pub|-cert\\.pub|\\.url|\\.lock)?\\.[0-9a-f]{32}\\.tmp$`);
  let names: string[];
  try {
    names = await fsp.readdir(dir);
  } catch {
    return;
  }
  const now = Date.now();
  const debris: string[] = [];
  for (const n of names.filter((x) => temp.test(x))) {
    const st = await fsp.lstat(path.join(dir, n)).catch(() => undefined);
    if (st && now - st.mtimeMs > DEBRIS_AGE_MS) debris.push(path.join(dir, n));
  }
  if (names.includes(`${path.basename(targetPath)}.url`)) debris.push(`${targetPath}.url`);
  await Promise.all(debris.map((f) => fsp.rm(f, { force: true }).catch(() => undefined)));
}

/** release() for a process on its way out (signal handler): synchronous, no-follow. */
function releaseSync(lockPath: string, mine: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(lockPath, fs.constants.O_RDONLY | (fs.constants.O_NOFOLLOW ?? 0) | (fs.constants.O_NONBLOCK ?? 0));
    const st = fs.fstatSync(fd);
    if (st.isFile() && st.size < MAX_LOCK_BYTES && fs.readFileSync(fd, 'utf8') === mine) fs.rmSync(lockPath, { force: true });
  } catch {
    // gone
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** A temp file this old beside a lock we hold is debris of a killed holder. */
export const DEBRIS_AGE_MS = 5000;

/** A lock file is a line of JSON; cloudflared's too. */
const MAX_LOCK_BYTES = 4096;

/** A lock path that is not a regular lock file we can read: an error naming it, at once (never "gone"). */
function lockFileError(err: unknown): AccessError {
  if (isFileError(err)) {
    return new AccessError('lock', `Cannot use the lock ${err.path}: ${err.message}`, {
      ...(err.hint !== undefined ? { hint: err.hint } : {}),
      cause: err,
    });
  }
  return new AccessError('lock', describeError(err), { cause: err });
}

type LockState = { kind: 'gone' } | { kind: 'stale'; why: string } | { kind: 'held'; pid: number } | { kind: 'settling' };

/** cloudflared's isLockFileStale, plus a grace period for a lock being written. */
export async function inspectLock(lockPath: string, timeoutMs: number = DEFAULT_LOCK_TIMEOUT_MS): Promise<LockState> {
  let data: string;
  let mtimeMs: number;
  // No symlink, no directory, no FIFO (it would hang a blocking open), no other
  // owner: anything but a regular lock file we can read is an error naming the
  // path, at once. Only a missing file is "gone" (released meanwhile).
  let handle: fsp.FileHandle | undefined;
  try {
    handle = await openLock(lockPath);
    if (!handle) return { kind: 'gone' };
    const st = await handle.stat();
    if (st.size > MAX_LOCK_BYTES)
      throw new AccessError('lock', `${lockPath} is ${st.size} bytes long: not a lock file`, { hint: `Remove it: rm "${lockPath}"` });
    mtimeMs = st.mtimeMs;
    data = await handle.readFile('utf8');
  } catch (err) {
    if (err instanceof AccessError) throw err;
    throw lockFileError(err);
  } finally {
    await handle?.close().catch(() => undefined);
  }
  const content = parseLockContent(data);
  if (!content) {
    if (data.trim() === '' && Date.now() - mtimeMs < FRESH_EMPTY_GRACE_MS) return { kind: 'settling' };
    return { kind: 'stale', why: 'unparsable' };
  }
  if (!processExists(content.pid)) return { kind: 'stale', why: 'process gone' };
  const start = processStartTime(content.pid);
  if (start !== undefined && Math.abs(start - content.start_time) > START_TIME_TOLERANCE_MS) {
    return { kind: 'stale', why: 'pid recycled' };
  }
  if (Date.now() - mtimeMs > timeoutMs) return { kind: 'stale', why: 'too old' };
  return { kind: 'held', pid: content.pid };
}

async function openLock(lockPath: string): Promise<fsp.FileHandle | undefined> {
  return await openPrivateFile(lockPath, { sensitivity: 'public' });
}

function parseLockContent(data: string): LockContent | undefined {
  try {
    const v = JSON.parse(data) as Partial<LockContent> | null;
    if (v && typeof v === 'object' && Number.isInteger(v.pid) && (v.pid as number) > 0 && typeof v.start_time === 'number') {
      return { pid: v.pid as number, start_time: v.start_time };
    }
  } catch {
    // fall through
  }
  return undefined;
}

export function selfLockContent(): LockContent {
  const start = processStartTime(process.pid) ?? Math.round(Date.now() - process.uptime() * 1000);
  return { pid: process.pid, start_time: start };
}

export function processExists(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    // EPERM: it exists but belongs to someone else.
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Process creation time in ms since the epoch, computed as gopsutil does
 * (what cloudflared writes), or undefined when it cannot be known.
 */
export function processStartTime(pid: number): number | undefined {
  try {
    if (process.platform === 'linux') return linuxStartTime(pid);
    if (process.platform === 'darwin' || process.platform === 'freebsd' || process.platform === 'openbsd') return psStartTime(pid);
  } catch {
    return undefined;
  }
  // Windows: no cheap query; liveness and lock age decide.
  return undefined;
}

let clockTicks: number | undefined;

/**
 * What cloudflared's gopsutil (v4, process_linux.go) computes for a process:
 * `starttime * 1000 / CLK_TCK + bootTime * 1000`, in integer milliseconds,
 * where starttime is field 22 of /proc/<pid>/stat (clock ticks since boot).
 * Boot time (common_linux.go BootTimeWithContext, not cached by the process
 * package) is `btime` of /proc/stat, except inside a Docker or LXC guest,
 * where it is whole seconds of `now - /proc/uptime`.
 */
function linuxStartTime(pid: number): number | undefined {
  const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  if (stat === '') return undefined;
  // The command name may hold spaces and parentheses: fields follow the last ')'.
  const fields = stat
    .slice(stat.lastIndexOf(')') + 2)
    .trim()
    .split(/\s+/);
  const raw = fields[19]; // field 22 of proc(5); fields here start at field 3
  if (raw === undefined || !/^\d+$/.test(raw)) return undefined;
  const startTicks = BigInt(raw);
  const boot = gopsutilBootTime();
  if (boot === undefined) return undefined;
  clockTicks ??= readClockTicks();
  return Number((startTicks * 1000n) / BigInt(clockTicks)) + boot * 1000;
}

function readClockTicks(): number {
  try {
    const n = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8', timeout: 2000 }).trim());
    return Number.isInteger(n) && n > 0 ? n : 100;
  } catch {
    return 100; // gopsutil's default too
  }
}

let containerGuest: boolean | undefined;

/** Boot time in whole seconds, as gopsutil reads it. */
export function gopsutilBootTime(): number | undefined {
  containerGuest ??= isDockerOrLxcGuest();
  if (!containerGuest) {
    const m = /^btime\s+(\d+)\s*$/m.exec(fs.readFileSync('/proc/stat', 'utf8'));
    return m ? Number(m[1]) : undefined;
  }
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').trim().split(/\s+/)[0]);
  if (!Number.isFinite(uptime)) return undefined;
  return Math.floor(Date.now() / 1000 - uptime);
}

/**
 * gopsutil's VirtualizationWithContext reduced to the one answer that changes
 * the boot time: is the system (last rule that matches wins) an LXC or Docker
 * guest?
 */
function isDockerOrLxcGuest(): boolean {
  const read = (file: string): string | undefined => {
    try {
      return fs.readFileSync(file, 'utf8');
    } catch {
      return undefined;
    }
  };
  let system = '';
  let role = '';
  if (read('/proc/1/environ')?.includes('container=lxc')) {
    system = 'lxc';
    role = 'guest';
  }
  const cgroup = read('/proc/self/cgroup');
  if (cgroup !== undefined) {
    if (cgroup.includes('lxc')) [system, role] = ['lxc', 'guest'];
    else if (cgroup.includes('docker')) [system, role] = ['docker', 'guest'];
    else if (cgroup.includes('machine-rkt')) [system, role] = ['rkt', 'guest'];
    else if (fs.existsSync('/usr/bin/lxc-version')) [system, role] = ['lxc', 'host'];
  }
  if (/^ID="?coreos"?$/m.test(read('/etc/os-release') ?? '')) [system, role] = ['rkt', 'host'];
  if (fs.existsSync('/.dockerenv')) [system, role] = ['docker', 'guest'];
  return role === 'guest' && (system === 'lxc' || system === 'docker');
}

function psStartTime(pid: number): number | undefined {
  const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], {
    encoding: 'utf8',
    timeout: 2000,
    env: { ...process.env, LC_ALL: 'C' },
  }).trim();
  const t = Date.parse(out);
  return Number.isNaN(t) ? undefined : t;
}

/** The login URL a lock holder published in `<target>.url`, if any (no symlink followed; at most 8 KiB). */
export async function readAuthUrl(targetPath: string): Promise<string> {
  try {
    const text = (await readPrivateFile(`${targetPath}.url`, { sensitivity: 'public', maxBytes: 8192 }))?.toString('utf8').trim() ?? '';
    // Shown on a terminal: a URL, one line, printable ASCII only.
    return /^https:\/\/[\x21-\x7e]+$/.test(text) ? text : '';
  } catch {
    return '';
  }
}
