// Lock files shared with a live cloudflared, both ways. cloudflared's rule is
// re-implemented here from its Go code, independently of src/access/lock.ts:
//   token/token.go      tryCreateLockFile (O_CREATE|O_EXCL, 0600, json.Encoder of
//                       {"pid","start_time"}), isLockFileStale (pid gone, CreateTime
//                       unreadable or more than 1000 ms off, or lock older than 10 min)
//   gopsutil v4         process_linux.go fillFromTIDStatWithContext:
//                       createTime = starttime*1000/CLK_TCK + bootTime*1000 (integers);
//                       common_linux.go BootTimeWithContext: /proc/stat btime, or
//                       uint64(now - /proc/uptime) in a Docker/LXC guest.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { inspectLock, processStartTime, withFileLock, type LockHolder } from '../../../src/access/lock.js';
import { tempDir } from '../../support/tmp.js';

const linux = process.platform === 'linux';

// ---------------------------------------------------------------- cloudflared's rule, from its Go code

/** gopsutil splitProcStat: fields indexed from 1 as in proc(5). */
function goSplitProcStat(content: string): string[] {
  const nameStart = content.indexOf('(');
  const nameEnd = content.lastIndexOf(')');
  const rest = content
    .slice(nameEnd + 2)
    .split(/\s+/)
    .filter((f) => f !== '');
  return ['', content.slice(0, nameStart).trim(), content.slice(nameStart + 1, nameEnd), ...rest];
}

function goVirtualization(): { system: string; role: string } {
  const exists = (p: string) => fs.existsSync(p);
  const read = (p: string) => {
    try {
      return fs.readFileSync(p, 'utf8');
    } catch {
      return undefined;
    }
  };
  const lines = (p: string) => read(p)?.split('\n');
  const contains = (ls: string[] | undefined, s: string) => (ls ?? []).some((l) => l.includes(s));
  let system = '';
  let role = '';
  if (exists('/proc/xen')) [system, role] = ['xen', contains(lines('/proc/xen/capabilities'), 'control_d') ? 'host' : 'guest'];
  const modules = lines('/proc/modules');
  if (modules) {
    if (contains(modules, 'kvm')) [system, role] = ['kvm', 'host'];
    else if (contains(modules, 'hv_util')) [system, role] = ['hyperv', 'guest'];
    else if (contains(modules, 'vboxdrv')) [system, role] = ['vbox', 'host'];
    else if (contains(modules, 'vboxguest')) [system, role] = ['vbox', 'guest'];
    else if (contains(modules, 'vmware')) [system, role] = ['vmware', 'guest'];
  }
  const cpuinfo = lines('/proc/cpuinfo');
  if (
    contains(cpuinfo, 'QEMU Virtual CPU') ||
    contains(cpuinfo, 'Common KVM processor') ||
    contains(cpuinfo, 'Common 32-bit KVM processor')
  )
    [system, role] = ['kvm', 'guest'];
  if (contains(lines('/proc/bus/pci/devices'), 'virtio-pci')) role = 'guest';
  if (exists('/proc/bc/0')) [system, role] = ['openvz', 'host'];
  else if (exists('/proc/vz')) [system, role] = ['openvz', 'guest'];
  if (read('/proc/1/environ')?.includes('container=lxc')) [system, role] = ['lxc', 'guest'];
  const cgroup = lines('/proc/self/cgroup');
  if (cgroup) {
    if (contains(cgroup, 'lxc')) [system, role] = ['lxc', 'guest'];
    else if (contains(cgroup, 'docker')) [system, role] = ['docker', 'guest'];
    else if (contains(cgroup, 'machine-rkt')) [system, role] = ['rkt', 'guest'];
    else if (exists('/usr/bin/lxc-version')) [system, role] = ['lxc', 'host'];
  }
  if (exists('/.dockerenv')) [system, role] = ['docker', 'guest'];
  return { system, role };
}

function goBootTime(): bigint {
  const { system, role } = goVirtualization();
  if (!((system === 'lxc' || system === 'docker') && role === 'guest')) {
    const line = fs
      .readFileSync('/proc/stat', 'utf8')
      .split('\n')
      .find((l) => l.startsWith('btime'))!;
    return BigInt(line.split(/\s+/)[1]!);
  }
  const uptime = Number(fs.readFileSync('/proc/uptime', 'utf8').split('\n')[0]!.split(/\s+/)[0]);
  return BigInt(Math.trunc(Date.now() / 1000 - uptime));
}

const CLK_TCK = linux ? BigInt(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) : 100n;

/**
 * gopsutil process.CreateTime() in ms, or undefined when it fails (no such process).
 * `boot` fixes the boot time (in a container gopsutil derives it from the clock and
 * /proc/uptime at each call, so two calls may differ by a second).
 */
function goCreateTime(pid: number, boot: bigint = goBootTime()): number | undefined {
  let contents: string;
  try {
    contents = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
  } catch {
    return undefined;
  }
  if (contents.length === 0) return undefined;
  const t = BigInt(goSplitProcStat(contents)[22]!);
  return Number((t * 1000n) / CLK_TCK + boot * 1000n);
}

/** `value` is what gopsutil computes for `pid` at about the time `produce` runs. */
function assertGopsutilValue(pid: number, produce: () => number | undefined, what: string): void {
  const before = goBootTime();
  const value = produce();
  const after = goBootTime();
  const candidates = new Set([goCreateTime(pid, before), goCreateTime(pid, after)]);
  assert.ok(candidates.has(value), `${what}: ${value} is not gopsutil's ${[...candidates].join(' or ')}`);
}

/** cloudflared's isLockFileStale. */
function cloudflaredIsStale(lockPath: string): { stale: boolean; pid?: number } {
  const data = fs.readFileSync(lockPath, 'utf8');
  let content: { pid: number; start_time: number };
  try {
    content = JSON.parse(data) as { pid: number; start_time: number };
    if (typeof content !== 'object' || content === null) return { stale: true };
  } catch {
    return { stale: true };
  }
  if (!fs.existsSync(`/proc/${content.pid}`)) return { stale: true, pid: content.pid }; // PidExists with /proc mounted
  const ct = goCreateTime(content.pid);
  if (ct === undefined) return { stale: true, pid: content.pid };
  if (Math.abs(ct - content.start_time) > 1000) return { stale: true, pid: content.pid };
  if (Date.now() - fs.statSync(lockPath).mtimeMs > 10 * 60 * 1000) return { stale: true, pid: content.pid };
  return { stale: false, pid: content.pid };
}

/** tryCreateLockFile for process `pid`: O_EXCL, 0600, json.NewEncoder(f).Encode(content) (a trailing newline). */
function cloudflaredWriteLock(lockPath: string, pid: number): void {
  const fd = fs.openSync(lockPath, fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_WRONLY, 0o600);
  try {
    fs.writeSync(fd, `${JSON.stringify({ pid, start_time: goCreateTime(pid)! })}\n`);
  } finally {
    fs.closeSync(fd);
  }
}

// ---------------------------------------------------------------- helpers

function liveProcess(): ChildProcess {
  // A process that lives until it is killed: the "cloudflared" holding the lock.
  return spawn(process.execPath, ['-e', 'setInterval(() => {}, 1000)'], { stdio: 'ignore' });
}

function exited(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve();
    else child.once('exit', () => resolve());
  });
}

// ---------------------------------------------------------------- tests

test("our start_time is exactly gopsutil's CreateTime (this process, pid 1, a child)", { skip: !linux && 'needs /proc' }, async () => {
  const child = liveProcess();
  try {
    for (const pid of [process.pid, 1, child.pid!]) {
      assert.ok(goCreateTime(pid) !== undefined, `gopsutil reads pid ${pid}`);
      assertGopsutilValue(pid, () => processStartTime(pid), `pid ${pid}`);
    }
  } finally {
    child.kill('SIGKILL');
    await exited(child);
  }
});

test(
  'a lock written as cloudflared writes it for a live process is waited on, then reclaimed once that process is gone',
  { skip: !linux && 'needs /proc' },
  async (t) => {
    const target = path.join(tempDir(t), 'ssh.example.com-aud-token');
    const lock = `${target}.lock`;
    const holder = liveProcess();
    cloudflaredWriteLock(lock, holder.pid!);
    assert.match(fs.readFileSync(lock, 'utf8'), /^\{"pid":\d+,"start_time":\d+\}\n$/);
    assert.equal(cloudflaredIsStale(lock).stale, false, 'cloudflared itself considers it held');
    assert.deepEqual(await inspectLock(lock), { kind: 'held', pid: holder.pid });

    const events: string[] = [];
    const waiting: LockHolder[] = [];
    const acquired = withFileLock(
      target,
      async () => {
        events.push('acquired');
        // Our own lock replaced cloudflared's.
        return JSON.parse(fs.readFileSync(lock, 'utf8')) as { pid: number };
      },
      { retryMs: 20, timeoutMs: 60_000, onWaiting: (h) => waiting.push(h) },
    );

    // Several rounds of waiting while the holder lives.
    while (waiting.length === 0) await new Promise((r) => setTimeout(r, 10));
    await new Promise((r) => setTimeout(r, 200));
    assert.equal(events.length, 0, 'not acquired while a live cloudflared holds it');
    assert.equal(waiting[0]!.pid, holder.pid);
    assert.equal(fs.existsSync(lock), true);

    events.push('holder killed');
    holder.kill('SIGKILL');
    await exited(holder);
    const mine = await acquired;
    assert.deepEqual(events, ['holder killed', 'acquired']);
    assert.equal(mine.pid, process.pid);
    assert.equal(fs.existsSync(lock), false, 'released');
  },
);

test(
  'cloudflared waits on our lock: its rule finds ours live while we hold it, stale once we are gone',
  { skip: !linux && 'needs /proc' },
  async (t) => {
    const dir = tempDir(t);
    const target = path.join(dir, 'sandbox.cloudflareaccess.com-org-token');
    const lock = `${target}.lock`;
    const lockModule = path.resolve(__dirname, '..', '..', '..', 'src', 'access', 'lock.js');
    // Another process holds our lock until its stdin closes.
    const child = spawn(
      process.execPath,
      [
        '-e',
        `
    const { withFileLock } = require(${JSON.stringify(lockModule)});
    withFileLock(${JSON.stringify(target)}, () => new Promise((resolve) => {
      process.stdout.write('locked\\n');
      process.stdin.on('end', resolve);
      process.stdin.resume();
    }));
  `,
      ],
      { stdio: ['pipe', 'pipe', 'inherit'] },
    );
    await new Promise<void>((resolve, reject) => {
      child.stdout.on('data', (d: Buffer) => {
        if (d.toString().includes('locked')) resolve();
      });
      child.once('exit', (code) => reject(new Error(`holder exited early (${code})`)));
    });
    try {
      const text = fs.readFileSync(lock, 'utf8');
      assert.match(text, /^\{"pid":\d+,"start_time":\d+\}\n$/, "cloudflared's lockContent JSON");
      const content = JSON.parse(text) as { pid: number; start_time: number };
      assert.equal(content.pid, child.pid);
      assertGopsutilValue(child.pid!, () => content.start_time, "the lock's start_time");
      assert.equal(fs.statSync(lock).mode & 0o777, 0o600);
      assert.deepEqual(cloudflaredIsStale(lock), { stale: false, pid: child.pid }, 'cloudflared would wait');
    } finally {
      child.kill('SIGKILL');
      await exited(child);
    }
    // Killed while holding it: the lock stays behind, and cloudflared reclaims it.
    assert.equal(fs.existsSync(lock), true);
    assert.deepEqual(cloudflaredIsStale(lock), { stale: true, pid: child.pid });
  },
);

test(
  "cloudflared's tolerance: 1000 ms either way is the same process, 1001 ms is a recycled pid (both rules agree)",
  { skip: !linux && 'needs /proc' },
  async (t) => {
    const holder = liveProcess();
    try {
      const ct = goCreateTime(holder.pid!)!;
      for (const [offset, stale] of [
        [0, false],
        [1000, false],
        [-1000, false],
        [1001, true],
        [-1001, true],
      ] as const) {
        const lock = path.join(tempDir(t), 'x.lock');
        fs.writeFileSync(lock, `${JSON.stringify({ pid: holder.pid, start_time: ct + offset })}\n`, { mode: 0o600 });
        assert.equal(cloudflaredIsStale(lock).stale, stale, `cloudflared, offset ${offset}`);
        assert.equal((await inspectLock(lock)).kind, stale ? 'stale' : 'held', `ours, offset ${offset}`);
      }
    } finally {
      holder.kill('SIGKILL');
      await exited(holder);
    }
  },
);
