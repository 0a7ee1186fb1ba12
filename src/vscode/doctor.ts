// "Access: Diagnose Connection…": the doctor of src/doctor/, run by the helper launcher
// on the host's entries (the same ssh config, alias and settings a connection uses), its
// report opened as a read-only Markdown document (`access-ssh-doctor:/<host>.md`: named
// after the host, never "Untitled" nor asking to be saved on close), with "Copy Report".

import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Disposable, EventEmitter, ProgressLocation, type Uri, env, window as vscodeWindow, workspace } from 'vscode';
import { hostDocumentUri, hostOfDocument } from './host-document.js';
import type { DoctorReport } from '../doctor/doctor.js';
import type { Services } from './connect.js';
import { renderMarkdown, stepFromJson, stepNext } from '../doctor/report.js';
import { EXTENSION_WORDS } from '../hosts/failure.js';
import { readSettings } from './settings.js';

let lastReport: string | undefined;

const DOCTOR_SCHEME = 'access-ssh-doctor';
/** The last report of each host, served read-only under DOCTOR_SCHEME. */
const reports = new Map<string, string>();
const reportChanged = new EventEmitter<Uri>();

/** The provider of the report documents (registered with the commands). */
export function registerDoctorDocuments(): Disposable {
  return workspace.registerTextDocumentContentProvider(DOCTOR_SCHEME, {
    onDidChange: reportChanged.event,
    provideTextDocumentContent: (uri) => reports.get(hostOfDocument(uri, 'md')) ?? '',
  });
}

/** Runs the doctor for `host` and shows its report; resolves with it. */
export async function diagnose(svc: Services, host: string): Promise<DoctorReport> {
  const settings = readSettings();
  // The entries must be there to be tested: write them as a connection would.
  await svc.sync.sync(svc.registry.hosts).catch((err) => svc.log.warn(`ssh config before the diagnosis: ${String(err)}`));
  const defaultConfig = join(homedir(), '.ssh', 'config');
  // Through the helper (the launcher the entries run, with the settings' routing, CA and
  // proxy in it): the same runDoctor, in the process and environment ssh itself uses.
  // (In process, the websocket probe met the editor's patched networking: code-server's
  // extension host failed the handshake that the helper makes.)
  const launcher = await svc.sync.writeLauncher(settings);
  const args = [
    'doctor',
    '--hostname',
    host,
    '--json',
    '--non-interactive',
    '--alias',
    `cfpipe-${host}`,
    ...(resolve(settings.sshConfigFile) !== defaultConfig ? ['--config', settings.sshConfigFile] : []),
  ];
  const report = await vscodeWindow.withProgress(
    { location: ProgressLocation.Notification, title: `Diagnosing ${host}…`, cancellable: false },
    () => runHelper(launcher, args),
  );
  const markdown = renderMarkdown(report, EXTENSION_WORDS);
  const next = (s: DoctorReport['steps'][number]): string => stepNext(s, report.host, EXTENSION_WORDS) ?? '';
  lastReport = markdown;
  svc.log.info(`Diagnosis of ${host}: ${report.ok ? 'the whole chain works' : `failed at ${report.failed ?? '?'}`}`);
  for (const s of report.steps) {
    if (s.status === 'failed') svc.log.warn(`  ${s.title}: ${[...s.details, `cause: ${s.cause ?? ''}`, `next: ${next(s)}`].join(' | ')}`);
  }
  reports.set(host, markdown);
  const uri = hostDocumentUri(DOCTOR_SCHEME, host, 'md');
  reportChanged.fire(uri);
  const doc = await workspace.openTextDocument(uri);
  await vscodeWindow.showTextDocument(doc, { preview: false });
  const failed = report.steps.find((s) => s.id === report.failed);
  const summary = report.ok
    ? `${host}: the whole chain works.`
    : `${host}: ${failed?.title ?? 'a step'} failed. ${failed ? next(failed) : ''}`;
  void (
    report.ok ? vscodeWindow.showInformationMessage(summary, 'Copy Report') : vscodeWindow.showWarningMessage(summary, 'Copy Report')
  ).then(async (choice) => {
    if (choice === 'Copy Report') await copyReport();
  });
  return report;
}

/** "Access: Copy Diagnosis Report": the last report's Markdown to the clipboard. */
export async function copyReport(): Promise<boolean> {
  if (lastReport === undefined) {
    void vscodeWindow.showInformationMessage('No diagnosis yet: run "Access: Diagnose Connection…" on a host first.');
    return false;
  }
  await env.clipboard.writeText(lastReport);
  void vscodeWindow.showInformationMessage('Copied the diagnosis report (it holds no token, key or proxy secret).');
  return true;
}

/** Runs `<launcher> doctor … --json`; exit 0 and 1 both carry a report on stdout. */
async function runHelper(launcher: string, args: string[]): Promise<DoctorReport> {
  const { execFile } = await import('node:child_process');
  return await new Promise<DoctorReport>((resolvePromise, reject) => {
    execFile(
      launcher,
      args,
      { env: process.env, timeout: 180_000, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' },
      (err, stdout, stderr) => {
        try {
          const report = JSON.parse(stdout) as DoctorReport;
          // The helper worded the actions for a terminal; the extension words them itself.
          resolvePromise({ ...report, steps: report.steps.map(stepFromJson) });
        } catch {
          reject(new Error(`The diagnosis did not finish: ${(stderr || (err ? err.message : '')).trim().split('\n').slice(-3).join(' ')}`));
        }
      },
    );
  });
}
