// `npm run lint`: prettier's check of the formatting (.prettierrc.json), then
// typescript-eslint with type information over src/ and test/ (the rules, including the
// architecture's import rules, are in eslint.config.mjs). The toolchain lives
// in tools/lint/ with a lock file of its own, installed here when missing or out of date:
// typescript-eslint needs TypeScript's JavaScript API, and the TypeScript 7 compiler the
// project builds with has none.
//
//   node scripts/lint.mjs [--fix]     --fix also formats the files
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const TOOLS = join(ROOT, 'tools', 'lint');
const STAMP = join(TOOLS, 'node_modules', '.installed-lock-sha256');

function fail(msg) {
  console.error(`[lint] ${msg}`);
  process.exit(1);
}

function ensureTools() {
  const lock = readFileSync(join(TOOLS, 'package-lock.json'));
  const sha = createHash('sha256').update(lock).digest('hex');
  if (existsSync(STAMP) && readFileSync(STAMP, 'utf8') === sha) return;
  console.log('[lint] installing the lint toolchain (eslint, typescript-eslint, TypeScript 6 for its API) into tools/lint/node_modules');
  // Under `npm test` the outer npm's npm_* variables would be read back as config.
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^npm_/i.test(k)));
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  const r = spawnSync(npm, ['ci', '--prefix', TOOLS, '--no-audit', '--no-fund', '--loglevel=error'], {
    stdio: 'inherit',
    env: { ...env, CI: 'true' },
  });
  if (r.status !== 0) fail(`npm ci in tools/lint exited with ${r.status ?? r.signal}`);
  writeFileSync(STAMP, sha);
}

ensureTools();
const fixing = process.argv.includes('--fix');
const FORMATTED = ['src/**/*.ts', 'test/**/*.ts', 'scripts/**/*.mjs', 'eslint.config.mjs'];
const prettier = join(TOOLS, 'node_modules', 'prettier', 'bin', 'prettier.cjs');
const p = spawnSync(process.execPath, [prettier, fixing ? '--write' : '--check', '--log-level', 'warn', ...FORMATTED], {
  cwd: ROOT,
  stdio: 'inherit',
});
if (p.status !== 0)
  fail(`files are not formatted as .prettierrc.json says (exit ${p.status ?? p.signal}); \`npm run lint -- --fix\` formats them`);
const eslint = join(TOOLS, 'node_modules', 'eslint', 'bin', 'eslint.js');
const fix = fixing ? ['--fix'] : [];
const r = spawnSync(process.execPath, [eslint, ...fix, '--max-warnings', '0', 'src', 'test'], { cwd: ROOT, stdio: 'inherit' });
if (r.status !== 0) fail(`eslint found problems (exit ${r.status ?? r.signal}); \`npm run lint -- --fix\` fixes some of them`);
console.log('[lint] clean');
