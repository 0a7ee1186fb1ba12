// The helper's CLI run in this process: its exit code and what it wrote.
import { PassThrough, Readable } from 'node:stream';
import { runCli, type CliIo } from '../../src/cli/run.js';

/** The helper's own command line as rendered into ssh_config (a path with a space). */
export const SELF = ['/usr/bin/node', '/opt/access ssh/access-ssh.js'] as const;

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** `access-ssh argv` with `env` and an empty stdin (unless `io` gives one). */
export async function cliInProcess(
  argv: readonly string[],
  env: CliIo['env'],
  io: Partial<Omit<CliIo, 'env' | 'stdout' | 'stderr'>> = {},
): Promise<CliResult> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const code = await runCli(argv, { stdin: Readable.from([]), ...io, env, stdout, stderr });
  return { code, stdout: out, stderr: err };
}
