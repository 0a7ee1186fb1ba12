// Tells when a directory's files may have changed: fs.watch while the directory
// exists, a 5 s poll until it does (~/.cloudflared appears on the first login), and
// bursts of events coalesced into one call. No editor: src/vscode/access-state.ts
// reloads the token files on it. The poll and the wait run on an injected clock.

import { type FSWatcher, existsSync, watch as fsWatch } from 'node:fs';
import type { Logger } from '../access/types.js';
import { every, realClock, type Clock } from './renewal.js';

/** How long a burst of file events is waited out. */
const DEBOUNCE_MS = 150;
/** How often a directory that does not exist (or cannot be watched) is looked for. */
const POLL_MS = 5000;

export class DirWatch {
  private watcher: FSWatcher | undefined;
  private poll: { dispose(): void } | undefined;
  private debounce: unknown;
  private disposed = false;

  constructor(
    readonly dir: string,
    private readonly onChange: () => void,
    private readonly log: Pick<Logger, 'debug'>,
    private readonly clock: Clock = realClock,
  ) {}

  /** Watch the directory, or poll until it can be watched. */
  start(): void {
    if (this.disposed || this.watcher) return;
    try {
      this.watcher = fsWatch(this.dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => {
        this.log.debug(`Watching ${this.dir} stopped: ${err.message}`);
        this.watcher?.close();
        this.watcher = undefined;
        this.pollUntilWatchable();
      });
      this.poll?.dispose();
      this.poll = undefined;
    } catch {
      this.pollUntilWatchable();
    }
  }

  private pollUntilWatchable(): void {
    if (this.disposed || this.poll) return;
    this.poll = every(this.clock, POLL_MS, () => {
      if (existsSync(this.dir)) {
        this.poll?.dispose();
        this.poll = undefined;
        this.start();
        this.schedule();
      }
    });
  }

  /** Calls onChange after `delayMs` (a later call within it starts the wait again). */
  schedule(delayMs = DEBOUNCE_MS): void {
    if (this.disposed) return;
    if (this.debounce !== undefined) this.clock.clearTimeout(this.debounce);
    this.debounce = this.clock.setTimeout(() => {
      this.debounce = undefined;
      this.onChange();
    }, delayMs);
  }

  dispose(): void {
    this.disposed = true;
    this.watcher?.close();
    this.watcher = undefined;
    this.poll?.dispose();
    if (this.debounce !== undefined) this.clock.clearTimeout(this.debounce);
  }
}
