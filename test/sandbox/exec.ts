// Small helpers for running the real tools (openssl, ssh-keygen) the sandbox is built on.
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';

export interface RunResult {
  stdout: string;
  stderr: string;
}

/** Runs a program and resolves with its output; rejects with stderr in the message. */
export function run(file: string, args: string[], opts: { cwd?: string; input?: string } = {}): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { cwd: opts.cwd, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      if (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (code === 'ENOENT') {
          reject(new Error(`${file} not found: ${missingPackageHint(file)}`));
          return;
        }
        reject(new Error(`${file} ${args.join(' ')} failed: ${String(stderr || err.message).trim()}`));
        return;
      }
      resolve({ stdout: String(stdout), stderr: String(stderr) });
    });
    if (opts.input !== undefined) child.stdin?.end(opts.input);
  });
}

/** The Debian package that provides a tool the sandbox needs. */
export function missingPackageHint(file: string): string {
  const base = file.split('/').pop() ?? file;
  const pkg: Record<string, string> = {
    openssl: 'openssl',
    'ssh-keygen': 'openssh-client',
    ssh: 'openssh-client',
    sshd: 'openssh-server',
    useradd: 'passwd',
    usermod: 'passwd',
  };
  return `apt-get install ${pkg[base] ?? base}`;
}

/** Finds an executable on PATH (plus the sbin directories), or undefined. */
export function which(name: string): string | undefined {
  const dirs = [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin', '/sbin', '/bin', '/usr/local/sbin', '/usr/local/bin'];
  for (const dir of dirs) {
    if (!dir) continue;
    const p = `${dir}/${name}`;
    try {
      accessSync(p, constants.X_OK);
      return p;
    } catch {
      // keep looking
    }
  }
  return undefined;
}

/** Like which(), but throws an error naming the package to install. */
export function requireTool(name: string): string {
  const p = which(name);
  if (!p) throw new Error(`${name} not found: ${missingPackageHint(name)}`);
  return p;
}
