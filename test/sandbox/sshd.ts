// A real OpenSSH sshd on loopback that trusts the sandbox's SSH user CA, as the server
// side of the Access docs would: TrustedUserCAKeys, certificates only, no passwords.
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { missingPackageHint, requireTool, run, which } from './exec';

export interface SshdOptions {
  /** Temporary directory for the config, host key and log. */
  dir: string;
  /** TrustedUserCAKeys: the sandbox CA's public key file. */
  trustedUserCaKeysFile: string;
  /** Unix users to create (if missing) and make certificate-loginable. */
  users?: string[] | undefined;
  port?: number;
}

export interface Sshd {
  port: number;
  host: '127.0.0.1';
  /** The host key's public line, e.g. for a known_hosts file. */
  hostKey: string;
  /** A known_hosts line for `name` (the name ssh sees is the Access host, not 127.0.0.1). */
  knownHostsLine(name: string): string;
  /** Everything sshd wrote to stderr (-e). */
  log(): string;
  stop(): Promise<void>;
}

export function findSshd(): string {
  const p = existsSync('/usr/sbin/sshd') ? '/usr/sbin/sshd' : which('sshd');
  if (!p) throw new Error(`sshd not found: ${missingPackageHint('sshd')}`);
  return p;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.once('error', reject);
    srv.listen(0, '127.0.0.1', () => {
      const addr = srv.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      srv.close(() => resolve(port));
    });
  });
}

/** Creates the Unix user if needed and makes its password field `*` (not locked `!`). */
export async function ensureUser(name: string): Promise<void> {
  if (!/^[a-z_][a-z0-9_-]*$/.test(name)) throw new Error(`refusing to create odd Unix user name ${JSON.stringify(name)}`);
  if (process.getuid?.() !== 0) {
    const passwd = readFileSync('/etc/passwd', 'utf8');
    if (!passwd.split('\n').some((l) => l.startsWith(`${name}:`))) {
      throw new Error(
        `Unix user ${name} is missing and creating it needs root: run as root, or "useradd -m ${name} && usermod -p '*' ${name}"`,
      );
    }
    return;
  }
  const passwd = readFileSync('/etc/passwd', 'utf8');
  if (!passwd.split('\n').some((l) => l.startsWith(`${name}:`))) {
    await run(requireTool('useradd'), ['-m', '-s', '/bin/sh', name]).catch(async (err: Error) => {
      // Another sandbox may have created it meanwhile.
      if (
        !readFileSync('/etc/passwd', 'utf8')
          .split('\n')
          .some((l) => l.startsWith(`${name}:`))
      )
        throw err;
    });
  }
  // sshd with UsePAM no refuses a locked ("!") account, even for certificate logins.
  const shadow = existsSync('/etc/shadow') ? readFileSync('/etc/shadow', 'utf8') : '';
  const line = shadow.split('\n').find((l) => l.startsWith(`${name}:`));
  if (!line || line.split(':')[1] !== '*') await run(requireTool('usermod'), ['-p', '*', name]);
}

/** Resolves once the sshd `child` sends its banner on `port`; rejects when it exits or after `timeoutMs`. */
export function waitForSshd(port: number, child: ChildProcess, log: () => string, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null) {
        reject(new Error(`sshd exited with ${child.exitCode}: ${log().trim()}`));
        return;
      }
      const sock = connect(port, '127.0.0.1');
      sock.once('data', () => {
        sock.destroy();
        resolve();
      });
      sock.once('error', () => {
        sock.destroy();
        if (Date.now() > deadline) reject(new Error(`sshd did not listen on 127.0.0.1:${port}: ${log().trim()}`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

export async function startSshd(opts: SshdOptions): Promise<Sshd> {
  const sshd = findSshd();
  const sshKeygen = requireTool('ssh-keygen');
  if (process.getuid?.() !== 0) {
    throw new Error(
      'the sandbox sshd must run as root (it switches to the Unix user jdoe after a certificate login); run the tests as root',
    );
  }
  for (const user of opts.users ?? ['jdoe']) await ensureUser(user);
  // Privilege separation directory.
  mkdirSync('/run/sshd', { recursive: true, mode: 0o755 });

  const hostKeyFile = join(opts.dir, 'ssh_host_ed25519_key');
  if (!existsSync(hostKeyFile)) await run(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', 'sandbox-sshd', '-f', hostKeyFile]);
  const hostKey = readFileSync(`${hostKeyFile}.pub`, 'utf8').trim().split(/\s+/).slice(0, 2).join(' ');
  // The sessions' TMPDIR, removed with sshd: what they leave (a remote VS Code server's
  // IPC sockets) goes with it instead of piling up in the machine's /tmp. Sticky and
  // world-writable like /tmp, for every login user.
  const sessionTmp = mkdtempSync(join(tmpdir(), 'access-ssh-sshd-sessions-'));
  chmodSync(sessionTmp, 0o1777);
  const removeSessionTmp = (): void => rmSync(sessionTmp, { recursive: true, force: true });

  let lastErr: unknown;
  for (let attempt = 0; attempt < 5; attempt++) {
    const port = opts.port ?? (await freePort());
    const configFile = join(opts.dir, 'sshd_config');
    writeFileSync(
      configFile,
      [
        `ListenAddress 127.0.0.1`,
        `Port ${port}`,
        `HostKey ${hostKeyFile}`,
        `PidFile none`,
        `TrustedUserCAKeys ${opts.trustedUserCaKeysFile}`,
        `PubkeyAuthentication yes`,
        `AuthorizedKeysFile none`,
        `PasswordAuthentication no`,
        `KbdInteractiveAuthentication no`,
        `UsePAM no`,
        `PermitRootLogin no`,
        `StrictModes no`,
        `UseDNS no`,
        `PrintMotd no`,
        `PrintLastLog no`,
        // Twenty first connections at once must not be dropped by the pre-auth limit.
        `MaxStartups 200`,
        `LoginGraceTime 180`,
        `LogLevel VERBOSE`,
        `Subsystem sftp internal-sftp`,
        `SetEnv TMPDIR=${sessionTmp}`,
        '',
      ].join('\n'),
    );
    let stderr = '';
    const child = spawn(sshd, ['-D', '-e', '-f', configFile], { stdio: ['ignore', 'ignore', 'pipe'] });
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      if (stderr.length > 2_000_000) stderr = stderr.slice(-1_000_000);
    });
    const log = () => stderr;
    // If this process dies without stop() (SIGKILL, a killed test runner), the watchdog's
    // stdin closes and it takes sshd down with it: no orphaned sshd.
    const watchdog = spawn('/bin/sh', ['-c', `cat >/dev/null; kill ${child.pid} 2>/dev/null`], { stdio: ['pipe', 'ignore', 'ignore'] });
    watchdog.on('error', () => {});
    watchdog.unref();
    (watchdog.stdin as unknown as { unref?(): void }).unref?.();
    const killOnExit = () => child.kill('SIGTERM');
    process.once('exit', killOnExit);
    try {
      await waitForSshd(port, child, log);
    } catch (err) {
      lastErr = err;
      process.off('exit', killOnExit);
      watchdog.kill('SIGKILL');
      child.kill('SIGTERM');
      if (opts.port !== undefined || !/Address already in use/.test(stderr)) {
        removeSessionTmp();
        throw err;
      }
      continue;
    }
    return {
      port,
      host: '127.0.0.1',
      hostKey,
      knownHostsLine: (name) => `${name} ${hostKey}`,
      log,
      stop: () =>
        new Promise<void>((resolve) => {
          process.off('exit', killOnExit);
          watchdog.kill('SIGKILL');
          const done = (): void => {
            removeSessionTmp();
            resolve();
          };
          if (child.exitCode !== null || child.signalCode !== null) {
            done();
            return;
          }
          const t = setTimeout(() => child.kill('SIGKILL'), 3000);
          child.once('exit', () => {
            clearTimeout(t);
            done();
          });
          child.kill('SIGTERM');
        }),
    };
  }
  removeSessionTmp();
  throw lastErr;
}
