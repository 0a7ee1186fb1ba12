// The benchmark's ssh command lines, on test/support/ssh-args.ts's `sshArgs` (the one
// builder of the suites' ssh argv): every path of the throughput and session rows and
// the plain ssh of the first-answer row pass the same options, so that the rows differ
// only by the route the bytes take.

import { sshArgs } from '../support/ssh-args';

/** The application every row reaches, and the one cipher (AES-GCM: the cheapest on both sides). */
export const APP = 'ssh.sandbox.test';
export const CIPHER = 'aes128-gcm@openssh.com';

/**
 * `ssh -F none` with the helper's key pair as jdoe, no prompt, no host key check (the
 * sandbox's sshd is new every run), quiet (`LogLevel=ERROR`), `-T`; `extra` before the
 * destination.
 */
export function benchSshArgs(c: {
  key: string;
  destination: string;
  port?: number;
  connectTimeout?: number;
  extra?: readonly string[];
  command?: readonly string[];
}): string[] {
  return sshArgs({
    config: 'none',
    key: c.key,
    knownHosts: '/dev/null',
    strictHostKeyChecking: 'no',
    ...(c.port === undefined ? {} : { port: c.port }),
    ...(c.connectTimeout === undefined ? {} : { connectTimeout: c.connectTimeout }),
    extra: ['-T', '-o', 'LogLevel=ERROR', '-l', 'jdoe', ...(c.extra ?? [])],
    destination: c.destination,
    ...(c.command === undefined ? {} : { command: c.command }),
  });
}

/** A throughput / session path: through a ProxyCommand to the app, or straight to sshd's port. */
export function pathSshArgs(key: string, route: { proxyCommand: string } | { sshdPort: number }): string[] {
  // One connection per ssh, no compression: what is measured is the route.
  const extra = ['-o', 'Compression=no', '-o', 'ControlMaster=no', '-o', 'ControlPath=none', '-c', CIPHER];
  return 'proxyCommand' in route
    ? benchSshArgs({ key, extra: [...extra, '-o', `ProxyCommand=${route.proxyCommand}`], destination: APP })
    : benchSshArgs({ key, extra, port: route.sshdPort, destination: '127.0.0.1' });
}

/** The first-answer row's plain ssh: straight to sshd, `bash` as the remote command. */
export function plainSshArgs(key: string, sshdPort: number): string[] {
  return benchSshArgs({ key, connectTimeout: 15, port: sshdPort, destination: '127.0.0.1', command: ['bash'] });
}
