// `npm run test:vscode`: the suite that runs INSIDE a desktop VS Code's extension host
// (test/vscode/suite, compiled to out/test/vscode/suite/index.js), launched with
// @vscode/test-electron. It needs a desktop VS Code:
//   VSCODE_EXECUTABLE=/path/to/code   a local install (the Electron binary or `code`), or
//   a network that reaches update.code.visualstudio.com (test-electron downloads one;
//   VSCODE_VERSION picks it, default "stable").
// On Linux without $DISPLAY run it under Xvfb: `xvfb-run -a npm run test:vscode`.
// Not part of `npm test`: where no desktop VS Code can be had (as on the machines
// where code-server serves the UI tests) it says what is missing and exits 2.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const require = createRequire(import.meta.url);
const SUITE = join(ROOT, 'out', 'test', 'vscode', 'suite', 'index.js');

function say(msg) {
  console.error(`[test:vscode] ${msg}`);
}

function run(cmd, args) {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

async function reachable(url, timeoutMs = 5000) {
  try {
    const r = await fetch(url, { method: 'HEAD', signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    return r.status > 0;
  } catch {
    return false;
  }
}

async function main() {
  const executable = process.env.VSCODE_EXECUTABLE;
  let vscodeExecutablePath;
  if (executable) {
    if (!existsSync(executable)) {
      say(`VSCODE_EXECUTABLE=${executable} does not exist.`);
      process.exit(2);
    }
    vscodeExecutablePath = executable;
  } else if (!(await reachable('https://update.code.visualstudio.com/api/releases/stable'))) {
    say('no desktop VS Code to run the in-extension-host suite:');
    say('  VSCODE_EXECUTABLE is not set, and update.code.visualstudio.com cannot be reached to download one.');
    say('  Set VSCODE_EXECUTABLE to a local VS Code (e.g. /usr/share/code/code), or run where the download works.');
    say('  (On these machines the real workbench is code-server: `npm test -- ui` drives it in Chromium.)');
    process.exit(2);
  }
  if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.WAYLAND_DISPLAY) {
    say('no $DISPLAY: desktop VS Code needs an X server. Run `xvfb-run -a npm run test:vscode` (Debian package xvfb).');
    process.exit(2);
  }

  // Bundles (the extension under test) and the compiled suite.
  run(process.execPath, [join(ROOT, 'scripts', 'build.mjs')]);
  run(process.execPath, [join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', ROOT]);
  if (!existsSync(SUITE)) {
    say(`${SUITE} is missing after compiling: is test/vscode/suite/index.ts there?`);
    process.exit(1);
  }

  const { runTests } = require('@vscode/test-electron');
  const userDataDir = mkdtempSync(join(tmpdir(), 'access-ssh-vscode-'));
  // A folder open in the window: the suite checks that workspace settings cannot set what
  // reaches a command line, which needs a workspace to write to.
  const workspaceFolder = join(userDataDir, 'workspace');
  mkdirSync(workspaceFolder);
  try {
    await runTests({
      ...(vscodeExecutablePath ? { vscodeExecutablePath } : { version: process.env.VSCODE_VERSION ?? 'stable' }),
      extensionDevelopmentPath: ROOT,
      extensionTestsPath: SUITE,
      launchArgs: [
        workspaceFolder,
        '--disable-extensions', // other extensions, not the one under development
        '--disable-workspace-trust',
        '--skip-welcome',
        '--skip-release-notes',
        '--user-data-dir',
        join(userDataDir, 'user-data'),
        '--extensions-dir',
        join(userDataDir, 'extensions'),
      ],
    });
  } catch (err) {
    say(`failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exitCode = 1;
  } finally {
    rmSync(userDataDir, { recursive: true, force: true });
  }
}

await main();
