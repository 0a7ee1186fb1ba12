// Figures the tests report (the README and docs/SECURITY.md quote them): generated-case
// counts scaled by ACCESS_SSH_PROPERTY_SCALE, and tallies of inputs tried per class.

/** ACCESS_SSH_PROPERTY_SCALE (default 1) multiplies the property tests' case counts. */
export const SCALE = Number(process.env['ACCESS_SSH_PROPERTY_SCALE'] ?? 1);

/** `n` cases, scaled; at least one. */
export const runs = (n: number): number => Math.max(1, Math.round(n * SCALE));

/** Counts per class, and their total. */
export class Tally {
  readonly counts = new Map<string, number>();

  note(cls: string): void {
    this.counts.set(cls, (this.counts.get(cls) ?? 0) + 1);
  }

  get total(): number {
    return [...this.counts.values()].reduce((a, b) => a + b, 0);
  }

  /** `# <what>: {"class":n,…} = total` on stdout (a diagnostic line in the test report). */
  report(what: string): void {
    process.stdout.write(`# ${what}: ${JSON.stringify(Object.fromEntries(this.counts))} = ${this.total}\n`);
  }
}
