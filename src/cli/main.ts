// Entry of the access-ssh bundle (dist/access-ssh.js): the process around runCli.

import { runExitCleanups, signalsTakenOver } from '../base/cleanup.js';
import { runCli } from './run.js';

// A login or renewal stopped by a signal removes the lock and login URL files it
// holds (kill -9 cannot be caught: the next process reclaims a dead pid's lock).
const SIGNALS: ReadonlyArray<[NodeJS.Signals, number]> = [
  ['SIGTERM', 15],
  ['SIGINT', 2],
  ['SIGHUP', 1],
];
// A command that stops gracefully (the tcp listener) takes SIGINT and SIGTERM over.
for (const [signal, number] of SIGNALS) {
  process.on(signal, () => {
    if (signal !== 'SIGHUP' && signalsTakenOver()) return;
    runExitCleanups();
    process.exit(128 + number);
  });
}

async function main(): Promise<void> {
  const code = await runCli(process.argv.slice(2), {
    env: process.env,
    stdin: process.stdin,
    stdout: process.stdout,
    stderr: process.stderr,
    self: [process.execPath, ...(process.argv[1] ? [process.argv[1]] : [])],
  });
  // Exit once what we wrote is flushed; stdin would otherwise keep us alive.
  const flush = (s: NodeJS.WriteStream): Promise<void> =>
    new Promise((resolve) => {
      if (s.writableLength === 0 || s.destroyed) resolve();
      else s.write('', () => resolve());
    });
  await Promise.all([flush(process.stdout), flush(process.stderr)]);
  // A step cut short by a deadline may still hold a lock or a .url file: not past our exit.
  runExitCleanups();
  process.exit(code);
}

// Broken pipes (ssh went away) are not errors of ours.
process.stdout.on('error', () => {});

void main();
