// The real OpenSSH client in tests: `ssh -G` readings of a config, and a fake helper
// that records how ssh called it. Integration tests only (they need openssh-client).
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import { shellQuote } from '../../src/ssh/quote.js';
import { runProcess, type RunResult } from './process.js';

export const SSH = process.env['ACCESS_SSH_TEST_SSH'] ?? 'ssh';

/** Runs `cmd args` in this process's environment, killed after `timeoutMs`; never rejects. */
export function run(cmd: string, args: readonly string[], timeoutMs = 20_000): Promise<RunResult> {
  return runProcess(cmd, [...args], process.env, timeoutMs);
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
  await fs.writeFile(file, `#!/bin/sh\n(IFS='|'; printf '%s\\n' "$*") >> ${shellQuote(evidence)}\nexit ${exitCode}\n`, { mode: 0o755 });
}

export async function readEvidence(file: string): Promise<string[]> {
  try {
    return (await fs.readFile(file, 'utf8')).split('\n').filter((l) => l !== '');
  } catch {
    return [];
  }
}
