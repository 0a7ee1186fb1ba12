// Shared by the ssh tests: temp dirs, and real OpenSSH runs.
import { execFile } from 'node:child_process';
import { promises as fs } from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';

export const SSH = process.env['ACCESS_SSH_TEST_SSH'] ?? 'ssh';

export async function tempDir(prefix = 'access-ssh-test-'): Promise<string> {
  return fs.realpath(await fs.mkdtemp(path.join(os.tmpdir(), prefix)));
}

export interface RunResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function run(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return new Promise((resolve) => {
    execFile(cmd, args, { timeout: timeoutMs, encoding: 'utf8' }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as NodeJS.ErrnoException).code === 'number' ? Number((err as NodeJS.ErrnoException).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `ssh -G -F file [extra] host` → keyword → values. Throws when ssh rejects the file. */
export async function sshG(configFile: string, host: string, extra: readonly string[] = []): Promise<Map<string, string[]>> {
  const r = await run(SSH, ['-G', '-F', configFile, ...extra, host]);
  if (r.code !== 0) throw new Error(`ssh -G failed (${r.code}): ${r.stderr}`);
  const map = new Map<string, string[]>();
  for (const line of r.stdout.split('\n')) {
    if (!line) continue;
    const sp = line.indexOf(' ');
    const k = line.slice(0, sp);
    map.set(k, [...(map.get(k) ?? []), line.slice(sp + 1)]);
  }
  return map;
}

/**
 * A fake helper: an executable shell script that appends its arguments (one line
 * per call, fields joined by "|") to `evidence`, then exits with `exitCode`.
 */
export async function fakeHelper(file: string, evidence: string, exitCode = 0): Promise<void> {
  await fs.mkdir(path.dirname(file), { recursive: true });
  const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;
  await fs.writeFile(file, `#!/bin/sh\n(IFS='|'; printf '%s\\n' "$*") >> ${q(evidence)}\nexit ${exitCode}\n`, { mode: 0o755 });
}

export async function readEvidence(file: string): Promise<string[]> {
  try {
    return (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}
