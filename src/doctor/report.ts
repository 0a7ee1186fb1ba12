// The doctor's report as text (the terminal), Markdown (the editor's document) and
// JSON (--json). Every line of a report is already redacted and on one line
// (doctor.ts); these only lay it out.

import type { DoctorReport, StepResult } from './doctor.js';

const MARK: Readonly<Record<StepResult['status'], string>> = { passed: 'ok', failed: 'FAIL', skipped: 'skip' };

function ms(step: StepResult): string {
  return step.status === 'skipped' && step.ms === 0 ? '' : `${step.ms} ms`;
}

/** One block per step: `[ok]   title   12 ms`, then its facts, cause and next step indented. */
export function renderText(report: DoctorReport): string {
  const width = Math.max(...report.steps.map((s) => s.title.length));
  const out = [`Access SSH doctor: ${report.host} (ssh alias ${report.alias}), ${report.startedAt}`, ''];
  for (const s of report.steps) {
    out.push(`[${MARK[s.status]}]${' '.repeat(5 - MARK[s.status].length)}${s.title.padEnd(width)}  ${ms(s).padStart(8)}`.trimEnd());
    for (const d of s.details) out.push(`         ${d}`);
    if (s.status === 'skipped' && s.cause) out.push(`         skipped: ${s.cause}`);
    if (s.status === 'failed') {
      out.push(`         cause: ${s.cause ?? ''}`);
      out.push(`         next:  ${s.next ?? ''}`);
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

export function renderMarkdown(report: DoctorReport): string {
  const icon: Readonly<Record<StepResult['status'], string>> = { passed: '✅ passed', failed: '❌ failed', skipped: '⏭ skipped' };
  const out = [
    `# Access SSH doctor: ${md(report.host)}`,
    '',
    `ssh alias \`${report.alias}\` · ${report.startedAt} · **${report.ok ? 'the whole chain works' : `failed at ${md(report.steps.find((s) => s.id === report.failed)?.title ?? '')}`}**`,
    '',
    '| step | result | time |',
    '| --- | --- | --- |',
    ...report.steps.map((s) => `| ${md(s.title)} | ${icon[s.status]} | ${ms(s)} |`),
    '',
  ];
  for (const s of report.steps) {
    out.push(`## ${icon[s.status].split(' ')[0]} ${md(s.title)}`, '');
    for (const d of s.details) out.push(`- ${md(d)}`);
    if (s.status === 'skipped' && s.cause) out.push(`- skipped: ${md(s.cause)}`);
    if (s.status === 'failed') {
      out.push('', `**Cause:** ${md(s.cause ?? '')}`, '', `**Next step:** ${md(s.next ?? '')}`);
    }
    out.push('');
  }
  out.push('_Tokens, keys and proxy credentials are never part of this report: it is safe to share._', '');
  return out.join('\n');
}

export function renderJson(report: DoctorReport): string {
  return JSON.stringify(report, null, 2) + '\n';
}
