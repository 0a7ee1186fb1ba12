// What both demos of `npm start` share: output, failing with a message, running commands,
// the build, starting the sandbox, and one lifecycle (clean-ups run in reverse order, then
// the sandbox stops, on success, failure, Ctrl-C or SIGTERM).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
/** The sandbox's default application (the edge's embedded default). */
export const APP = 'ssh.sandbox.test';
export const require = createRequire(import.meta.url);

export const bold = (s) => (process.stdout.isTTY ? `\x1b[1m${s}\x1b[0m` : s);

export function step(msg) {
  process.stdout.write(`\n${bold('==>')} ${msg}\n`);
}

/** Thrown by `fail` after printing: the dispatcher stops without a stack trace. */
export class StartError extends Error {}

export function fail(msg) {
  process.stderr.write(`\nnpm start failed: ${msg}\n`);
  process.exitCode = 1;
  throw new StartError(msg);
}

export function runSync(cmd, argv, what) {
  const r = spawnSync(cmd, argv, { cwd: ROOT, stdio: 'inherit' });
  if (r.error) fail(`${what}: ${r.error.message}`);
  if (r.status !== 0) fail(`${what} exited with ${r.status ?? r.signal}`);
}

export function which(name) {
  for (const dir of [...(process.env.PATH ?? '').split(':'), '/usr/sbin', '/usr/bin']) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return undefined;
}

/** Runs a command with inherited stdin (the login may be interactive), capturing stdout and stderr. */
export function runAsync(cmd, argv, env, { echoStderr = true } = {}) {
  return new Promise((resolveRun) => {
    const child = spawn(cmd, argv, { cwd: ROOT, env, stdio: ['inherit', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => {
      stderr += d;
      if (echoStderr) process.stderr.write(d);
    });
    child.on('error', (err) => resolveRun({ code: 127, stdout, stderr: stderr + err.message }));
    child.on('close', (code, signal) => resolveRun({ code: code ?? (signal ? 128 : 1), stdout, stderr }));
  });
}

/** A path for an ssh_config line of the demo: refused when it would need quoting. */
export function q(p) {
  if (/["\s%]/.test(p)) fail(`this demo needs a path without spaces, quotes or %: ${p}`);
  return p;
}

/**
 * tsc over the tree. It emits even with type errors: a type error elsewhere must not stop the
 * demo as long as `needed` (compiled files under out/) exist, but it is reported.
 */
export function compile(needed, what) {
  const tsc = spawnSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', '.'], { cwd: ROOT, stdio: 'inherit' });
  if (tsc.status !== 0) {
    if (!needed.every((f) => existsSync(join(ROOT, f)))) fail(`the TypeScript compile exited with ${tsc.status ?? tsc.signal}`);
    process.stderr.write(`warning: tsc reported errors (above); continuing with the compiled ${what}\n`);
  }
}

// ---- lifecycle --------------------------------------------------------------------------

let sandbox;
let waitingForCtrlC = false;
/** Undone in reverse order before the sandbox stops (the --vscode mode's editor, browser). */
export const cleanups = [];

/** The sandbox Access edge and its real sshd (test/sandbox/sandbox.ts, compiled). */
export async function startSandbox(options) {
  const { startSandbox: start } = require(join(ROOT, 'out/test/sandbox/sandbox.js'));
  try {
    sandbox = await start(options);
  } catch (err) {
    fail(`the sandbox did not start: ${err.message}`);
  }
  return sandbox;
}

/** Waits for Ctrl-C (or SIGTERM), or for `also` to settle. */
export function untilStopped(also) {
  waitingForCtrlC = true;
  return new Promise((res) => {
    process.once('SIGINT', res);
    process.once('SIGTERM', res);
    also?.then(res, res);
  });
}

/** Runs the clean-ups, then stops the sandbox. */
export async function stop() {
  while (cleanups.length)
    await Promise.resolve()
      .then(cleanups.pop())
      .catch((err) => process.stderr.write(`cleanup: ${err?.message ?? err}\n`));
  const s = sandbox;
  sandbox = undefined;
  if (s) await s.stop().catch(() => {});
}

/** Ctrl-C or SIGTERM outside `untilStopped` stops everything and exits. */
export function stopOnSignals() {
  process.on('SIGINT', () => {
    if (!waitingForCtrlC) stop().then(() => process.exit(130));
  });
  process.on('SIGTERM', () => {
    if (!waitingForCtrlC) stop().then(() => process.exit(143));
  });
}
