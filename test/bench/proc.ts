// What the benchmark reads of other processes from /proc (Linux): resident memory,
// CPU time, the process tree. No timing: these are counters the kernel keeps,
// which the other work on a shared machine does not distort much.

import { readdirSync, readFileSync, realpathSync } from 'node:fs';

/** Resident memory of a process, in KiB (man 5 proc: VmRSS, VmHWM; smaps_rollup: Pss). */
export interface ProcMem {
  /** Resident now. */
  readonly rss: number;
  /** The peak resident size over the process's life so far. */
  readonly hwm: number;
  /** Proportional share: pages shared with other processes (the runtime's code) count 1/n. */
  readonly pss: number | undefined;
}

export function procMem(pid: number): ProcMem {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const kib = (name: string): number => {
    const m = new RegExp(`^${name}:\\s+(\\d+) kB`, 'm').exec(status);
    if (!m) throw new Error(`/proc/${pid}/status has no ${name}`);
    return Number(m[1]);
  };
  let pss: number | undefined;
  try {
    const m = /^Pss:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
    if (m) pss = Number(m[1]);
  } catch {
    // kernels before 4.14 have no smaps_rollup
  }
  return { rss: kib('VmRSS'), hwm: kib('VmHWM'), pss };
}

/** utime+stime of the process itself, in seconds (USER_HZ is 100 on Linux's common architectures). */
export function procCpuSelf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  return (Number(f[11]) + Number(f[12])) / 100;
}

/** The direct children of a process (all of its threads'). */
export function childPids(pid: number): number[] {
  const out: number[] = [];
  let tasks: string[];
  try {
    tasks = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return out;
  }
  for (const t of tasks) out.push(Number(t));
  return out;
}

function exeOf(pid: number): string | undefined {
  try {
    return realpathSync(`/proc/${pid}/exe`);
  } catch {
    return undefined;
  }
}

/**
 * The descendant of `root` running `exe` (ssh runs a ProxyCommand as `sh -c "exec …"`,
 * so once the shell has exec'd it is ssh's child). Waits up to `ms` for it to appear.
 */
export async function findDescendant(root: number, exe: string, ms = 30_000): Promise<number> {
  const want = realpathSync(exe);
  const deadline = Date.now() + ms;
  for (;;) {
    const queue = [root];
    while (queue.length) {
      const p = queue.shift()!;
      for (const c of childPids(p)) {
        if (exeOf(c) === want) return c;
        queue.push(c);
      }
    }
    if (Date.now() > deadline) throw new Error(`no process running ${exe} under pid ${root}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * CPU time of all of a process's live threads, in nanoseconds (the first field of
 * /proc/<pid>/task/<tid>/schedstat), and their context switches (wake-ups): finer than
 * /proc/<pid>/stat's 10 ms ticks, which an idle process does not reach in a minute.
 */
export function procThreads(pid: number): { cpuNs: number; switches: number } {
  let cpuNs = 0;
  let switches = 0;
  let tids: string[];
  try {
    tids = readdirSync(`/proc/${pid}/task`);
  } catch {
    return { cpuNs: NaN, switches: NaN };
  }
  for (const tid of tids) {
    try {
      cpuNs += Number(readFileSync(`/proc/${pid}/task/${tid}/schedstat`, 'utf8').split(' ')[0]);
      const st = readFileSync(`/proc/${pid}/task/${tid}/status`, 'utf8');
      for (const m of st.matchAll(/^(?:non)?voluntary_ctxt_switches:\s+(\d+)/gm)) switches += Number(m[1]);
    } catch {
      // the thread ended meanwhile
    }
  }
  return { cpuNs, switches };
}
