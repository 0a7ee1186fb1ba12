// When to renew a host's certificate in a window connected through us, and the timer
// that does it. Pure policy on an injected clock, so it is tested without an editor or
// real time; src/vscode/status-bar.ts runs it with the real clock.

/** After a failed renewal, the next attempt (a sign-in elsewhere re-arms it sooner). */
export const RETRY_AFTER_FAILURE_MS = 60_000;
/** After a renewal, the earliest next one: never a loop against an edge that issues short certificates. */
export const MIN_DELAY_AFTER_RENEWAL_MS = 30_000;
/** The earliest first attempt, so that a burst of state changes makes one renewal. */
export const MIN_DELAY_MS = 1_000;

/** Milliseconds until a certificate valid until `validBeforeS` should be renewed: at the margin, at once when there is none. */
export function renewalDelayMs(validBeforeS: number | undefined, marginSeconds: number, nowMs: number, minDelayMs = MIN_DELAY_MS): number {
  const dueMs = validBeforeS === undefined ? 0 : (validBeforeS - marginSeconds) * 1000 - nowMs;
  return Math.max(dueMs, minDelayMs);
}

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Time and timers of the process; a pending timer does not keep the process alive (the editor does). */
export const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms).unref(),
  clearTimeout: (handle) => clearTimeout(handle as NodeJS.Timeout),
};

/**
 * Runs `fn` every `ms` on `clock`, the first time `ms` from now, until disposed (a
 * `setInterval` on the injected clock: the session-end warnings, the background
 * app-token renewal). The next run is armed before `fn` runs, so a throwing `fn` does
 * not stop it.
 */
export function every(clock: Clock, ms: number, fn: () => void): { dispose(): void } {
  let handle: unknown;
  let stopped = false;
  const arm = (): void => {
    handle = clock.setTimeout(() => {
      if (stopped) return;
      arm();
      fn();
    }, ms);
  };
  arm();
  return {
    dispose: () => {
      stopped = true;
      clock.clearTimeout(handle);
    },
  };
}

export interface RenewalOptions {
  readonly clock: Clock;
  /** The current certificate's end (seconds since the epoch), if there is one. */
  validBefore(): number | undefined;
  marginSeconds(): number;
  /** Renews; resolves false when the user cancelled (no retry then). */
  renew(): Promise<boolean>;
  /** A renewal failed; the scheduler tries again after RETRY_AFTER_FAILURE_MS. */
  onFailure(err: unknown): void;
}

/** One timer per host: armed to the margin, re-armed on every state change and after each renewal. */
export class RenewalScheduler {
  private timer: unknown;
  private disposed = false;

  constructor(private readonly opts: RenewalOptions) {}

  /** Re-arms the timer for the current certificate (call on every state change). */
  reschedule(minDelayMs = MIN_DELAY_MS): void {
    const { clock } = this.opts;
    this.arm(renewalDelayMs(this.opts.validBefore(), this.opts.marginSeconds(), clock.now(), minDelayMs));
  }

  private arm(ms: number): void {
    if (this.disposed) return;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = this.opts.clock.setTimeout(() => void this.run(), ms);
  }

  private async run(): Promise<void> {
    this.timer = undefined;
    try {
      if (await this.opts.renew()) this.reschedule(MIN_DELAY_AFTER_RENEWAL_MS);
    } catch (err) {
      // Disposed meanwhile (the window closed): nobody to tell, nothing to retry.
      if (this.disposed) return;
      this.opts.onFailure(err);
      this.arm(RETRY_AFTER_FAILURE_MS);
    }
  }

  dispose(): void {
    this.disposed = true;
    if (this.timer !== undefined) this.opts.clock.clearTimeout(this.timer);
    this.timer = undefined;
  }
}
