// The doctor's report as text (the terminal), Markdown (the editor's document) and
// JSON (--json). Every line of a report is already redacted and on one line
// (doctor.ts); these only lay it out. A failed step's next step may be an action
// (sign in, …): each front end passes its own words for it (the helper `cliWords` of
// src/cli/next-step.ts, the extension `EXTENSION_WORDS` of src/hosts/failure.ts).

import { nextStepText, type NextStepWords } from '../base/app-error.js';
import type { DoctorReport, StepResult } from './doctor.js';

/** A failed step's next step in a front end's `words`: its action (for the report's host) and hint, or its text. */
export function stepNext(step: StepResult, host: string, words: NextStepWords): string | undefined {
  if (step.action === undefined) return step.next;
  return nextStepText({ action: step.action, host, ...(step.next !== undefined ? { hint: step.next } : {}) }, words);
}

const MARK: Readonly<Record<StepResult['status'], string>> = { passed: 'ok', failed: 'FAIL', skipped: 'skip' };

function ms(step: StepResult): string {
  return step.status === 'skipped' && step.ms === 0 ? '' : `${step.ms} ms`;
}

/** One block per step: `[ok]   title   12 ms`, then its facts, cause and next step indented. */
export function renderText(report: DoctorReport, words: NextStepWords): string {
  const width = Math.max(...report.steps.map((s) => s.title.length));
  const out = [`Access SSH doctor: ${report.host} (ssh alias ${report.alias}), ${report.startedAt}`, ''];
  for (const s of report.steps) {
    out.push(`[${MARK[s.status]}]${' '.repeat(5 - MARK[s.status].length)}${s.title.padEnd(width)}  ${ms(s).padStart(8)}`.trimEnd());
    for (const d of s.details) out.push(`         ${d}`);
    if (s.status === 'skipped' && s.cause) out.push(`         skipped: ${s.cause}`);
    if (s.status === 'failed') {
      out.push(`         cause: ${s.cause ?? ''}`);
      out.push(`         next:  ${stepNext(s, report.host, words) ?? ''}`);
    }
  }
  out.push('');
  out.push(
    report.ok
      ? 'The whole chain works.'
      : `Failed at "${report.steps.find((s) => s.id === report.failed)?.title ?? report.failed}". Fix that first: later steps depend on it.`,
  );
  return out.join('\n') + '\n';
}

/**
 * Markdown text with nothing the renderer could take as markup from a value. `_` and
 * `#` inside a line make none (intraword `_` is no emphasis; `#` only starts a line), and
 * the document is read raw as often as previewed: they stay as they are.
 */
function md(text: string): string {
  return text.replace(/([\\`*[\]<>|])/g, '\\$1');
}

export function renderMarkdown(report: DoctorReport, words: NextStepWords): string {
  // Words, not emoji: the report opens as text, and an editor font without color emoji
  // shows boxes. The failure is the one in bold.
  const result: Readonly<Record<StepResult['status'], string>> = { passed: 'passed', failed: '**failed**', skipped: 'skipped' };
  const out = [
    `# Access SSH doctor: ${md(report.host)}`,
    '',
    `ssh alias \`${report.alias}\` · ${report.startedAt} · **${report.ok ? 'the whole chain works' : `failed at ${md(report.steps.find((s) => s.id === report.failed)?.title ?? '')}`}**`,
    '',
    '| step | result | time |',
    '| --- | --- | --- |',
    ...report.steps.map((s) => `| ${md(s.title)} | ${result[s.status]} | ${ms(s)} |`),
    '',
  ];
  for (const s of report.steps) {
    out.push(`## ${md(s.title)}: ${result[s.status]}`, '');
    for (const d of s.details) out.push(`- ${md(d)}`);
    if (s.status === 'skipped' && s.cause) out.push(`- skipped: ${md(s.cause)}`);
    if (s.status === 'failed') {
      out.push('', `**Cause:** ${md(s.cause ?? '')}`, '', `**Next step:** ${md(stepNext(s, report.host, words) ?? '')}`);
    }
    out.push('');
  }
  out.push('_Tokens, keys and proxy credentials are never part of this report: it is safe to share._', '');
  return out.join('\n');
}

/**
 * The report as JSON: a step with an action keeps it and its hint (`hint`), and its
 * `next` is the whole next step in `words` (the helper's), so that a script reads one
 * text and the extension words the action itself.
 */
export function renderJson(report: DoctorReport, words: NextStepWords): string {
  const steps = report.steps.map((s) => {
    if (s.action === undefined) return s;
    const { next: hint, ...rest } = s;
    return { ...rest, ...(hint !== undefined ? { hint } : {}), next: stepNext(s, report.host, words) };
  });
  return JSON.stringify({ ...report, steps }, null, 2) + '\n';
}

/** A step of `renderJson`'s output read back: its hint is `next` again, for `stepNext`. */
export function stepFromJson(step: StepResult & { readonly hint?: string }): StepResult {
  if (step.action === undefined) return step;
  const { hint, next: _worded, ...rest } = step;
  return { ...rest, ...(hint !== undefined ? { next: hint } : {}) };
}
