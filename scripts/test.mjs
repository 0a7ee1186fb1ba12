// The README's test command. Installs what the tests need (system packages, the
// code-server workbench), builds the bundles and the .vsix, then runs every suite
// under Node's test runner, after the lint gate (scripts/lint.mjs). `npm test -- unit` (or
// integration, e2e, ui, lint) runs one group.
//
//   unit         test/unit/: in one Node process, no child process, no sandbox: runs
//                without the system setup (no apt, no OpenSSH, no Node 24/code-server)
//   integration  test/integration/: the same modules against real programs (ssh -G,
//                ssh-keygen, the helper as a process, the sandbox edge, a second Unix user)
//   e2e, ui      the real ssh/sshd through the helper; the workbench in Chromium
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';

const groups = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const lint = groups.length === 0 || groups.includes('lint');
const folders = groups.filter((g) => g !== 'lint');
const suites = groups.length === 0 ? ['unit', 'integration', 'e2e', 'ui'] : folders;
// The unit group needs nothing the setup installs; the others get what they need.
const needSetup = suites.filter((s) => s !== 'unit');

function run(cmd, args, opts = {}) {
  const r = spawnSync(cmd, args, { stdio: 'inherit', ...opts });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

if (lint) run(process.execPath, ['scripts/lint.mjs']);
if (suites.length === 0) process.exit(0);
if (needSetup.length && existsSync('scripts/setup.mjs')) run(process.execPath, ['scripts/setup.mjs', ...needSetup]);
run(process.execPath, ['scripts/build.mjs']);
run(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.']);
if (suites.includes('ui') && existsSync('scripts/package.mjs')) run(process.execPath, ['scripts/package.mjs']);

// Compiled tests whose source still exists: out/ keeps the .js of a test that was moved
// or deleted, which must neither run twice nor run in its old group.
function testFiles(dir) {
  if (!existsSync(dir)) return [];
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) return testFiles(p);
    return name.endsWith('.test.js') && existsSync(relative('out', p).replace(/\.js$/, '.ts')) ? [p] : [];
  });
}

const files = suites.flatMap((s) => testFiles(join('out', 'test', s))).sort();
if (files.length === 0) {
  console.error(`no test files found under out/test/{${suites.join(',')}}`);
  process.exit(1);
}
// A test or hook that hangs fails by name after 15 min (the longest suite takes about 3)
// instead of running into CI's limit; a suite that sets its own timeout keeps it.
run(process.execPath, ['--test', '--test-reporter=spec', '--test-concurrency=2', '--test-timeout=900000', ...files]);
