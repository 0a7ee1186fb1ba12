// A real corporate proxy for the sandbox: Debian's squid on a free loopback port,
// started by the tests themselves. It resolves the Access names from its own hosts
// file (as a corporate proxy resolves names the client machine cannot), demands
// Basic credentials (squid's basic_ncsa_auth helper with an MD5-crypt password
// file), allows CONNECT to port 443 only, and denies the hosts in `deny`.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export const SQUID = '/usr/sbin/squid';
const NCSA = '/usr/lib/squid/basic_ncsa_auth';

export interface SquidOptions {
  /** Name -> IPv4 address, squid's hosts_file. */
  hosts: Record<string, string>;
  /** Basic credentials the proxy demands; none: no authentication. */
  auth?: { user: string; password: string };
  /** Host names whose CONNECT squid denies (403). */
  deny?: string[];
  /** Ports CONNECT may reach besides 443 (the bench's sandbox on a free port). */
  allowPorts?: number[];
}

export interface Squid {
  readonly port: number;
  readonly dir: string;
  /** `http://127.0.0.1:<port>` (no credentials). */
  readonly url: string;
  /** squid's access log so far (one line per request: CONNECT target, status, user). */
  accessLog(): string;
  /** squid's cache.log (its own messages). */
  cacheLog(): string;
  /** Stops squid and removes its directory. */
  stop(): Promise<void>;
}

export function squidMissing(): string | undefined {
  if (!existsSync(SQUID) || !existsSync(NCSA)) return `${SQUID} is missing: node scripts/setup.mjs e2e installs Debian's squid`;
  return undefined;
}

async function freePort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as AddressInfo).port;
  await new Promise<void>((r) => s.close(() => r()));
  return port;
}

function md5Crypt(password: string): string {
  const r = spawnSync('openssl', ['passwd', '-1', '-stdin'], { input: `${password}\n`, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`openssl passwd failed: ${r.stderr}`);
  return r.stdout.trim();
}

export async function startSquid(opts: SquidOptions): Promise<Squid> {
  const dir = mkdtempSync(join(tmpdir(), 'access-ssh-squid-'));
  const hostsFile = join(dir, 'hosts');
  const byAddress = new Map<string, string[]>();
  for (const [name, ip] of Object.entries(opts.hosts)) byAddress.set(ip, [...(byAddress.get(ip) ?? []), name]);
  writeFileSync(hostsFile, [...byAddress].map(([ip, names]) => `${ip} ${names.join(' ')}\n`).join(''));
  const lines = [
    `pid_filename ${join(dir, 'squid.pid')}`,
    `access_log stdio:${join(dir, 'access.log')} squid`,
    `cache_log ${join(dir, 'cache.log')}`,
    'cache_store_log none',
    `coredump_dir ${dir}`,
    'cache deny all',
    `hosts_file ${hostsFile}`,
    // Names not in the hosts file fail fast: no DNS server on loopback port 53.
    'dns_nameservers 127.0.0.1',
    'dns_timeout 2 seconds',
    'shutdown_lifetime 0 seconds',
    'visible_hostname access-ssh-sandbox-proxy',
    `acl SSL_ports port 443${(opts.allowPorts ?? []).map((p) => ` ${p}`).join('')}`,
    'acl CONNECT method CONNECT',
    'http_access deny !CONNECT',
    'http_access deny CONNECT !SSL_ports',
  ];
  if (opts.deny && opts.deny.length > 0) lines.push(`acl denied dstdomain ${opts.deny.join(' ')}`, 'http_access deny denied');
  if (opts.auth) {
    writeFileSync(join(dir, 'passwd'), `${opts.auth.user}:${md5Crypt(opts.auth.password)}\n`, { mode: 0o640 });
    lines.push(
      `auth_param basic program ${NCSA} ${join(dir, 'passwd')}`,
      'auth_param basic realm access-ssh sandbox proxy',
      'auth_param basic children 2 startup=1 idle=1',
      'acl authed proxy_auth REQUIRED',
      'http_access allow authed',
    );
  } else {
    lines.push('http_access allow all');
  }
  lines.push('http_access deny all');

  // As root squid drops to the `proxy` user, which must be able to write here.
  if (process.getuid?.() === 0) {
    const r = spawnSync('id', ['-u', 'proxy'], { encoding: 'utf8' });
    const g = spawnSync('id', ['-g', 'proxy'], { encoding: 'utf8' });
    if (r.status === 0 && g.status === 0) {
      const uid = Number(r.stdout.trim());
      const gid = Number(g.stdout.trim());
      for (const f of [dir, hostsFile, ...(opts.auth ? [join(dir, 'passwd')] : [])]) chownSync(f, uid, gid);
      lines.push('cache_effective_user proxy');
    }
  }

  let lastError = '';
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    const conf = join(dir, 'squid.conf');
    writeFileSync(conf, [`http_port 127.0.0.1:${port}`, ...lines].join('\n') + '\n');
    const child: ChildProcess = spawn(SQUID, ['-N', '-f', conf], { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const ready = await waitReady(dir, exited);
    if (ready) {
      const squid: Squid = {
        port,
        dir,
        url: `http://127.0.0.1:${port}`,
        accessLog: () => read(join(dir, 'access.log')),
        cacheLog: () => read(join(dir, 'cache.log')),
        async stop() {
          if (child.exitCode === null && child.signalCode === null) {
            child.kill('SIGTERM');
            const killer = setTimeout(() => child.kill('SIGKILL'), 5000);
            await exited;
            clearTimeout(killer);
          }
          rmSync(dir, { recursive: true, force: true });
        },
      };
      return squid;
    }
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    lastError = `${stderr}\n${read(join(dir, 'cache.log')).split('\n').slice(-15).join('\n')}`;
  }
  rmSync(dir, { recursive: true, force: true });
  throw new Error(`squid did not start:\n${lastError}`);
}

function read(file: string): string {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return '';
  }
}

/** squid logs "Accepting HTTP Socket connections" once it listens; false if it exits first. */
async function waitReady(dir: string, exited: Promise<number | null>): Promise<boolean> {
  let gone = false;
  void exited.then(() => (gone = true));
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !gone) {
    if (/Accepting HTTP Socket connections/.test(read(join(dir, 'cache.log')))) return true;
    await new Promise((r) => setTimeout(r, 100));
  }
  return false;
}
