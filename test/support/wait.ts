// Waiting on a condition instead of sleeping a fixed time: polls `cond` until it holds,
// and fails naming what it waited for when the deadline passes. The deadline is generous:
// it is there so that a hang fails with a name, not to claim a speed.

export interface WaitOptions {
  /** What is awaited, for the error: "the listener's port", "squid's CONNECT line". */
  what: string;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Between two checks; default 50 ms. */
  intervalMs?: number;
}

/** Resolves with the first truthy value of `cond`; rejects after `timeoutMs`. */
export async function waitFor<T>(
  cond: () => T | Promise<T>,
  { what, timeoutMs = 60_000, intervalMs = 50 }: WaitOptions,
): Promise<NonNullable<T>> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await cond();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out after ${Math.round(timeoutMs / 1000)} s waiting for ${what}`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}
