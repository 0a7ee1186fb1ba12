// The command lines of the real `ssh` the tests run, built in one place.

export interface SshCall {
  /** -F: the config file; default /dev/null (neither the user's nor the system's). */
  config?: string;
  /** -p */
  port?: number;
  /** -i key, its certificate <key>-cert.pub, and IdentitiesOnly=yes (the helper's key pair). */
  key?: string;
  /** UserKnownHostsFile= */
  knownHosts?: string;
  /** StrictHostKeyChecking=; left to the config when not given (`no`: the benchmark's throwaway sshd). */
  strictHostKeyChecking?: 'yes' | 'accept-new' | 'no';
  /** ConnectTimeout= (seconds). */
  connectTimeout?: number;
  /** More options, before the destination. */
  extra?: readonly string[];
  destination: string;
  command?: readonly string[];
}

/** `-F … [-p …] [-i …] -o BatchMode=yes [-o …] [extra] destination [command]`: never a prompt. */
export function sshArgs(c: SshCall): string[] {
  const o = (option: string): string[] => ['-o', option];
  return [
    '-F',
    c.config ?? '/dev/null',
    ...(c.port === undefined ? [] : ['-p', String(c.port)]),
    ...(c.key ? ['-i', c.key, ...o(`CertificateFile=${c.key}-cert.pub`), ...o('IdentitiesOnly=yes')] : []),
    ...o('BatchMode=yes'),
    ...(c.knownHosts ? o(`UserKnownHostsFile=${c.knownHosts}`) : []),
    ...(c.strictHostKeyChecking ? o(`StrictHostKeyChecking=${c.strictHostKeyChecking}`) : []),
    ...(c.connectTimeout === undefined ? [] : o(`ConnectTimeout=${c.connectTimeout}`)),
    ...(c.extra ?? []),
    c.destination,
    ...(c.command ?? []),
  ];
}
