// Summarises V8 CPU profiles (.cpuprofile, as written by `node --cpu-prof`, e.g.
// by `npm run bench -- --profile DIR`): self time per function, top N, with the
// share of all samples. Used for docs/BENCHMARKS.md.
//
//   node out/test/bench/profile-summary.js <file.cpuprofile | dir> [--top N]

import { readdirSync, readFileSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  children?: number[];
}
interface Profile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
  startTime: number;
  endTime: number;
}

const target = process.argv[2];
const topAt = process.argv.indexOf('--top');
const top = topAt > 0 ? Number(process.argv[topAt + 1]) : 25;
if (!target) {
  process.stderr.write('usage: profile-summary.js <file.cpuprofile | dir> [--top N]\n');
  process.exit(2);
}
const files = statSync(target).isDirectory()
  ? readdirSync(target)
      .filter((f) => f.endsWith('.cpuprofile'))
      .map((f) => join(target, f))
  : [target];

const self = new Map<string, number>();
let total = 0;
for (const file of files) {
  const p = JSON.parse(readFileSync(file, 'utf8')) as Profile;
  const byId = new Map(p.nodes.map((n) => [n.id, n]));
  for (let i = 0; i < p.samples.length; i++) {
    const n = byId.get(p.samples[i]!);
    if (!n) continue;
    const dt = p.timeDeltas[i] ?? 0;
    const cf = n.callFrame;
    const where = cf.url ? `${basename(cf.url)}:${cf.lineNumber + 1}` : '';
    const key = `${cf.functionName || '(anonymous)'} ${where}`.trim();
    self.set(key, (self.get(key) ?? 0) + dt);
    total += dt;
  }
}
const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
process.stdout.write(`${files.length} profile(s), ${(total / 1000).toFixed(0)} ms sampled\n`);
for (const [k, us] of rows)
  process.stdout.write(`${((100 * us) / total).toFixed(1).padStart(5)}%  ${(us / 1000).toFixed(1).padStart(8)} ms  ${k}\n`);
