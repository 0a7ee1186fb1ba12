// Builds the production bundles and packages access-ssh.vsix with @vscode/vsce.
// Everything the extension runs is bundled by esbuild, so the package carries no
// node_modules (--no-dependencies) and, by .vscodeignore, only:
//   package.json, dist/extension.js, dist/access-ssh.js, dist/vendor-*.js (the third-party
//   packages both load on demand, one file each), README.marketplace.md (the extension's
//   details page, written for users; shipped as readme.md), CHANGELOG.md, LICENSE, media/**
//   but the README screenshots (their links are made absolute from the `repository` field)
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
  /^dist\/vendor-(sshpk|jose|tweetnacl)\.js$/,
  /^readme(\.marketplace)?\.md$/i,
  /^changelog\.md$/i,
  /^license(\.(md|txt))?$/i,
  /^media\/(?!screenshots\/).+/, // the README screenshots stay in the repository
];

/** The README shipped in the package (the extension's details page in VS Code). */
const USER_README = 'README.marketplace.md';

async function main() {
  if (!args.includes('--no-build')) {
    const r = spawnSync(process.execPath, [join(ROOT, 'scripts', 'build.mjs'), '--production'], {
      cwd: ROOT,
      stdio: 'inherit',
    });
    if (r.status !== 0) fail(`build failed (exit ${r.status ?? r.signal})`);
  }
  const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8'));
  for (const file of [
    manifest.main,
    ...Object.values(manifest.bin ?? {}),
    ...['sshpk', 'jose', 'tweetnacl'].map((p) => `dist/vendor-${p}.js`),
  ]) {
    if (file && !existsSync(join(ROOT, file))) fail(`${file} (from package.json) does not exist; build first`);
  }

  const vsce = require('@vscode/vsce');
  const hasLicense = ['LICENSE', 'LICENSE.md', 'LICENSE.txt'].some((f) => existsSync(join(ROOT, f)));
  const options = {
    cwd: ROOT,
    packagePath,
    dependencies: false, // all bundled by esbuild
    ignoreFile: join(ROOT, '.vscodeignore'),
    // Without a repository URL vsce cannot make README links absolute (with
    // rewriteRelativeLinks it throws "Couldn't detect the repository…"); leave them
    // relative: VS Code resolves them against the installed extension, where the
    // walkthrough media ship and the README screenshots do not (reported below).
    allowMissingRepository: !manifest.repository,
    rewriteRelativeLinks: Boolean(manifest.repository),
    skipLicense: !hasLicense,
    // The details page talks to users; README.md (the repository's) talks to developers.
    readmePath: USER_README,
    gitHubIssueLinking: false,
    gitLabIssueLinking: false,
  };
  const warnings = [];
  if (!manifest.repository) warnings.push('package.json has no "repository" (README links stay relative)');
  if (!hasLicense) warnings.push('no LICENSE file');
  if (!existsSync(join(ROOT, USER_README))) warnings.push(`no ${USER_README}`);
  for (const w of warnings) console.warn(`[package] warning: ${w}`);

  const files = (await vsce.listFiles({ ...options, packageManager: 'none' })).map((f) => f.replace(/\\/g, '/'));
  const stray = files.filter((f) => !ALLOWED.some((re) => re.test(f)));
  if (existsSync(join(ROOT, USER_README))) {
    const images = [...readFileSync(join(ROOT, USER_README), 'utf8').matchAll(/!\[[^\]]*\]\(([^)\s]+)/g)].map((m) => m[1]);
    // Each picture must exist in the repository (its absolute link points there).
    const missing = images.filter((src) => !/^[a-z]+:/i.test(src) && !existsSync(join(ROOT, src)));
    if (missing.length) fail(`${USER_README} shows pictures that do not exist: ${missing.join(', ')}`);
    const unshipped = images.filter((src) => !/^[a-z]+:/i.test(src) && !files.includes(src.replace(/^\.\//, '')));
    if (!manifest.repository && unshipped.length)
      console.warn(
        `[package] note: without "repository" these pictures stay relative and are broken in the installed copy: ${unshipped.join(', ')}`,
      );
  }
  if (stray.length) fail(`files that do not belong in the .vsix (fix .vscodeignore):\n  ${stray.join('\n  ')}`);

  await vsce.createVSIX(options);
  const size = statSync(packagePath).size;
  console.log(`[package] ${relative(process.cwd(), packagePath) || packagePath}: ${(size / 1024).toFixed(1)} KiB`);
  for (const f of files.sort()) console.log(`[package]   ${f}`);
}

main().catch((err) => fail(err instanceof Error ? err.message : String(err)));
