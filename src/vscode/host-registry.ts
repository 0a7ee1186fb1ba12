// The current host list (user settings + trusted repo file), reloaded when the
// setting, the repo file or the workspace trust changes. Invalid entries are
// kept as problems: shown in the view and the log, never used. Apart from it,
// the hosts only `access-ssh config add` lists (the managed file's host list),
// re-read when that file changes: the view shows them as added from the command line.

import { homedir } from 'node:os';
import { dirname } from 'node:path';
import { type Disposable, EventEmitter, RelativePattern, Uri, workspace as vscodeWorkspace } from 'vscode';
import { cliOnlyHosts, describeProblem, REPO_HOSTS_FILE, type HostEntry, type HostProblem, type ListedHost } from '../hosts/hosts.js';
import { managedConfigPath, readManagedHosts } from '../ssh/managed-hosts.js';
import type { ExtensionLog } from './log.js';
import { setContext } from './context.js';
import { allHosts, SECTION } from './settings.js';

export class HostRegistry implements Disposable {
  private list: HostEntry[] = [];
  private problemList: HostProblem[] = [];
  private managed: readonly ListedHost[] = [];
  private cliList: HostEntry[] = [];
  private managedProblem: string | undefined;
  /** The file `access-ssh config` and the extension share. */
  readonly managedFile = managedConfigPath(homedir());
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
    // The managed file (outside any workspace): a host added or removed in a terminal shows up.
    const managed = vscodeWorkspace.createFileSystemWatcher(new RelativePattern(Uri.file(dirname(this.managedFile)), 'config'));
    managed.onDidChange(() => void this.reloadCli());
    managed.onDidCreate(() => void this.reloadCli());
    managed.onDidDelete(() => void this.reloadCli());
    this.disposables.push(managed);
  }

  /** Hosts only `access-ssh config add` lists (not in settings nor the repository's file). */
  get cliHosts(): readonly HostEntry[] {
    return this.cliList;
  }

  /** Who lists `hostname` in the managed file (`cli`, `vscode`), [] when it is not there. */
  managedFrom(hostname: string): readonly string[] {
    return this.managed.find((h) => h.hostname === hostname)?.from ?? [];
  }

  private async readManaged(): Promise<void> {
    try {
      this.managed = await readManagedHosts(this.managedFile);
      this.managedProblem = undefined;
    } catch (err) {
      const text = err instanceof Error ? err.message : String(err);
      if (text !== this.managedProblem) this.log.warn(`Reading the host list of ${this.managedFile}: ${text}`);
      this.managedProblem = text;
      this.managed = [];
    }
    this.cliList = cliOnlyHosts(this.managed, this.list);
  }

  /** The managed file changed: re-read its list; tell the view only when the CLI's hosts changed. */
  async reloadCli(): Promise<void> {
    const before = JSON.stringify(this.cliList);
    await this.readManaged();
    if (JSON.stringify(this.cliList) !== before) this.changed.fire();
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

  /** Every host the view shows: the list, then the command line's. */
  get allHosts(): readonly HostEntry[] {
    return [...this.list, ...this.cliList];
  }

  async reload(): Promise<void> {
    const { hosts, problems } = await allHosts();
    this.list = hosts;
    this.problemList = problems;
    await this.readManaged();
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
