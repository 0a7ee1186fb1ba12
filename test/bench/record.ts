// `npm run bench -- --record`: the run's table and its conditions go to
// docs/bench-latest.md, and the same table into README.md between the
// `bench-latest` markers. The README's figures are then always one whole run's,
// as printed, never a hand-picked best of several. A run without --record writes
// no tracked file (only bench-results.json, which git ignores).

import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface TableRow {
  readonly figure: string;
  readonly value: string;
  readonly baseline: string;
  readonly comparison: string;
  readonly target: string;
  readonly met: boolean | undefined;
}

export interface Conditions {
  readonly date: string;
  readonly cpus: number;
  readonly cpuModel: string;
  readonly node: string;
  readonly ssh: string;
  readonly socat: string;
  /** 1-minute load average, sampled every few seconds through the run. */
  readonly load: { readonly start: number; readonly min: number; readonly median: number; readonly max: number };
  readonly settings: string;
  readonly command: string;
}

export const README_START = '<!-- bench-latest:start (written by `npm run bench -- --record`; do not edit) -->';
export const README_END = '<!-- bench-latest:end -->';

/** Options that make a run unfit to stand for the project (a part of the table, another build, a profiler attached). */
export function recordRefusal(argv: readonly string[]): string | undefined {
  for (const o of ['--only', '--helper', '--helper-node-options', '--profile', '--sessions', '--idle-window']) {
    if (argv.includes(o)) return `--record takes a whole run of the production build: leave out ${o}`;
  }
  return undefined;
}

function commit(root: string): string {
  try {
    const head = execFileSync('git', ['rev-parse', '--short=12', 'HEAD'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], {
      cwd: root,
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'ignore'],
    })
      .split('\n')
      .filter((l) => l.trim() && !/\s(README\.md|docs\/bench-latest\.md)$/.test(l));
    return dirty.length ? `${head} with uncommitted changes (${dirty.length} files)` : head;
  } catch {
    return 'unknown (not a git checkout)';
  }
}

/** The run's table in Markdown, as the benchmark prints it. */
export function markdownTable(rows: readonly TableRow[]): string {
  const esc = (s: string): string => s.replace(/\|/g, '\\|');
  const lines = [
    '| figure | measured (median [min–max]) | compared with, same run | ratio / difference | target | |',
    '|---|---|---|---|---|---|',
  ];
  for (const r of rows) {
    lines.push(
      `| ${[r.figure, r.value, r.baseline, r.comparison, r.target, r.met === undefined ? '' : r.met ? 'met' : 'MISSED'].map(esc).join(' | ')} |`,
    );
  }
  return lines.join('\n');
}

export function conditionsLine(c: Conditions, rev: string): string {
  return (
    `${c.date.slice(0, 16).replace('T', ' ')} UTC, commit ${rev}; ${c.cpus} × ${c.cpuModel}; ` +
    `load average (1 min) ${c.load.start.toFixed(1)} at the start, ${c.load.min.toFixed(1)}–${c.load.max.toFixed(1)} ` +
    `(median ${c.load.median.toFixed(1)}) during the run; Node ${c.node}, ${c.ssh}, ${c.socat}; ${c.settings}.`
  );
}

/** Writes docs/bench-latest.md and the README block. Returns the files written. */
export function writeRecord(root: string, rows: readonly TableRow[], c: Conditions): string[] {
  const rev = commit(root);
  const table = markdownTable(rows);
  const line = conditionsLine(c, rev);
  const latest = join(root, 'docs', 'bench-latest.md');
  writeFileSync(
    latest,
    [
      '# The latest recorded benchmark run',
      '',
      'Written by `npm run bench -- --record` (`test/bench/record.ts`), a whole run as it was printed;',
      'do not edit by hand. What each figure measures and against what: [BENCHMARKS.md](BENCHMARKS.md).',
      '',
      `- Date: ${c.date}`,
      `- Commit: ${rev}`,
      `- Machine: ${c.cpus} × ${c.cpuModel}`,
      `- Load average (1 min): ${c.load.start.toFixed(2)} at the start; during the run min ${c.load.min.toFixed(2)}, median ${c.load.median.toFixed(2)}, max ${c.load.max.toFixed(2)}`,
      `- Versions: Node ${c.node}; ${c.ssh}; ${c.socat}`,
      `- Settings: ${c.settings}`,
      `- Command: \`${c.command}\``,
      '',
      table,
      '',
    ].join('\n'),
  );
  const readmePath = join(root, 'README.md');
  const readme = readFileSync(readmePath, 'utf8');
  const a = readme.indexOf(README_START);
  const b = readme.indexOf(README_END);
  if (a < 0 || b < a) throw new Error(`README.md has no ${README_START} … ${README_END} block to write the table into`);
  const block = `${README_START}\n\nThe latest recorded run ([docs/bench-latest.md](docs/bench-latest.md)): ${line}\n\n${table}\n\n`;
  writeFileSync(readmePath, readme.slice(0, a) + block + readme.slice(b));
  return [latest, readmePath];
}

/** `ssh -V` and `socat -V`, shortened: "OpenSSH_9.2p1", "socat version 1.7.4.4". */
export function toolVersions(): { ssh: string; socat: string } {
  const out = (cmd: string): string => {
    try {
      // ssh -V prints to stderr.
      return execFileSync('sh', ['-c', `${cmd} 2>&1`], { encoding: 'utf8' });
    } catch {
      return '';
    }
  };
  return {
    ssh: /OpenSSH_[\w.]+/.exec(out('ssh -V'))?.[0] ?? 'ssh: version unknown',
    socat: /socat version [\d.]+/.exec(out('socat -V'))?.[0] ?? 'socat: version unknown',
  };
}
