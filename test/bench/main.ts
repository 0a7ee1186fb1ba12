// The benchmark behind `npm run bench` (scripts/bench.mjs builds, packages and
// compiles first, then runs this). Every figure is measured side by side with
// its baseline in the same run, several times, interleaved; the table shows the
// median with min and max, and the same goes to a JSON file.
//
//   node out/test/bench/main.js [--quick] [--size MiB] [--runs N] [--json FILE]
//       [--vsix FILE] [--only throughput,latency,startup,memory,sessions,renewal,connect,activation,hosts,sizes]
//       [--profile DIR] [--helper FILE] [--sessions N] [--idle-window S]
//
// Paths of the ssh transfers (one cipher everywhere, compression off, no
// ControlMaster, `-T`):
//   helper  ssh ─ProxyCommand─ access-ssh ssh ─wss─ sandbox edge ─tcp─ sshd
//   relay   ssh ─ProxyCommand─ socat ─tcp─ socat relay (the edge's place) ─tcp─ sshd
//   direct  ssh ─tcp─ sshd
import { validateHostname } from '../../src/ssh/validate.js';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer, connect } from 'node:net';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { gzipSync } from 'node:zlib';
import { README_START, recordRefusal, toolVersions, writeRecord } from './record';
import { findDescendant, procMem, procThreads, type ProcMem } from './proc';
import { differences, ratios, summarize, type Summary } from './stats';
import { SQUID, startSquid } from '../sandbox/squid';
import { APP, CIPHER, pathSshArgs, plainSshArgs } from './ssh';

const ROOT = resolve(__dirname, '..', '..', '..');

const EXTENSION = join(ROOT, 'dist', 'extension.js');
const SANDBOX_MAIN = join(ROOT, 'out', 'test', 'sandbox', 'main.js');
const ACTIVATE_CHILD = join(__dirname, 'activate-child.js');
const FLOOR_CLIENT = join(__dirname, 'floor-client.js');
const BROWSER_SH = join(ROOT, 'test', 'sandbox', 'browser.sh');
const MiB = 1024 * 1024;
const GiB = 1024 * MiB;

// ------------------------------------------------------------------ options

const argv = process.argv.slice(2);
const flag = (name: string): boolean => argv.includes(name);
const value = (name: string): string | undefined => {
  const i = argv.indexOf(name);
  return i >= 0 ? argv[i + 1] : undefined;
};
const quick = flag('--quick');
const sizeMiB = Number(value('--size') ?? (quick ? 64 : 256));
const runs = Number(value('--runs') ?? (quick ? 3 : 5));
const startupRuns = quick ? 7 : 15;
const roundTrips = 1000;
const jsonFile = resolve(value('--json') ?? join(ROOT, 'bench-results.json'));
const vsixFile = value('--vsix');
const only = value('--only')?.split(',');
const profileDir = value('--profile');
/** Another build of the helper (e.g. an unminified one, for readable profiles). */
const HELPER = resolve(value('--helper') ?? join(ROOT, 'dist', 'access-ssh.js'));
/** Runtime options for the helper's process, to measure a variant (e.g. `--max-semi-space-size=1`). */
const helperNodeOptions = (value('--helper-node-options') ?? '').split(' ').filter(Boolean);
const want = (name: string): boolean => !only || only.includes(name);
/** Write the table to docs/bench-latest.md and README.md (record.ts); otherwise no tracked file is touched. */
const record = flag('--record');
/** The many-sessions figure: this many ssh sessions through as many helpers, idle for this long. */
const manyN = Number(value('--sessions') ?? 20);
/** Longer than the carrier's 30 s keepalive, so that every helper pings at least once in it. */
const idleWindowMs = Number(value('--idle-window') ?? 35) * 1000;
/** How long a process is left alone before its idle memory is read. */
const SETTLE_MS = 2000;
/**
 * How long a new helper keeps doing start-up work although nothing is carried: V8's memory
 * reducer runs its collections ~8–10 s after start (with worker threads), after the compiler's
 * background tasks. The many-sessions idle window starts this long after the last session
 * opened; the seconds before it are reported on their own (docs/BENCHMARKS.md, fifth round).
 */
const STARTUP_TASKS_MS = 15_000;

function log(msg: string): void {
  process.stderr.write(`[bench] ${msg}\n`);
}

function which(name: string): string | undefined {
  for (const dir of [...(process.env['PATH'] ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

function need(name: string, pkg: string): string {
  const p = which(name);
  if (!p) throw new Error(`${name} not found: install ${pkg} (node scripts/setup.mjs e2e does)`);
  return p;
}

function plainPath(p: string): string {
  if (!/^[A-Za-z0-9_./+-]+$/.test(p)) throw new Error(`the benchmark needs paths without spaces or shell characters: ${p}`);
  return p;
}

function plainOption(o: string): string {
  if (!/^--[A-Za-z0-9_./+=-]+$/.test(o))
    throw new Error(`--helper-node-options takes --name[=value] options without spaces or shell characters: ${o}`);
  return o;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
const now = (): number => performance.now();

// ------------------------------------------------------------------ processes

interface Sandbox {
  child: ChildProcess;
  port: number;
  sshdPort: number;
  env: Record<string, string>;
}

async function startSandbox(): Promise<Sandbox> {
  const child = spawn(process.execPath, [SANDBOX_MAIN, '--json', '--cert-ttl', '86400', '--app-token-ttl', '86400'], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let buf = '';
  const line = await new Promise<string>((res, rej) => {
    child.stdout.on('data', (d: Buffer) => {
      buf += d.toString();
      const nl = buf.indexOf('\n');
      if (nl >= 0) res(buf.slice(0, nl));
    });
    child.once('exit', (code) => rej(new Error(`the sandbox exited with ${code}`)));
  });
  const info = JSON.parse(line) as { ACCESS_SSH_CONNECT_TO: string; NODE_EXTRA_CA_CERTS: string; port: number; sshdPort: number | null };
  if (!info.sshdPort) throw new Error('the sandbox started no sshd (root is needed for its jdoe user)');
  return {
    child,
    port: info.port,
    sshdPort: info.sshdPort,
    env: { ACCESS_SSH_CONNECT_TO: info.ACCESS_SSH_CONNECT_TO, NODE_EXTRA_CA_CERTS: info.NODE_EXTRA_CA_CERTS },
  };
}

function freePort(): Promise<number> {
  return new Promise((res, rej) => {
    const s = createServer();
    s.once('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => res(port));
    });
  });
}

async function waitConnectable(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const ok = await new Promise<boolean>((res) => {
      const c = connect(port, '127.0.0.1');
      c.once('connect', () => {
        c.destroy();
        res(true);
      });
      c.once('error', () => res(false));
    });
    if (ok) return;
    await sleep(50);
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

/** utime+stime (own) and cutime+cstime (waited-for children) of a process, in seconds. */
function procCpu(pid: number): { self: number; children: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields after "(comm)": state=0 … utime=11 stime=12 cutime=13 cstime=14 (man 5 proc, minus 3)
  const tick = 100;
  return { self: (Number(f[11]) + Number(f[12])) / tick, children: (Number(f[13]) + Number(f[14])) / tick };
}

/** The children line of bash's `times`: "0m1.230s 0m0.450s" → 1.68. */
function parseTimes(text: string): number | undefined {
  const lines = text.trim().split('\n');
  const m = /(\d+)m([\d.]+)s\s+(\d+)m([\d.]+)s/.exec(lines[1] ?? '');
  if (!m) return undefined;
  return Number(m[1]) * 60 + Number(m[2]) + Number(m[3]) * 60 + Number(m[4]);
}

async function readCpuFile(file: string): Promise<number | undefined> {
  for (let i = 0; i < 100; i++) {
    if (existsSync(file)) {
      const v = parseTimes(readFileSync(file, 'utf8'));
      if (v !== undefined) {
        rmSync(file, { force: true });
        return v;
      }
    }
    await sleep(50);
  }
  return undefined;
}

// ------------------------------------------------------------------ the client

interface Client {
  home: string;
  env: NodeJS.ProcessEnv;
  key: string;
}

async function makeClient(sb: Sandbox, node: string): Promise<Client> {
  const home = mkdtempSync(join(tmpdir(), 'access-ssh-bench-'));
  mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
  const env: NodeJS.ProcessEnv = { ...process.env, HOME: home, ...sb.env, BROWSER: BROWSER_SH };
  delete env['SSH_AUTH_SOCK'];
  delete env['NODE_OPTIONS'];
  const r = spawnSync(node, [HELPER, 'ssh-gen', '--hostname', APP], { env, encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`access-ssh ssh-gen (login + first certificate) failed: ${r.stderr}`);
  const key = join(home, '.cloudflared', `${APP}-cf_key`);
  if (!existsSync(`${key}-cert.pub`)) throw new Error(`no certificate at ${key}-cert.pub`);
  return { home, env, key };
}

/** The stored app token of the benchmark's client (for the floor client). */
function appTokenFile(client: Client): string {
  const dir = join(client.home, '.cloudflared');
  const f = readdirSync(dir).find((n) => n.startsWith(`${APP}-`) && n.endsWith('-token'));
  if (!f) throw new Error(`no app token for ${APP} in ${dir}`);
  return join(dir, f);
}

type PathName = 'helper' | 'relay' | 'tls' | 'direct';

interface Paths {
  sshArgs(path: PathName, cpuFile?: string): string[];
}

function makePaths(sb: Sandbox, client: Client, node: string, relayPort: number, tlsRelayPort: number): Paths {
  const prof = profileDir ? ` --cpu-prof --cpu-prof-dir=${plainPath(profileDir)}` : '';
  const helperCmd = `${plainPath(node)}${prof}${helperNodeOptions.map((o) => ` ${plainOption(o)}`).join('')} ${plainPath(HELPER)} ssh --hostname %h`;
  const socatCmd = `socat - TCP:127.0.0.1:${relayPort}`;
  // The same relay with TLS on its leg (the sandbox's own CA and certificate, verified):
  // pays the TLS the helper pays, but no websocket framing and no JavaScript.
  const tlsCmd = `socat - OPENSSL:127.0.0.1:${tlsRelayPort},cafile=${plainPath(sb.env['NODE_EXTRA_CA_CERTS'] ?? '')},commonname=${APP}`;
  // ssh ends its ProxyCommand with SIGHUP; the wrapper ignores it, waits for the
  // command to end (it does at EOF) and writes the command's CPU time (bash `times`).
  const wrap = (cmd: string, cpuFile?: string): string => (cpuFile ? `bash -c 'trap "" HUP; ${cmd}; times > ${plainPath(cpuFile)}'` : cmd);
  return {
    sshArgs(path, cpuFile) {
      switch (path) {
        case 'helper':
          return pathSshArgs(client.key, { proxyCommand: wrap(helperCmd, cpuFile) });
        case 'relay':
          return pathSshArgs(client.key, { proxyCommand: wrap(socatCmd, cpuFile) });
        case 'tls':
          return pathSshArgs(client.key, { proxyCommand: wrap(tlsCmd, cpuFile) });
        case 'direct':
          return pathSshArgs(client.key, { sshdPort: sb.sshdPort });
      }
    },
  };
}

/** Starts `ssh … '<remote>'` and resolves once the remote printed "ready". */
async function openSession(args: string[], env: NodeJS.ProcessEnv, remote: string): Promise<ChildProcess> {
  const child = spawn('ssh', [...args, `echo ready; ${remote}`], { env, stdio: ['pipe', 'pipe', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d: Buffer) => (err += d.toString()));
  await new Promise<void>((res, rej) => {
    let out = '';
    const onData = (d: Buffer): void => {
      out += d.toString();
      if (out.includes('ready\n')) {
        child.stdout.off('data', onData);
        res();
      }
    };
    child.stdout.on('data', onData);
    child.once('exit', (code) => rej(new Error(`ssh exited with ${code} before the session was ready: ${err.trim()}`)));
    setTimeout(() => rej(new Error(`ssh session not ready after 120 s: ${err.trim()}`)), 120_000).unref();
  });
  child.removeAllListeners('exit');
  return child;
}

// ------------------------------------------------------------------ throughput + CPU

interface TransferResult {
  seconds: number;
  mibPerSecond: number;
  /** CPU seconds of the ProxyCommand (helper or socat), when measured. */
  proxyCpu?: number | undefined;
  /** CPU seconds of the middle box (the sandbox edge process, or the socat relay's child). */
  middleCpu?: number;
}

async function transfer(
  paths: Paths,
  path: PathName,
  client: Client,
  bytes: number,
  middlePid: number | undefined,
  cpuFile: string,
): Promise<TransferResult> {
  const args = paths.sshArgs(path, path === 'direct' ? undefined : cpuFile);
  const child = await openSession(args, client.env, 'exec cat > /dev/null');
  const before = middlePid ? procCpu(middlePid) : undefined;
  const chunk = Buffer.alloc(MiB);
  const exited = once(child, 'exit');
  const t0 = now();
  for (let sent = 0; sent < bytes; sent += chunk.length) {
    if (!child.stdin!.write(chunk)) await once(child.stdin!, 'drain');
  }
  child.stdin!.end();
  const [code] = (await exited) as [number | null];
  const seconds = (now() - t0) / 1000;
  if (code !== 0) throw new Error(`${path}: ssh exited with ${code}`);
  const result: TransferResult = { seconds, mibPerSecond: bytes / MiB / seconds };
  if (path !== 'direct') result.proxyCpu = await readCpuFile(cpuFile);
  if (middlePid && before) {
    await sleep(200); // the relay reaps its child; the edge closes the websocket
    const after = procCpu(middlePid);
    result.middleCpu = path === 'relay' ? after.children - before.children : after.self - before.self;
  }
  return result;
}

/** CPU of the ProxyCommand for a session that carries nothing (start-up, handshake, teardown). */
async function idleSessionCpu(paths: Paths, path: PathName, client: Client, cpuFile: string): Promise<number | undefined> {
  const child = await openSession(paths.sshArgs(path, cpuFile), client.env, 'exec cat > /dev/null');
  child.stdin!.end();
  await once(child, 'exit');
  return readCpuFile(cpuFile);
}

// ------------------------------------------------------------------ latency

async function latency(paths: Paths, path: PathName, client: Client, n: number): Promise<number> {
  const child = await openSession(paths.sshArgs(path), client.env, 'exec cat');
  const msg = Buffer.alloc(64, 0x61);
  let got = 0;
  let wake: (() => void) | undefined;
  child.stdout!.on('data', (d: Buffer) => {
    got += d.length;
    if (got >= msg.length && wake) {
      const w = wake;
      wake = undefined;
      w();
    }
  });
  const roundTrip = (): Promise<void> =>
    new Promise<void>((res) => {
      got = 0;
      wake = res;
      child.stdin!.write(msg);
    });
  for (let i = 0; i < 20; i++) await roundTrip(); // warm-up
  const t0 = now();
  for (let i = 0; i < n; i++) await roundTrip();
  const ms = (now() - t0) / n;
  child.stdin!.end();
  await once(child, 'exit');
  return ms;
}

// ------------------------------------------------------------------ proxy path

/**
 * The helper through a real HTTP CONNECT proxy (squid on loopback) beside the helper
 * straight to the edge, same sandbox, same run: what a corporate proxy's extra hop
 * costs. Connect-to still names the sandbox's port: it becomes the CONNECT target.
 */
async function proxyPath(sb: Sandbox, paths: Paths, client: Client): Promise<void> {
  if (!existsSync(SQUID)) {
    log(`proxy: ${SQUID} is missing (node scripts/setup.mjs e2e installs squid); proxy rows left out`);
    return;
  }
  const squid = await startSquid({ hosts: {}, allowPorts: [sb.port] });
  try {
    const viaProxy: Client = { ...client, env: { ...client.env, HTTPS_PROXY: squid.url } };
    const bytes = sizeMiB * MiB;
    const tp: Record<'direct' | 'proxy', number[]> = { direct: [], proxy: [] };
    const rt: Record<'direct' | 'proxy', number[]> = { direct: [], proxy: [] };
    const cpuFile = join(client.home, 'proxy-path-cpu.txt');
    for (let i = 0; i < runs; i++) {
      const order: ('direct' | 'proxy')[] = i % 2 === 0 ? ['proxy', 'direct'] : ['direct', 'proxy'];
      for (const which of order) {
        const c = which === 'proxy' ? viaProxy : client;
        const r = await transfer(paths, 'helper', c, bytes, undefined, cpuFile);
        tp[which].push(r.mibPerSecond);
        const us = (await latency(paths, 'helper', c, roundTrips)) * 1000;
        rt[which].push(us);
        log(
          `proxy path run ${i + 1}/${runs} helper ${which === 'proxy' ? 'via squid' : 'direct'}: ${r.mibPerSecond.toFixed(0)} MiB/s, ${us.toFixed(0)} µs per round trip`,
        );
      }
    }
    if (!squid.accessLog().includes(`CONNECT 127.0.0.1:${sb.port}`))
      throw new Error(`proxy path: squid logged no tunnel to 127.0.0.1:${sb.port}`);
    const ratio = ratios(tp.proxy, tp.direct);
    row({
      figure: `throughput via an HTTP proxy (squid), ${sizeMiB} MiB (MiB/s)`,
      value: `helper via proxy ${span(summarize(tp.proxy))}`,
      baseline: `helper direct ${span(summarize(tp.direct))}`,
      comparison: `×${span(ratio)} of direct`,
      target: '—',
      met: undefined,
    });
    const added = differences(rt.proxy, rt.direct);
    row({
      figure: `round trip via an HTTP proxy, ${roundTrips} × 64 B (µs)`,
      value: `helper via proxy ${span(summarize(rt.proxy))}`,
      baseline: `helper direct ${span(summarize(rt.direct))}`,
      comparison: `+${span(added)} over direct (×${span(ratios(rt.proxy, rt.direct))})`,
      target: '—',
      met: undefined,
    });
    results['proxy'] = { bytes, mibPerSecond: tp, roundTripMicroseconds: rt, throughputRatio: ratio, addedRoundTrip: added };
  } finally {
    await squid.stop();
  }
}

// ------------------------------------------------------------------ memory

/** Resident memory of a process SETTLE_MS after it is ready, and again STARTUP_TASKS_MS after. */
interface Settled {
  start: ProcMem;
  settled: ProcMem;
}

/**
 * RSS at SETTLE_MS (start-up garbage not yet collected) and at STARTUP_TASKS_MS (after V8's
 * memory reducer, ~8–10 s after start): an idle session's memory is the second, which is what
 * the row compares; the first is shown beside it.
 */
async function readTwice(pid: number): Promise<Settled> {
  await sleep(SETTLE_MS);
  const start = procMem(pid);
  await sleep(STARTUP_TASKS_MS - SETTLE_MS);
  return { start, settled: procMem(pid) };
}

/** A bare runtime that stays alive: what any helper on this runtime pays before its first line. */
async function bareRuntimeMem(node: string): Promise<Settled> {
  const child = spawn(node, ['-e', 'setInterval(() => {}, 1 << 30)'], { stdio: 'ignore', env: { ...process.env, NODE_OPTIONS: '' } });
  try {
    return await readTwice(child.pid!);
  } finally {
    child.kill('SIGTERM');
    await once(child, 'exit');
  }
}

/**
 * The ProxyCommand's resident memory in one ssh session: idle (the session open, nothing
 * carried, after SETTLE_MS) and its peak while `bytes` go up through it (VmHWM, read once
 * the remote has received them all, before the session ends).
 */
async function sessionMemory(
  paths: Paths,
  path: 'helper' | 'relay',
  client: Client,
  exe: string,
  bytes: number,
): Promise<{ idle: ProcMem; idleAtStart: ProcMem; bulk: ProcMem }> {
  const child = await openSession(paths.sshArgs(path), client.env, `head -c ${bytes} > /dev/null; echo done; exec cat > /dev/null`);
  const exited = once(child, 'exit');
  try {
    const pid = await findDescendant(child.pid!, exe);
    // socat has no start-up work to wait for: one reading.
    const read =
      path === 'helper' ? await readTwice(pid) : await sleep(SETTLE_MS).then(() => ({ start: procMem(pid), settled: procMem(pid) }));
    const idle = read.settled;
    const idleAtStart = read.start;
    const done = new Promise<void>((res) => {
      let out = '';
      child.stdout!.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('done\n')) res();
      });
    });
    const chunk = Buffer.alloc(MiB);
    for (let sent = 0; sent < bytes; sent += chunk.length) {
      if (!child.stdin!.write(chunk)) await once(child.stdin!, 'drain');
    }
    await done;
    const bulk = procMem(pid);
    return { idle, idleAtStart, bulk };
  } finally {
    child.stdin!.end();
    await exited;
  }
}

/** The floor client (floor-client.ts --stay): a runtime holding one TLS connection to the edge, idle. */
async function floorMem(node: string, sb: Sandbox, client: Client): Promise<Settled> {
  const child = spawn(node, [FLOOR_CLIENT, String(sb.port), APP, appTokenFile(client), '--stay'], {
    env: client.env,
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  try {
    await new Promise<void>((res, rej) => {
      child.stdout.once('data', () => res());
      child.once('exit', (code) => rej(new Error(`floor-client exited with ${code}`)));
    });
    return await readTwice(child.pid!);
  } finally {
    child.removeAllListeners('exit');
    const exited = once(child, 'exit');
    child.stdin.end();
    await exited;
  }
}

interface ManySessions {
  /** Per ProxyCommand process: resident memory at the end of the idle window. */
  mem: ProcMem[];
  /** CPU (all threads, ns) and wake-ups of each ProxyCommand over the idle window. */
  cpuNs: number[];
  switches: number[];
  /** The same from SETTLE_MS to STARTUP_TASKS_MS after the last session opened (start-up work). */
  startCpuNs: number[];
  startSwitches: number[];
}

/**
 * `n` ssh sessions through `n` helpers and `n` through the socat relay, all open at once
 * and idle for `windowMs`: what each costs in memory and in CPU (keepalives, timers).
 * Both sets are measured over the same window.
 */
async function manySessions(
  paths: Paths,
  client: Client,
  node: string,
  socat: string,
  n: number,
  windowMs: number,
): Promise<Record<'helper' | 'relay', ManySessions> & { edgeCpuNs: number }> {
  const open: { path: 'helper' | 'relay'; child: ChildProcess; pid: number }[] = [];
  try {
    // A few at a time: sshd drops unauthenticated connections beyond MaxStartups (10).
    const wanted: ('helper' | 'relay')[] = [];
    for (let i = 0; i < n; i++) wanted.push('helper', 'relay');
    for (let i = 0; i < wanted.length; i += 4) {
      await Promise.all(
        wanted.slice(i, i + 4).map(async (path) => {
          const child = await openSession(paths.sshArgs(path), client.env, 'exec cat > /dev/null');
          const item = { path, child, pid: 0 };
          open.push(item);
          item.pid = await findDescendant(child.pid!, path === 'helper' ? node : socat);
        }),
      );
    }
    await sleep(SETTLE_MS);
    const early = open.map((o) => procThreads(o.pid));
    await sleep(STARTUP_TASKS_MS - SETTLE_MS);
    const edgePid = sandboxPid!;
    const before = open.map((o) => procThreads(o.pid));
    const edgeBefore = procThreads(edgePid);
    await sleep(windowMs);
    const after = open.map((o) => procThreads(o.pid));
    const edgeAfter = procThreads(edgePid);
    const pick = (path: 'helper' | 'relay'): ManySessions => {
      const idx = open.map((o, i) => (o.path === path ? i : -1)).filter((i) => i >= 0);
      return {
        mem: idx.map((i) => procMem(open[i]!.pid)),
        cpuNs: idx.map((i) => after[i]!.cpuNs - before[i]!.cpuNs),
        switches: idx.map((i) => after[i]!.switches - before[i]!.switches),
        startCpuNs: idx.map((i) => before[i]!.cpuNs - early[i]!.cpuNs),
        startSwitches: idx.map((i) => before[i]!.switches - early[i]!.switches),
      };
    };
    return { helper: pick('helper'), relay: pick('relay'), edgeCpuNs: edgeAfter.cpuNs - edgeBefore.cpuNs };
  } finally {
    await Promise.all(
      open.map(async (o) => {
        const exited = once(o.child, 'exit');
        o.child.stdin!.end();
        await exited;
      }),
    );
  }
}

let sandboxPid: number | undefined;

// ------------------------------------------------------------------ start-up

function timeToExit(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<number> {
  return new Promise((res, rej) => {
    const t0 = now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('exit', (code) => (code === 0 ? res(now() - t0) : rej(new Error(`${cmd} ${args.join(' ')} exited with ${code}: ${err}`))));
  });
}

/**
 * Spawn of the helper as ProxyCommand (or of another client, `args`) to the first byte it
 * forwards to stdout (sshd's banner); also the CPU time its threads had used by then.
 */
function timeToFirstByte(
  node: string,
  env: NodeJS.ProcessEnv,
  args: string[] = [HELPER, 'ssh', '--hostname', APP],
): Promise<{ ms: number; cpuMs: number }> {
  return new Promise((res, rej) => {
    const t0 = now();
    const prof = profileDir && args[0] === HELPER ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
    const child = spawn(node, [...prof, ...args], { env, stdio: ['pipe', 'pipe', 'pipe'] });
    let err = '';
    let t: { ms: number; cpuMs: number } | undefined;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.once('data', () => {
      t = { ms: now() - t0, cpuMs: procThreads(child.pid!).cpuNs / 1e6 };
      child.stdin.end();
    });
    child.once('exit', (code) =>
      t !== undefined ? res(t) : rej(new Error(`${args[0]} exited with ${code} before forwarding a byte: ${err}`)),
    );
  });
}

// ------------------------------------------------------------------ renewal

async function renewal(client: Client, n: number): Promise<{ renew: number[]; https: number[]; requests: Record<string, number> }> {
  // The compiled modules of src/access (the same code the bundle carries).
  /* eslint-disable @typescript-eslint/no-require-imports */
  const { ensureCertificate } = require('../../src/access/cert.js') as typeof import('../../src/access/cert');
  const { HttpClient } = require('../../src/access/http.js') as typeof import('../../src/access/http');
  const { TokenStore } = require('../../src/access/token-store.js') as typeof import('../../src/access/token-store');
  const { silentLogger } = require('../../src/access/types.js') as typeof import('../../src/access/types');
  /* eslint-enable @typescript-eslint/no-require-imports */
  const dir = join(client.home, '.cloudflared');
  const files = ['', '.pub', '-cert.pub'].map((s) => join(dir, `${APP}-cf_key${s}`));
  const env = client.env;
  const counters = async (): Promise<Record<string, number>> => {
    const res = await HttpClient.fromEnv(env).request({ method: 'GET', url: 'https://admin.sandbox.test/counters' });
    return JSON.parse(res.body.toString()) as Record<string, number>;
  };
  const renewOnce = async (): Promise<number> => {
    for (const f of files) rmSync(f, { force: true });
    const t0 = now();
    const http = HttpClient.fromEnv(env);
    const ctx = { http, store: new TokenStore(dir), log: silentLogger };
    const r = await ensureCertificate(ctx, validateHostname(APP), { marginSeconds: 60, login: { interactive: false }, dir });
    const ms = now() - t0;
    if (!r.renewed) throw new Error('the certificate was not renewed');
    return ms;
  };
  const httpsOnce = async (): Promise<number> => {
    const t0 = now();
    const http = HttpClient.fromEnv(env);
    const res = await http.request({ method: 'GET', url: 'https://admin.sandbox.test/health' });
    const ms = now() - t0;
    if (res.status !== 200) throw new Error(`GET /health: ${res.status}`);
    return ms;
  };
  await renewOnce(); // loads the modules, warms the sandbox
  await httpsOnce();
  const c0 = await counters();
  const renew: number[] = [];
  const https: number[] = [];
  for (let i = 0; i < n; i++) {
    https.push(await httpsOnce());
    renew.push(await renewOnce());
  }
  const c1 = await counters();
  const requests: Record<string, number> = {};
  for (const k of ['metadata', 'jwks', 'certSigns', 'exchanges', 'approvals']) requests[k] = ((c1[k] ?? 0) - (c0[k] ?? 0)) / n;
  return { renew, https, requests };
}

// ------------------------------------------------------------------ extension

/**
 * One activation in a new process (`activate-child.js`). `again`: a second one in the same
 * profile, each in its own process: the first activation on a machine writes the helper
 * launcher (a staged file, fsync of file and directory); every later one finds it current
 * and writes nothing. Both are reported; the target is on the ordinary one.
 */
function activationChild(node: string, hosts: number, again = false): Record<string, number> {
  const home = mkdtempSync(join(tmpdir(), 'access-ssh-bench-ext-'));
  const once = (): Record<string, number> => {
    const r = spawnSync(node, [ACTIVATE_CHILD, EXTENSION, '--hosts', String(hosts)], {
      env: { ...process.env, HOME: home, NODE_OPTIONS: '' },
      encoding: 'utf8',
      timeout: 60_000,
    });
    if (r.status !== 0) throw new Error(`activate-child failed: ${r.stderr}`);
    return JSON.parse(r.stdout.trim().split('\n').pop()!) as Record<string, number>;
  };
  try {
    const first = once();
    if (!again) return first;
    const next = once();
    return { ...next, firstTotalMs: first['totalMs']!, firstRequireMs: first['requireMs']!, firstActivateMs: first['activateMs']! };
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------------ report

interface Row {
  figure: string;
  value: string;
  baseline: string;
  comparison: string;
  target: string;
  met: boolean | undefined;
}

const rows: Row[] = [];
const results: Record<string, unknown> = {};

const f1 = (x: number): string => (Math.abs(x) >= 100 ? x.toFixed(0) : Math.abs(x) >= 10 ? x.toFixed(1) : x.toFixed(2));
const span = (s: Summary, unit = ''): string => `${f1(s.median)}${unit} [${f1(s.min)}–${f1(s.max)}]`;
const mb = (kib: number): string => (kib / 1024).toFixed(1);

function row(r: Row): void {
  rows.push(r);
  log(`${r.figure}: ${r.value} | ${r.baseline} | ${r.comparison} | ${r.met === undefined ? '' : r.met ? 'met' : 'MISSED'}`);
}

function printTable(): void {
  const header = ['figure', 'measured (median [min–max])', 'compared with, same run', 'ratio / difference', 'target', ''];
  const body = rows.map((r) => [
    r.figure,
    r.value,
    r.baseline,
    r.comparison,
    r.target,
    r.met === undefined ? '' : r.met ? 'met' : 'MISSED',
  ]);
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => b[i]!.length)));
  const line = (cells: string[]): string => `| ${cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ')} |`;
  process.stdout.write(`\n${line(header)}\n|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|\n${body.map(line).join('\n')}\n`);
}

// ------------------------------------------------------------------ connect / reconnect through the entries

/**
 * Connect and reconnect the way Remote-SSH does (`ssh -T … <alias> bash`, a command on
 * stdin), through the entries the product writes (`access-ssh config add`: Match exec
 * ssh-gen, then the ProxyCommand carrier), timed from ssh's start to the remote shell's
 * first answer; beside plain ssh to the same sshd with the same certificate. "Reconnect"
 * is a connection whose certificate must be renewed first (ACCESS_SSH_RENEW_MARGIN above
 * the certificate's life makes every ssh-gen renew: new key, cert_sign), as after a
 * certificate expired while Remote-SSH was disconnected.
 */
async function connectThroughEntries(
  sb: Sandbox,
  client: Client,
  node: string,
  n: number,
): Promise<{ entries: number[]; renewing: number[]; plain: number[] }> {
  const config = join(client.home, '.ssh', 'bench-entries-config');
  writeFileSync(config, 'Host *\n  StrictHostKeyChecking no\n  UserKnownHostsFile /dev/null\n  LogLevel ERROR\n', { mode: 0o600 });
  const add = spawnSync(node, [HELPER, 'config', 'add', '--hostname', APP, '--config', config, '--user', 'jdoe', '--no-check'], {
    env: client.env,
    encoding: 'utf8',
  });
  if (add.status !== 0) throw new Error(`access-ssh config add failed: ${add.stderr}`);
  const firstAnswer = (args: string[], env: NodeJS.ProcessEnv): Promise<number> =>
    new Promise((res, rej) => {
      const t0 = process.hrtime.bigint();
      const child = spawn('ssh', args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stderr.on('data', (d: Buffer) => (err += d.toString()));
      child.stdout.on('data', (d: Buffer) => {
        out += d.toString();
        if (out.includes('ready')) {
          const ms = Number(process.hrtime.bigint() - t0) / 1e6;
          child.stdin.end();
          child.once('exit', () => res(ms));
        }
      });
      child.once('exit', (code) => {
        if (!out.includes('ready')) rej(new Error(`ssh exited with ${code} before the shell answered: ${err.trim()}`));
      });
      child.stdin.write('echo ready\n');
    });
  const entriesArgs = ['-T', '-o', 'ConnectTimeout=15', '-F', config, `cfpipe-${APP}`, 'bash'];
  const plainArgs = plainSshArgs(client.key, sb.sshdPort);
  const renewEnv = { ...client.env, ACCESS_SSH_RENEW_MARGIN: String(10 * 86400) };
  await firstAnswer(entriesArgs, client.env); // warm
  const entries: number[] = [];
  const renewing: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < n; i++) {
    plain.push(await firstAnswer(plainArgs, client.env));
    entries.push(await firstAnswer(entriesArgs, client.env));
    renewing.push(await firstAnswer(entriesArgs, renewEnv));
  }
  return { entries, renewing, plain };
}

// ------------------------------------------------------------------ main

async function main(): Promise<void> {
  const node = process.execPath;
  for (const f of [HELPER, EXTENSION, SANDBOX_MAIN, ACTIVATE_CHILD])
    if (!existsSync(f)) throw new Error(`${f} is missing: build (node scripts/build.mjs) and compile (tsc -p .) first`);
  if (record) {
    const why = recordRefusal(argv);
    if (why) throw new Error(why);
    if (!readFileSync(join(ROOT, 'README.md'), 'utf8').includes(README_START))
      throw new Error('--record: README.md has no bench-latest block');
  }
  const startedAt = new Date().toISOString();
  const loadStart = loadavg()[0]!;
  const loadSamples: number[] = [loadStart];
  const loadTimer = setInterval(() => loadSamples.push(loadavg()[0]!), 5000);
  loadTimer.unref();
  results['machine'] = { cpus: cpus().length, model: cpus()[0]?.model, loadavgAtStart: loadavg(), node: process.version, date: startedAt };
  results['settings'] = { sizeMiB, runs, startupRuns, roundTrips, cipher: CIPHER, quick };
  log(
    `load average ${loadavg()
      .map((x) => x.toFixed(1))
      .join(' ')} on ${cpus().length} CPUs; ${sizeMiB} MiB × ${runs} runs, cipher ${CIPHER}`,
  );

  const needSandbox = ['throughput', 'latency', 'proxy', 'startup', 'memory', 'sessions', 'renewal', 'connect'].some(want);
  let sb: Sandbox | undefined;
  let relay: ChildProcess | undefined;
  let tlsRelay: ChildProcess | undefined;
  try {
    if (needSandbox) {
      need('ssh', 'openssh-client');
      need('sshd', 'openssh-server');
      need('socat', 'socat');
      need('bash', 'bash');
      sb = await startSandbox();
      log(`sandbox edge on 127.0.0.1:${sb.port} (pid ${sb.child.pid}), sshd on 127.0.0.1:${sb.sshdPort}`);
      sandboxPid = sb.child.pid;
      const client = await makeClient(sb, node);
      const relayPort = await freePort();
      relay = spawn('socat', [`TCP-LISTEN:${relayPort},bind=127.0.0.1,fork,reuseaddr`, `TCP:127.0.0.1:${sb.sshdPort}`], {
        stdio: 'ignore',
      });
      await waitConnectable(relayPort);
      // The TLS relay: socat with the sandbox edge's certificate (beside its CA file).
      const pki = dirname(sb.env['NODE_EXTRA_CA_CERTS'] ?? '');
      const tlsRelayPort = await freePort();
      tlsRelay = spawn(
        'socat',
        [
          `OPENSSL-LISTEN:${tlsRelayPort},bind=127.0.0.1,fork,reuseaddr,cert=${join(pki, 'leaf.pem')},key=${join(pki, 'leaf-key.pem')},verify=0`,
          `TCP:127.0.0.1:${sb.sshdPort}`,
        ],
        { stdio: 'ignore' },
      );
      await waitConnectable(tlsRelayPort);
      const paths = makePaths(sb, client, node, relayPort, tlsRelayPort);
      const cpuFile = join(client.home, 'proxy-cpu.txt');
      const order: PathName[] = ['helper', 'relay', 'direct'];
      const rotate = (i: number): PathName[] => order.map((_, k) => order[(k + i) % order.length]!);

      if (want('throughput')) {
        const bytes = sizeMiB * MiB;
        const t: Record<PathName, TransferResult[]> = { helper: [], relay: [], tls: [], direct: [] };
        const idle: Record<'helper' | 'relay', number[]> = { helper: [], relay: [] };
        const withTls: PathName[] = ['helper', 'relay', 'tls', 'direct'];
        for (let i = 0; i < runs; i++) {
          for (const p of withTls.map((_, k) => withTls[(k + i) % withTls.length]!)) {
            const middle = p === 'helper' ? sb.child.pid : p === 'relay' ? relay.pid : p === 'tls' ? tlsRelay.pid : undefined;
            const r = await transfer(paths, p, client, bytes, middle, cpuFile);
            t[p].push(r);
            log(
              `throughput run ${i + 1}/${runs} ${p}: ${r.mibPerSecond.toFixed(0)} MiB/s${r.proxyCpu !== undefined ? `, proxy CPU ${r.proxyCpu.toFixed(2)} s` : ''}${r.middleCpu !== undefined ? `, middle CPU ${r.middleCpu.toFixed(2)} s` : ''}`,
            );
          }
          for (const p of ['helper', 'relay'] as const) {
            const c = await idleSessionCpu(paths, p, client, cpuFile);
            if (c !== undefined) idle[p].push(c);
          }
        }
        const mbps = (p: PathName): number[] => t[p].map((r) => r.mibPerSecond);
        const h = summarize(mbps('helper'));
        const rl = summarize(mbps('relay'));
        const d = summarize(mbps('direct'));
        const toRelay = ratios(mbps('helper'), mbps('relay'));
        const toDirect = ratios(mbps('helper'), mbps('direct'));
        const toTls = ratios(mbps('helper'), mbps('tls'));
        row({
          figure: `throughput, ${sizeMiB} MiB (MiB/s)`,
          value: `helper ${span(h)}`,
          baseline: `relay ${span(rl)}; TLS relay ${span(summarize(mbps('tls')))}; direct ${span(d)}`,
          comparison: `×${span(toRelay)} of relay; ×${span(toTls)} of the TLS relay; ×${span(toDirect)} of direct`,
          target: '≥ 0.90× relay',
          met: toRelay.median >= 0.9,
        });
        // CPU per GiB carried, net of a session that carries nothing.
        const perGiB = (p: 'helper' | 'relay'): number[] => {
          const idleMedian = summarize(idle[p]).median || 0;
          return t[p].map((r) => ((r.proxyCpu ?? NaN) - idleMedian) / (bytes / GiB));
        };
        const ch = summarize(perGiB('helper'));
        const cr = summarize(perGiB('relay'));
        const cpuRatio = ratios(perGiB('helper'), perGiB('relay'));
        row({
          figure: 'ProxyCommand CPU per GiB (s)',
          value: `helper ${span(ch)}`,
          baseline: `socat ${span(cr)}`,
          comparison: `×${span(cpuRatio)}`,
          target: '≤ 2×',
          met: cpuRatio.median <= 2,
        });
        const middle = (p: 'helper' | 'relay'): number[] => t[p].map((r) => (r.middleCpu ?? NaN) / (bytes / GiB));
        row({
          figure: 'edge CPU per GiB (s), for information',
          value: `sandbox edge ${span(summarize(middle('helper')))}`,
          baseline: `socat relay ${span(summarize(middle('relay')))}`,
          comparison: `×${span(ratios(middle('helper'), middle('relay')))}`,
          target: '—',
          met: undefined,
        });
        row({
          figure: 'ProxyCommand CPU of an empty session (s)',
          value: `helper ${span(summarize(idle.helper))}`,
          baseline: `socat ${span(summarize(idle.relay))}`,
          comparison: '',
          target: '—',
          met: undefined,
        });
        results['throughput'] = {
          bytes,
          runs: t,
          idleSessionCpu: idle,
          helper: h,
          relay: rl,
          direct: d,
          ratioToRelay: toRelay,
          ratioToTlsRelay: toTls,
          ratioToDirect: toDirect,
          cpuPerGiB: { helper: ch, relay: cr, ratio: cpuRatio },
        };
      }

      if (want('latency')) {
        const l: Record<PathName, number[]> = { helper: [], relay: [], tls: [], direct: [] };
        for (let i = 0; i < runs; i++) {
          for (const p of rotate(i)) {
            const ms = await latency(paths, p, client, roundTrips);
            l[p].push(ms);
            log(`latency run ${i + 1}/${runs} ${p}: ${(ms * 1000).toFixed(0)} µs per round trip`);
          }
        }
        const us = (p: PathName): number[] => l[p].map((x) => x * 1000);
        const added = differences(us('helper'), us('relay'));
        row({
          figure: `round trip, ${roundTrips} × 64 B (µs)`,
          value: `helper ${span(summarize(us('helper')))}`,
          baseline: `relay ${span(summarize(us('relay')))}; direct ${span(summarize(us('direct')))}`,
          comparison: `+${span(added)} over relay; +${span(differences(us('helper'), us('direct')))} over direct`,
          target: '≤ +300 µs over relay',
          met: added.median <= 300,
        });
        results['latency'] = {
          roundTrips,
          microseconds: { helper: us('helper'), relay: us('relay'), direct: us('direct') },
          addedOverRelay: added,
        };
      }

      if (want('proxy')) await proxyPath(sb, paths, client);

      if (want('startup')) {
        const first: number[] = [];
        const firstCpu: number[] = [];
        const floor: number[] = [];
        const floorCpu: number[] = [];
        const gen: number[] = [];
        const ver: number[] = [];
        const bare: number[] = [];
        const envNoOpts = { ...client.env };
        const floorArgs = [FLOOR_CLIENT, String(sb.port), APP, appTokenFile(client)];
        // A runtime that writes a byte at once and ends with its stdin: the CPU of a bare start.
        const bareArgs = ['-e', 'process.stdout.write("x"); process.stdin.resume()'];
        const bareCpu: number[] = [];
        await timeToFirstByte(node, envNoOpts); // warm the page cache
        await timeToFirstByte(node, envNoOpts, floorArgs);
        for (let i = 0; i < startupRuns; i++) {
          bare.push(await timeToExit(node, ['-e', ''], envNoOpts));
          const h = await timeToFirstByte(node, envNoOpts);
          first.push(h.ms);
          firstCpu.push(h.cpuMs);
          const f = await timeToFirstByte(node, envNoOpts, floorArgs);
          floor.push(f.ms);
          floorCpu.push(f.cpuMs);
          gen.push(await timeToExit(node, [HELPER, 'ssh-gen', '--hostname', APP], envNoOpts));
          ver.push(await timeToExit(node, [HELPER, '--version'], envNoOpts));
          bareCpu.push((await timeToFirstByte(node, envNoOpts, bareArgs)).cpuMs);
        }
        const fb = ratios(first, bare);
        const ff = ratios(first, floor);
        const sg = ratios(gen, bare);
        row({
          figure: 'helper start → first byte forwarded (ms)',
          value: span(summarize(first)),
          baseline: `node -e '' ${span(summarize(bare))}; TLS + upgrade floor ${span(summarize(floor))}`,
          comparison: `×${span(fb)} of node -e ''; ×${span(ff)} of the floor (the floor: ×${span(ratios(floor, bare))} of node -e '')`,
          target: "≤ 2× node -e ''",
          met: fb.median <= 2,
        });
        row({
          figure: 'CPU to the first byte (ms), for information',
          value: `helper ${span(summarize(firstCpu))}`,
          baseline: `TLS + upgrade floor ${span(summarize(floorCpu))}; bare runtime ${span(summarize(bareCpu))}`,
          comparison: `+${span(differences(firstCpu, floorCpu))} over the floor; ×${span(ratios(firstCpu, bareCpu))} of the bare runtime`,
          target: '—',
          met: undefined,
        });
        row({
          figure: 'ssh-gen, valid cached certificate (ms)',
          value: span(summarize(gen)),
          baseline: `node -e '' ${span(summarize(bare))}`,
          comparison: `×${span(sg)}`,
          target: '≤ 1.5×',
          met: sg.median <= 1.5,
        });
        row({
          figure: 'helper --version (ms), for information',
          value: span(summarize(ver)),
          baseline: `node -e '' ${span(summarize(bare))}`,
          comparison: `×${span(ratios(ver, bare))}`,
          target: '—',
          met: undefined,
        });
        results['startup'] = {
          firstByteMs: first,
          firstByteCpuMs: firstCpu,
          floorMs: floor,
          floorCpuMs: floorCpu,
          bareCpuMs: bareCpu,
          sshGenCachedMs: gen,
          versionMs: ver,
          nodeEmptyMs: bare,
          firstByteRatio: fb,
          firstByteToFloor: ff,
          sshGenRatio: sg,
        };
      }

      if (want('memory')) {
        // The helper's resident memory in a session, idle and at its peak under a bulk
        // upload, beside a bare runtime started just before (and the socat relay's, for scale).
        const socat = need('socat', 'socat');
        const bytes = sizeMiB * MiB;
        const bare: Settled[] = [];
        const floorIdle: Settled[] = [];
        const helper: { idle: ProcMem; idleAtStart: ProcMem; bulk: ProcMem }[] = [];
        const relayMem: { idle: ProcMem; bulk: ProcMem }[] = [];
        for (let i = 0; i < runs; i++) {
          bare.push(await bareRuntimeMem(node));
          floorIdle.push(await floorMem(node, sb, client));
          helper.push(await sessionMemory(paths, 'helper', client, node, bytes));
          relayMem.push(await sessionMemory(paths, 'relay', client, socat, bytes));
          const h = helper[i]!;
          log(
            `memory run ${i + 1}/${runs}: bare runtime ${mb(bare[i]!.settled.rss)} MB (at ${SETTLE_MS / 1000} s ${mb(bare[i]!.start.rss)}); TLS floor ${mb(floorIdle[i]!.settled.rss)} MB (${mb(floorIdle[i]!.start.rss)}); helper idle ${mb(h.idle.rss)} MB (${mb(h.idleAtStart.rss)}), peak under ${sizeMiB} MiB ${mb(h.bulk.hwm)} MB; socat idle ${mb(relayMem[i]!.idle.rss)} MB, peak ${mb(relayMem[i]!.bulk.hwm)} MB`,
          );
        }
        const bareRss = bare.map((m) => m.settled.rss / 1024);
        const idleRss = helper.map((m) => m.idle.rss / 1024);
        const peak = helper.map((m) => m.bulk.hwm / 1024);
        const floorRss = floorIdle.map((m) => m.settled.rss / 1024);
        const idleRatio = ratios(idleRss, bareRss);
        const startRatio = ratios(
          helper.map((m) => m.idleAtStart.rss / 1024),
          bare.map((m) => m.start.rss / 1024),
        );
        const added = differences(peak, idleRss);
        row({
          figure: `helper memory, idle session (RSS, MB, ${STARTUP_TASKS_MS / 1000} s after start)`,
          value: `helper ${span(summarize(idleRss))}`,
          baseline: `bare runtime ${span(summarize(bareRss))}; runtime + one TLS connection to the edge (floor) ${span(summarize(floorRss))}; socat ${span(summarize(relayMem.map((m) => m.idle.rss / 1024)))}`,
          comparison: `×${span(idleRatio)} of the bare runtime; ×${span(ratios(idleRss, floorRss))} of the floor (the floor: ×${span(ratios(floorRss, bareRss))} of bare); at ${SETTLE_MS / 1000} s: helper ${span(summarize(helper.map((m) => m.idleAtStart.rss / 1024)))}, ×${span(startRatio)} of bare`,
          target: '≤ 1.2× bare',
          met: idleRatio.median <= 1.2,
        });
        row({
          figure: `helper memory, peak under ${sizeMiB} MiB up (RSS, MB)`,
          value: `helper ${span(summarize(peak))}`,
          baseline: `the same helper idle ${span(summarize(idleRss))}; socat ${span(summarize(relayMem.map((m) => m.bulk.hwm / 1024)))}`,
          comparison: `+${span(added)} over idle`,
          target: '≤ idle + 16 MB',
          met: added.median <= 16,
        });
        results['memory'] = {
          unit: 'KiB',
          bare,
          tlsFloor: floorIdle,
          helper,
          relay: relayMem,
          idleRatio,
          idleRatioAtStart: startRatio,
          addedUnderBulkMB: added,
        };
      }

      if (want('sessions')) {
        const socat = need('socat', 'socat');
        const bare = (await bareRuntimeMem(node)).settled;
        log(
          `${manyN} sessions through ${manyN} helpers and ${manyN} through socat, idle for ${idleWindowMs / 1000} s from ${STARTUP_TASKS_MS / 1000} s after the last opened`,
        );
        const m = await manySessions(paths, client, node, socat, manyN, idleWindowMs);
        const sum = (xs: number[]): number => xs.reduce((a, b) => a + b, 0);
        const totalRss = (s: ManySessions): number => sum(s.mem.map((x) => x.rss)) / 1024;
        const totalPss = (s: ManySessions): number => sum(s.mem.map((x) => x.pss ?? NaN)) / 1024;
        const perMinute = (ns: number): number => (ns / 1e6) * (60_000 / idleWindowMs);
        const hCpu = perMinute(sum(m.helper.cpuNs));
        const rCpu = perMinute(sum(m.relay.cpuNs));
        const wake = (s: ManySessions): number => sum(s.switches) / (idleWindowMs / 1000);
        const startS = (STARTUP_TASKS_MS - SETTLE_MS) / 1000;
        const startWake = sum(m.helper.startSwitches) / startS;
        const startCpu = (sum(m.helper.startCpuNs) / 1e6) * (60 / startS);
        const bareTotal = (manyN * bare.rss) / 1024;
        row({
          figure: `${manyN} idle sessions at once: memory of all helpers (MB)`,
          value: `RSS ${f1(totalRss(m.helper))}; PSS ${f1(totalPss(m.helper))}`,
          baseline: `${manyN} × bare runtime RSS ${f1(bareTotal)}; ${manyN} socat RSS ${f1(totalRss(m.relay))}`,
          comparison: `RSS ×${f1(totalRss(m.helper) / bareTotal)} of ${manyN} bare runtimes; ${f1(totalRss(m.helper) / manyN)} MB per session (PSS ${f1(totalPss(m.helper) / manyN)})`,
          target: '≤ 1.2× bare',
          met: totalRss(m.helper) / bareTotal <= 1.2,
        });
        row({
          figure: `${manyN} idle sessions at once: CPU of all helpers (ms per minute)`,
          value: `helpers ${f1(hCpu)} (${f1(wake(m.helper))} wake-ups/s)`,
          baseline: `${manyN} socat ${f1(rCpu)} (${f1(wake(m.relay))} wake-ups/s)`,
          comparison: `${f1(hCpu / manyN)} ms per helper per minute; sandbox edge ${f1(perMinute(m.edgeCpuNs))}; before the window, ${SETTLE_MS / 1000}–${STARTUP_TASKS_MS / 1000} s after the last opened (start-up work): ${f1(startCpu)} ms per minute, ${f1(startWake)} wake-ups/s`,
          target: '—',
          met: undefined,
        });
        results['sessions'] = {
          n: manyN,
          idleWindowMs,
          bareRuntimeKiB: bare,
          helper: m.helper,
          relay: m.relay,
          edgeCpuNs: m.edgeCpuNs,
          cpuMsPerMinute: { helpers: hCpu, socat: rCpu },
          startupWindowMs: STARTUP_TASKS_MS - SETTLE_MS,
          startupCpuMsPerMinute: startCpu,
          startupWakeUpsPerSecond: startWake,
        };
      }

      if (want('renewal')) {
        const n = quick ? 7 : 15;
        const r = await renewal(client, n);
        const diff = differences(r.renew, r.https);
        row({
          figure: 'full renewal: discovery, key, cert_sign, files (ms)',
          value: span(summarize(r.renew)),
          baseline: `one HTTPS round trip, new connection ${span(summarize(r.https))}`,
          comparison: `+${span(diff)}`,
          target: '≤ +10 ms',
          met: diff.median <= 10,
        });
        results['renewal'] = { renewMs: r.renew, httpsMs: r.https, addedMs: diff, requestsPerRenewal: r.requests };
        log(`requests per renewal: ${JSON.stringify(r.requests)}`);
      }
      if (want('connect')) {
        const c = await connectThroughEntries(sb, client, node, startupRuns);
        const added = differences(c.entries, c.plain);
        row({
          figure: "connect through the entries: ssh start → remote shell's first answer (ms)",
          value: `entries ${span(summarize(c.entries))}`,
          baseline: `plain ssh to the same sshd ${span(summarize(c.plain))}`,
          comparison: `+${span(added)}; ×${span(ratios(c.entries, c.plain))}`,
          target: '—',
          met: undefined,
        });
        const addedRenew = differences(c.renewing, c.plain);
        row({
          figure: 'reconnect with a certificate to renew, through the entries (ms)',
          value: `entries ${span(summarize(c.renewing))}`,
          baseline: `plain ssh to the same sshd ${span(summarize(c.plain))}`,
          comparison: `+${span(addedRenew)}; ×${span(ratios(c.renewing, c.plain))}`,
          target: '—',
          met: undefined,
        });
        results['connect'] = {
          runs: startupRuns,
          entriesMs: c.entries,
          renewingMs: c.renewing,
          plainMs: c.plain,
          addedMs: added,
          addedRenewingMs: addedRenew,
        };
      }
      rmSync(client.home, { recursive: true, force: true });
    }

    if (want('activation') || want('hosts')) {
      const n = quick ? 5 : 9;
      const act: Record<string, number>[] = [];
      const hosts: Record<string, number>[] = [];
      for (let i = 0; i < n; i++) {
        if (want('activation')) act.push(activationChild(node, 0, true));
        if (want('hosts')) hosts.push(activationChild(node, 1000));
      }
      if (act.length) {
        const total = summarize(act.map((a) => a['totalMs']!));
        const req = summarize(act.map((a) => a['requireMs']!));
        const acto = summarize(act.map((a) => a['activateMs']!));
        const first = summarize(act.map((a) => a['firstTotalMs']!));
        const firstAct = summarize(act.map((a) => a['firstActivateMs']!));
        row({
          figure: 'extension activation, Node + vscode shim (ms)',
          value: `load + activate() ${span(total)}`,
          baseline: `the first activation in a new profile (writes the launcher) ${span(first)}`,
          comparison: `load ${span(req)}, activate() ${span(acto)}; first: activate() ${span(firstAct)}`,
          target: '≤ 30 ms',
          met: total.median <= 30,
        });
        results['activation'] = { runs: act, total, require: req, activate: acto, firstActivation: first };
      }
      if (hosts.length) {
        const view = summarize(hosts.map((a) => a['viewMs']!));
        const cfg = summarize(hosts.map((a) => a['sshConfigMs']!));
        const tot = summarize(hosts.map((a) => a['hostsTotalMs']!));
        row({
          figure: '1,000 hosts: view items + ssh config written (ms)',
          value: span(tot),
          baseline: '—',
          comparison: `view ${span(view)}, ssh config ${span(cfg)}`,
          target: '≤ 100 ms',
          met: tot.median <= 100,
        });
        results['hosts1000'] = { runs: hosts, total: tot, view, sshConfig: cfg };
      }
    }

    if (want('sizes')) {
      const helperSize = statSync(HELPER).size;
      const extSize = statSync(EXTENSION).size;
      const gz = (f: string): number => gzipSync(readFileSync(f), { level: 9 }).length;
      const vsix = vsixFile && existsSync(vsixFile) ? statSync(vsixFile).size : undefined;
      const kb = (b: number): string => `${(b / 1024).toFixed(0)} KB`;
      row({
        figure: '.vsix size',
        value: vsix === undefined ? 'not packaged' : kb(vsix),
        baseline: '—',
        comparison: '',
        target: '≤ 500 KB',
        met: vsix === undefined ? undefined : vsix <= 500 * 1024,
      });
      row({
        figure: 'bundles: helper, extension',
        value: `${kb(helperSize)}, ${kb(extSize)}`,
        baseline: '—',
        comparison: `gzip ${kb(gz(HELPER))}, ${kb(gz(EXTENSION))}`,
        target: '—',
        met: undefined,
      });
      results['sizes'] = { vsix, helper: helperSize, extension: extSize, helperGzip: gz(HELPER), extensionGzip: gz(EXTENSION) };
    }
  } finally {
    relay?.kill('SIGTERM');
    tlsRelay?.kill('SIGTERM');
    if (sb) {
      sb.child.kill('SIGTERM');
      await Promise.race([once(sb.child, 'exit'), sleep(5000)]);
    }
  }
  clearInterval(loadTimer);
  loadSamples.push(loadavg()[0]!);
  const load = { start: loadStart, ...summarize(loadSamples) };
  results['machine'] = { ...(results['machine'] as object), loadavgAtEnd: loadavg(), load1mSamples: loadSamples };
  results['table'] = rows;
  printTable();
  log(
    `load average (1 min): ${load.start.toFixed(1)} at the start, ${load.min.toFixed(1)}–${load.max.toFixed(1)} (median ${load.median.toFixed(1)}) during the run`,
  );
  writeFileSync(jsonFile, JSON.stringify(results, null, 2) + '\n');
  log(`wrote ${jsonFile}`);
  if (record) {
    const v = toolVersions();
    const files = writeRecord(ROOT, rows, {
      date: startedAt,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model.trim() ?? 'unknown CPU',
      node: process.version,
      ssh: v.ssh,
      socat: v.socat,
      load,
      settings: `${sizeMiB} MiB × ${runs} runs${quick ? ' (--quick)' : ''}, start-up ${startupRuns} runs, cipher ${CIPHER}, ${manyN} sessions idle ${idleWindowMs / 1000} s from ${STARTUP_TASKS_MS / 1000} s after opening`,
      command: `npm run bench -- ${argv.filter((a) => a !== '--vsix' && !a.endsWith('.vsix')).join(' ')}`.trim(),
    });
    log(`recorded the table in ${files.join(' and ')}`);
  }
  if (profileDir) log(`profiles in ${profileDir}`);
}

main().catch((err: Error) => {
  process.stderr.write(`[bench] failed: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
