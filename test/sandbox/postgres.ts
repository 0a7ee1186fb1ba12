// A real PostgreSQL server from Debian (package postgresql) on loopback: the database
// behind db.sandbox.test, for `access-ssh tcp --url` (issue 8: "databases and other TCP
// services behind Access"). A throw-away cluster (initdb) in its own temp directory,
// trust authentication on 127.0.0.1 only, fsync off; run as the `postgres` user when we
// are root (postgres refuses to run as root).
import { spawn } from 'node:child_process';
import { chownSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './sshd';

export interface Postgres {
  host: '127.0.0.1';
  port: number;
  /** The superuser to connect as (trust authentication). */
  user: string;
  /** Everything the server wrote to stderr. */
  log(): string;
  stop(): Promise<void>;
}

/** The newest /usr/lib/postgresql/<version>/bin, or undefined. */
export function findPostgresBin(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!existsSync(root)) return undefined;
  const versions = readdirSync(root)
    .filter((v) => /^\d+$/.test(v) && existsSync(join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? join(root, versions[0], 'bin') : undefined;
}

/** uid/gid of the `postgres` account when we are root (postgres will not run as root). */
function runAs(): { uid: number; gid: number } | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const passwd = readFileSync('/etc/passwd', 'utf8');
  const line = passwd.split('\n').find((l) => l.startsWith('postgres:'));
  if (!line) throw new Error('the postgres account is missing: apt-get install postgresql');
  const [, , uid, gid] = line.split(':');
  return { uid: Number(uid), gid: Number(gid) };
}

function exec(file: string, args: string[], as: { uid: number; gid: number } | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(as ?? {}),
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
    });
    let out = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (out += d.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve(out) : reject(new Error(`${file} ${args.join(' ')} exited with ${code}: ${out.trim()}`)),
    );
  });
}

export async function startPostgres(): Promise<Postgres> {
  const bin = findPostgresBin();
  if (!bin) throw new Error('PostgreSQL not found under /usr/lib/postgresql: apt-get install postgresql');
  const as = runAs();
  const dir = mkdtempSync(join(tmpdir(), 'access-ssh-sandbox-pg-'));
  const data = join(dir, 'data');
  const sockets = join(dir, 'run');
  mkdirSync(sockets);
  if (as) {
    chownSync(dir, as.uid, as.gid);
    chownSync(sockets, as.uid, as.gid);
  }
  const user = 'postgres';
  try {
    await exec(join(bin, 'initdb'), ['-D', data, '-U', user, '-A', 'trust', '-E', 'UTF8', '--locale=C', '--no-sync'], as);
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = await freePort();
    let stderr = '';
    const child = spawn(
      join(bin, 'postgres'),
      ['-D', data, '-h', '127.0.0.1', '-p', String(port), '-k', sockets, '-F', '-c', 'max_connections=100', '-c', 'log_connections=on'],
      {
        stdio: ['ignore', 'ignore', 'pipe'],
        ...(as ?? {}),
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin', LANG: 'C', LC_ALL: 'C' },
      },
    );
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
    });
    const killOnExit = (): void => {
      child.kill('SIGKILL');
    };
    process.once('exit', killOnExit);
    const ready = await new Promise<boolean>((resolve) => {
      const deadline = Date.now() + 60_000;
      const check = (): void => {
        if (child.exitCode !== null) {
          resolve(false);
          return;
        }
        if (!stderr.includes('ready to accept connections')) {
          if (Date.now() > deadline) resolve(false);
          else setTimeout(check, 50);
          return;
        }
        const s = connect(port, '127.0.0.1');
        s.once('connect', () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => setTimeout(check, 50));
      };
      check();
    });
    if (!ready) {
      lastErr = new Error(`postgres did not start on 127.0.0.1:${port}: ${stderr.trim().split('\n').slice(-5).join('\n')}`);
      process.off('exit', killOnExit);
      child.kill('SIGKILL');
      if (!/already in use|could not bind/i.test(stderr)) break;
      continue;
    }
    return {
      host: '127.0.0.1',
      port,
      user,
      log: () => stderr,
      stop: () =>
        new Promise<void>((resolve) => {
          process.off('exit', killOnExit);
          const done = (): void => {
            rmSync(dir, { recursive: true, force: true });
            resolve();
          };
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            return;
          }
          const t = setTimeout(() => child.kill('SIGKILL'), 5000);
          child.once('exit', () => {
            clearTimeout(t);
            done();
          });
          child.kill('SIGINT'); // fast shutdown
        }),
    };
  }
  rmSync(dir, { recursive: true, force: true });
  throw lastErr;
}
