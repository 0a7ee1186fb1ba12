// A second local Unix user, made by the test (as root, with useradd, as the sandbox
// makes its sshd user) and removed afterwards: the "other local user" of the
// hardening tests, who plants symlinks and files where a folder lets them.
import { execFileSync, spawnSync } from 'node:child_process';

export interface OtherUser {
  readonly name: string;
  readonly uid: number;
  readonly gid: number;
  /** Run a command as this user; returns its exit status and stderr. */
  run(cmd: string, args: string[]): { status: number; stderr: string };
  remove(): void;
}

/** Why a second user cannot be made here (not root, no useradd), or undefined. */
export function otherUserMissing(): string | undefined {
  if (process.platform === 'win32') return 'no Unix users on Windows';
  if (process.getuid?.() !== 0) return 'creating a second Unix user needs root';
  if (spawnSync('useradd', ['--help']).error) return 'useradd is missing';
  return undefined;
}

export function createOtherUser(tag: string): OtherUser {
  const name = `acs${tag}${process.pid}`.slice(0, 30);
  spawnSync('userdel', ['-r', name], { stdio: 'ignore' });
  execFileSync('useradd', ['-M', '-U', '-d', '/nonexistent', '-s', '/usr/sbin/nologin', name], { stdio: 'pipe' });
  const uid = Number(execFileSync('id', ['-u', name], { encoding: 'utf8' }).trim());
  const gid = Number(execFileSync('id', ['-g', name], { encoding: 'utf8' }).trim());
  return {
    name,
    uid,
    gid,
    run(cmd, args) {
      const r = spawnSync(cmd, args, { uid, gid, encoding: 'utf8', env: { PATH: '/usr/bin:/bin' } });
      return { status: r.status ?? 1, stderr: r.stderr ?? '' };
    },
    remove() {
      spawnSync('userdel', [name], { stdio: 'ignore' });
      spawnSync('groupdel', [name], { stdio: 'ignore' });
    },
  };
}
