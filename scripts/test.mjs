// The README's test command. Installs what the tests need (system packages, the
// code-server workbench), builds the bundles and the .vsix, then runs every suite
// under Node's test runner, after the lint gate (scripts/lint.mjs). `npm test -- unit` (or
// e2e, ui, lint) runs one group.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const groups = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const lint = groups.length === 0 || groups.includes('lint');
const folders = groups.filter((g) => g !== 'lint');
const suites = groups.length === 0 ? ['unit', 'e2e', 'ui'] : folders;

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (lint) run(process.execPath, ['scripts/lint.mjs']);
if (suites.length === 0) process.exit(0);
if (existsSync('scripts/setup.mjs')) run(process.execPath, ['scripts/setup.mjs', ...suites]);
run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.']);
if (suites.includes('ui') && existsSync('scripts/package.mjs')) run(process.execPath, ['scripts/package.mjs']);

function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.js') ? [p] : [];
  });
}

const files = suites.flatMap((s) => testFiles(join('out', 'test', s))).sort();
if (files.length === 0) {
  console.error(`no test files found under out/test/{${suites.join(',')}}`);
  process.exit(1);
}
run(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', ...files]);
