// Small statistics for the benchmark: median, min, max of a series.

export interface Summary {
  readonly median: number;
  readonly min: number;
  readonly max: number;
  readonly runs: number;
}

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const mid = s.length >> 1;
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function summarize(xs: readonly number[]): Summary {
  const ok = xs.filter((x) => Number.isFinite(x));
  return { median: median(ok), min: Math.min(...ok), max: Math.max(...ok), runs: ok.length };
}

/** Median of the per-run ratios a[i]/b[i] (runs taken side by side), with min and max. */
export function ratios(a: readonly number[], b: readonly number[]): Summary {
  const r: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) if (b[i]! > 0) r.push(a[i]! / b[i]!);
  return summarize(r);
}

/** Median of the per-run differences a[i]-b[i], with min and max. */
export function differences(a: readonly number[], b: readonly number[]): Summary {
  const d: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) d.push(a[i]! - b[i]!);
  return summarize(d);
}
