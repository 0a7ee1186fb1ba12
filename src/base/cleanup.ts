// What must not outlive this process even when it is stopped by a signal: lock
// files it holds, the login URL it published. Holders register a synchronous
// undo; the CLI's signal handlers (src/cli/main.ts) run them before exiting.
// kill -9 cannot be caught: those leftovers are reclaimed by the next process
// (a lock whose pid is gone is stale).

const pending = new Set<() => void>();

/** Register `undo` until the returned function is called (normal release). */
export function onAbnormalExit(undo: () => void): () => void {
  pending.add(undo);
  return () => {
    pending.delete(undo);
  };
}

let signalsHeld = 0;

/**
 * A command that stops gracefully on SIGINT and SIGTERM (the tcp listener drains its
 * connections, then exits 0) takes those signals over until the returned function is
 * called; meanwhile the process-wide handler leaves them to it.
 */
export function takeOverSignals(): () => void {
  signalsHeld++;
  let released = false;
  return () => {
    if (!released) signalsHeld--;
    released = true;
  };
}

/** Whether a command has taken SIGINT and SIGTERM over (takeOverSignals). */
export function signalsTakenOver(): boolean {
  return signalsHeld > 0;
}

/** Run every registered undo once (best effort, synchronous: we are about to exit). */
export function runExitCleanups(): void {
  for (const undo of [...pending]) {
    pending.delete(undo);
    try {
      undo();
    } catch {
      // exiting anyway
    }
  }
}
