// cloudflared-compatible lock files (token.go acquireLockFile), so that
// concurrent ssh connections, the extension and cloudflared itself share one
// browser login instead of opening one tab each. `<target>.lock` holds
// `{"pid":N,"start_time":MS}`; a lock whose holder is gone is reclaimed.

import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as fsp from 'node:fs/promises';
import * as path from 'node:path';
import { AccessError, describeError } from './errors.js';

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
  try {
    return await fn();
  } finally {
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
  for (;;) {
    if (Date.now() > deadline) {
      throw new AccessError('lock', `Timed out after ${Math.round(timeoutMs / 1000)}s waiting for ${lockPath}${holderPid ? ` (held by pid ${holderPid})` : ''}`, {
        hint: `Another sign-in seems stuck. Finish or close it, or delete ${lockPath}.`,
      });
    }
    try {
      await createExclusive(lockPath, content);
      return content;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') {
        await fsp.mkdir(path.dirname(lockPath), { recursive: true, mode: 0o700 });
        continue;
      }
      if (code !== 'EEXIST') {
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
      const url = readAuthUrl(targetPath);
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
    await delay(Math.min(retryMs, Math.max(0, deadline - Date.now()) + 1));
  }
}

/**
 * Create the lock file with its content in one step: write a private temp
 * file and hard-link it into place (fails with EEXIST like O_EXCL), so no
 * reader ever sees an empty lock of ours. Falls back to O_EXCL where links
 * are not supported.
 */
async function createExclusive(lockPath: string, content: string): Promise<void> {
  const tmp = `${lockPath}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  try {
    await fsp.writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
    try {
      await fsp.link(tmp, lockPath);
      return;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EXDEV' && code !== 'ENOSYS') throw err;
    }
  } finally {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
  }
  const fh = await fsp.open(lockPath, 'wx', 0o600);
  try {
    await fh.writeFile(content);
  } finally {
    await fh.close();
  }
}

async function release(lockPath: string, mine: string): Promise<void> {
  try {
    // Only remove our own lock: after a timeout another process may have reclaimed it.
    const current = await fsp.readFile(lockPath, 'utf8');
    if (current === mine) await fsp.rm(lockPath, { force: true });
  } catch {
    // Already gone.
  }
}

type LockState = { kind: 'gone' } | { kind: 'stale'; why: string } | { kind: 'held'; pid: number } | { kind: 'settling' };

/** cloudflared's isLockFileStale, plus a grace period for a lock being written. */
export async function inspectLock(lockPath: string, timeoutMs: number = DEFAULT_LOCK_TIMEOUT_MS): Promise<LockState> {
  let data: string;
  let mtimeMs: number;
  try {
    data = await fsp.readFile(lockPath, 'utf8');
    mtimeMs = (await fsp.stat(lockPath)).mtimeMs;
  } catch {
    return { kind: 'gone' };
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
  const fields = stat.slice(stat.lastIndexOf(')') + 2).trim().split(/\s+/);
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
  const out = execFileSync('ps', ['-o', 'lstart=', '-p', String(pid)], { encoding: 'utf8', timeout: 2000, env: { ...process.env, LC_ALL: 'C' } }).trim();
  const t = Date.parse(out);
  return Number.isNaN(t) ? undefined : t;
}

/** The login URL a lock holder published in `<target>.url`, if any. */
export function readAuthUrl(targetPath: string): string {
  try {
    return fs.readFileSync(`${targetPath}.url`, 'utf8').trim();
  } catch {
    return '';
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
