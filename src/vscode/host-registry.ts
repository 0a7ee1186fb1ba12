// The current host list (user settings + trusted repo file), reloaded when the
// setting, the repo file or the workspace trust changes. Invalid entries are
// kept as problems: shown in the view and the log, never used.

import { type Disposable, EventEmitter, workspace as vscodeWorkspace } from 'vscode';
import { describeProblem, REPO_HOSTS_FILE, type HostEntry, type HostProblem } from '../hosts/hosts.js';
import type { ExtensionLog } from './log.js';
import { setContext } from './context.js';
import { allHosts, SECTION } from './settings.js';

export class HostRegistry implements Disposable {
  private list: HostEntry[] = [];
  private problemList: HostProblem[] = [];
  private readonly changed = new EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private readonly disposables: Disposable[] = [];
  private reported = new Set<string>();

  constructor(private readonly log: ExtensionLog) {
    this.disposables.push(
      vscodeWorkspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration(`${SECTION}.hosts`)) void this.reload();
      }),
      vscodeWorkspace.onDidGrantWorkspaceTrust(() => void this.reload()),
      vscodeWorkspace.onDidChangeWorkspaceFolders(() => void this.reload()),
    );
    const watcher = vscodeWorkspace.createFileSystemWatcher(`**/${REPO_HOSTS_FILE}`);
    watcher.onDidChange(() => void this.reload());
    watcher.onDidCreate(() => void this.reload());
    watcher.onDidDelete(() => void this.reload());
    this.disposables.push(watcher);
  }

  get hosts(): readonly HostEntry[] {
    return this.list;
  }

  get problems(): readonly HostProblem[] {
    return this.problemList;
  }

  find(hostname: string): HostEntry | undefined {
    return this.list.find((h) => h.hostname === hostname);
  }

  async reload(): Promise<void> {
    const { hosts, problems } = await allHosts();
    this.list = hosts;
    this.problemList = problems;
    const now = new Set<string>();
    for (const p of problems) {
      const text = describeProblem(p);
      now.add(text);
      if (!this.reported.has(text)) this.log.error(`Host entry refused: ${text}`);
    }
    this.reported = now;
    await setContext('accessSsh.hasHosts', hosts.length > 0);
    this.changed.fire();
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
