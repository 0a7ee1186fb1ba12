// The benchmark's record (test/bench/record.ts): the README quotes the table of one
// whole recorded run, the same as docs/bench-latest.md, and partial or instrumented
// runs cannot be recorded.
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { test } from 'node:test';
import { markdownTable, README_END, README_START, recordRefusal, writeRecord, type Conditions, type TableRow } from '../../bench/record';

const ROOT = resolve(__dirname, '..', '..', '..', '..');

const rows: TableRow[] = [
  { figure: 'throughput', value: 'helper 80', baseline: 'relay 82', comparison: '×0.98', target: '≥ 0.90× relay', met: true },
  { figure: 'a | pipe', value: '1', baseline: '—', comparison: '', target: '—', met: undefined },
  { figure: 'memory', value: '50', baseline: 'bare 40', comparison: '×1.25', target: '≤ 1.2× bare', met: false },
];
const conditions: Conditions = {
  date: '2026-11-30T16:50:00.000Z',
  cpus: 2,
  cpuModel: 'Test CPU',
  node: 'v20.0.0',
  ssh: 'OpenSSH_9.2p1',
  socat: 'socat version 1.7.4',
  load: { start: 0.3, min: 0.1, median: 0.5, max: 1.2 },
  settings: '256 MiB × 5 runs',
  command: 'npm run bench -- --record',
};

/** The table between the README's markers, and the one in docs/bench-latest.md. */
function tables(root: string): { readme: string; latest: string } {
  const readme = readFileSync(join(root, 'README.md'), 'utf8');
  const block = readme.slice(readme.indexOf(README_START) + README_START.length, readme.indexOf(README_END));
  const table = (text: string): string =>
    text
      .split('\n')
      .filter((l) => l.startsWith('|'))
      .join('\n');
  let latest = '';
  try {
    latest = table(readFileSync(join(root, 'docs', 'bench-latest.md'), 'utf8'));
  } catch {
    // no run recorded yet
  }
  return { readme: table(block), latest };
}

test('the README quotes the recorded run: its table is the one in docs/bench-latest.md', () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  assert.ok(readme.includes(README_START) && readme.includes(README_END), 'README.md has the bench-latest block');
  const t = tables(ROOT);
  assert.equal(t.readme, t.latest);
});

test('writeRecord writes the table and the conditions to docs/bench-latest.md and the README block, nothing else of the README', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-record-'));
  try {
    mkdirSync(join(dir, 'docs'));
    const before = `# X\n\nintro\n\n${README_START}\n\nold table\n\n${README_END}\n\n## After\n`;
    writeFileSync(join(dir, 'README.md'), before);
    const files = writeRecord(dir, rows, conditions);
    assert.deepEqual(files, [join(dir, 'docs', 'bench-latest.md'), join(dir, 'README.md')]);
    const readme = readFileSync(join(dir, 'README.md'), 'utf8');
    assert.ok(readme.startsWith(`# X\n\nintro\n\n${README_START}\n`));
    assert.ok(readme.endsWith(`${README_END}\n\n## After\n`));
    assert.ok(!readme.includes('old table'));
    assert.ok(readme.includes('load average (1 min) 0.3 at the start, 0.1–1.2 (median 0.5)'));
    const latest = readFileSync(join(dir, 'docs', 'bench-latest.md'), 'utf8');
    for (const want of [
      '2026-11-30T16:50:00.000Z',
      '2 × Test CPU',
      'Node v20.0.0',
      'OpenSSH_9.2p1',
      'socat version 1.7.4',
      '256 MiB × 5 runs',
      'max 1.20',
    ]) {
      assert.ok(latest.includes(want), `bench-latest.md mentions ${want}`);
    }
    const t = tables(dir);
    assert.equal(t.readme, markdownTable(rows));
    assert.equal(t.latest, t.readme);
    // A pipe inside a cell does not split it.
    assert.ok(t.readme.includes('| a \\| pipe |'));
    assert.ok(t.readme.includes('| ≤ 1.2× bare | MISSED |'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('writeRecord refuses a README without the block, and leaves it as it was', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bench-record-'));
  try {
    mkdirSync(join(dir, 'docs'));
    writeFileSync(join(dir, 'README.md'), '# no block\n');
    assert.throws(() => writeRecord(dir, rows, conditions), /no .*bench-latest/);
    assert.equal(readFileSync(join(dir, 'README.md'), 'utf8'), '# no block\n');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a partial or instrumented run cannot be recorded', () => {
  assert.equal(recordRefusal(['--record']), undefined);
  assert.equal(recordRefusal(['--record', '--quick', '--no-build']), undefined);
  for (const o of ['--only', '--helper', '--helper-node-options', '--profile', '--sessions', '--idle-window']) {
    assert.match(recordRefusal(['--record', o, 'x']) ?? '', new RegExp(`leave out ${o}`));
  }
});
