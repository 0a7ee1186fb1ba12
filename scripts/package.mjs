// Builds the production bundles and packages access-ssh.vsix with @vscode/vsce.
// Everything the extension runs is bundled by esbuild, so the package carries no
// node_modules (--no-dependencies) and, by .vscodeignore, only:
//   package.json, dist/extension.js, dist/access-ssh.js, README.md, CHANGELOG.md,
//   LICENSE, media/**
// The file list is checked after packaging; a stray file fails the script.
//
//   node scripts/package.mjs [--no-build] [--out <file.vsix>]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);

const args = process.argv.slice(2);
const outIndex = args.indexOf('--out');
const packagePath = resolve(outIndex >= 0 ? args[outIndex + 1] : join(ROOT, 'access-ssh.vsix'));

function fail(msg) {
  console.error(`[package] ${msg}`);
  process.exit(1);
}

// Files allowed in the .vsix (paths inside the package's extension/ folder).
const ALLOWED = [
  /^package\.json$/,
  /^dist\/extension\.js$/,
  /^dist\/access-ssh\.js$/,
  /^readme\.md$/i,
  /^changelog\.md$/i,
  /^license(\.(md|txt))?$/i,
  /^media\/.+/,
];

async function main() {
  if (!args.includes('--no-build')) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--production'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (r.status !== 0) fail(`build failed (exit ${r.status ?? r.signal})`);
  }
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const file of [manifest.main, ...Object.values(manifest.bin ?? {})]) {
    if (file && !existsSync(join(ROOT, file))) fail(`${file} (from package.json) does not exist; build first`);
  }

  const vsce = require('@vscode/vsce');
  const hasLicense = ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(ROOT, f)));
  const options = {
    cwd: ROOT,
    packagePath,
    dependencies: false, // all bundled by esbuild
    ignoreFile: join(ROOT, '.vscodeignore'),
    // Without a repository URL vsce cannot make README links absolute; leave them
    // relative, which VS Code resolves against the installed extension (media/ ships).
    allowMissingRepository: !manifest.repository,
    rewriteRelativeLinks: Boolean(manifest.repository),
    skipLicense: !hasLicense,
    gitHubIssueLinking: false,
    gitLabIssueLinking: false,
  };
  const warnings = [];
  if (!manifest.repository) warnings.push('package.json has no "repository" (README links stay relative)');
  if (!hasLicense) warnings.push('no LICENSE file');
  if (!existsSync(join(ROOT, 'README.md'))) warnings.push('no README.md');
  for (const w of warnings) console.warn(`[package] warning: ${w}`);

  const files = (await vsce.listFiles({ ...options, packageManager: 'none' })).map((f) => f.replace(/\\/g, '/'));
  const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
  if (stray.length) fail(`files that do not belong in the .vsix (fix .vscodeignore):\n  ${stray.join('\n  ')}`);

  await vsce.createVSIX(options);
  const size = statSync(packagePath).size;
  console.log(`[package] ${relative(process.cwd(), packagePath) || packagePath}: ${(size / 1024).toFixed(1)} KiB`);
  for (const f of files.sort()) console.log(`[package]   ${f}`);
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
