// `npm run bench`: performance figures against the sandbox and its real sshd
// (docs/BENCHMARKS.md explains each figure, its baseline and its target).
//
//   npm run bench                      256 MiB transfers, 5 runs of each (a few minutes)
//   npm run bench -- --quick           64 MiB, 3 runs
//   npm run bench -- --size 128 --runs 7
//   npm run bench -- --only throughput,latency   (throughput, latency, proxy, startup, memory,
//                                                 sessions, renewal, activation, hosts, sizes)
//   npm run bench -- --record          also write the table and the run's conditions to
//                                      docs/bench-latest.md and README.md (a whole run only;
//                                      without it no tracked file is written)
//   npm run bench -- --no-build        measure what is in dist/ and out/ as it is
//   npm run bench -- --profile DIR     also write V8 CPU profiles of the helper to DIR
//   npm run bench -- --json FILE       where the JSON goes (default bench-results.json)
//
// Steps: system packages (scripts/setup.mjs e2e: sshd, ssh, socat), the production
// bundles and the .vsix (scripts/package.mjs, what users install), the TypeScript
// compile (sandbox and the benchmark itself), then out/test/bench/main.js.
// Needs root, as the sandbox's sshd does (it creates the Unix user jdoe).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const noBuild = args.includes('--no-build');
const passOn = args.filter((a) => a !== '--no-build');

function step(msg) {
  process.stderr.write(`\n==> ${msg}\n`);
}

function run(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} exited with ${r.status ?? r.signal}`);
}

function fail(msg) {
  process.stderr.write(`\nnpm run bench failed: ${msg}\n`);
  process.exit(1);
}

if (process.platform !== 'linux') fail('the benchmark runs on Linux (it reads /proc and starts a local sshd)');
if (typeof process.getuid === 'function' && process.getuid() !== 0) {
  fail('the sandbox sshd needs root (it creates the Unix user jdoe); run as root, e.g. in the dev container');
}

let vsix;
if (!noBuild) {
  step('System packages (scripts/setup.mjs e2e: openssh-server, openssh-client, socat)');
  run(process.execPath, ['scripts/setup.mjs', 'e2e'], 'scripts/setup.mjs e2e');
  step('Production bundles and the .vsix (scripts/package.mjs)');
  vsix = join(mkdtempSync(join(tmpdir(), 'access-ssh-bench-vsix-')), 'access-ssh.vsix');
  run(process.execPath, ['scripts/package.mjs', '--out', vsix], 'scripts/package.mjs');
  step('Compiling the sandbox and the benchmark (tsc -p .)');
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) {
    if (!existsSync(join(ROOT, 'out/test/bench/main.js')) || !existsSync(join(ROOT, 'out/test/sandbox/main.js'))) {
      fail(`the TypeScript compile exited with ${tsc.status ?? tsc.signal}`);
    }
    process.stderr.write('warning: tsc reported errors (above); continuing with what compiled\n');
  }
} else if (!passOn.includes('--vsix') && existsSync(join(ROOT, 'access-ssh.vsix'))) {
  vsix = join(ROOT, 'access-ssh.vsix');
}

step('Benchmark');
run(
  process.execPath,
  [join(ROOT, 'out/test/bench/main.js'), ...(vsix && !passOn.includes('--vsix') ? ['--vsix', vsix] : []), ...passOn],
  'the benchmark',
);
