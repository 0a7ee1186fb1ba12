// Child process of the benchmark (`npm run bench`): loads the bundled extension
// (dist/extension.js) in plain Node with a minimal `vscode` module shim and times
//   require   – loading the bundle (parse + top-level code),
//   activate  – `activate(context)` until its promise resolves,
// and, with `--hosts N`, the Access hosts view building its N tree items
// (getChildren + getTreeItem of the real HostsView) and the ssh config written
// for N hosts (the real SshConfigSync.sync: renderEntries + writeManagedFile +
// the Include line).
//
// This is a shim measurement, not VS Code's own: the extension host adds its
// own work (its module loader, the API objects, IPC to the renderer) that is the
// same for every extension. The shim answers every API call at once, so what
// is timed is the extension's own code. Run once per process (cold require).
//
//   node out/test/bench/activate-child.js <extension.js> [--hosts N]
// HOME must point to a scratch directory (the extension writes ~/.ssh/access-ssh/config).

import Module from 'node:module';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const extensionFile = process.argv[2];
const hostsAt = process.argv.indexOf('--hosts');
const hostCount = hostsAt > 0 ? Number(process.argv[hostsAt + 1]) : 0;
if (!extensionFile) {
  process.stderr.write('usage: activate-child.js <extension.js> [--hosts N]\n');
  process.exit(2);
}
const home = process.env['HOME'] ?? '/tmp';

type Listener = (e: unknown) => unknown;

class EventEmitter<T = unknown> {
  private listeners = new Set<Listener>();
  event = (l: Listener): { dispose(): void } => {
    this.listeners.add(l);
    return { dispose: () => this.listeners.delete(l) };
  };
  fire(e?: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  dispose(): void {
    this.listeners.clear();
  }
}

class Disposable {
  constructor(private readonly fn: () => void = () => {}) {}
  static from(...ds: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => ds.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

const noopEvent = (): { dispose(): void } => ({ dispose() {} });
const disposable = (): { dispose(): void } => ({ dispose() {} });

class Uri {
  constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query = '',
    readonly fragment = '',
  ) {}
  get fsPath(): string {
    return this.path;
  }
  static file(p: string): Uri {
    return new Uri('file', '', p);
  }
  static parse(s: string): Uri {
    const u = new URL(s);
    return new Uri(u.protocol.replace(/:$/, ''), u.host, decodeURIComponent(u.pathname), u.search.replace(/^\?/, ''));
  }
  static joinPath(base: Uri, ...parts: string[]): Uri {
    return new Uri(base.scheme, base.authority, join(base.path, ...parts));
  }
  with(change: Partial<{ scheme: string; path: string; query: string }>): Uri {
    return new Uri(change.scheme ?? this.scheme, this.authority, change.path ?? this.path, change.query ?? this.query);
  }
  toString(): string {
    return `${this.scheme}://${this.authority}${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

/** A glob under a base folder, as createFileSystemWatcher takes it (the managed file's watch). */
class RelativePattern {
  constructor(
    readonly base: Uri | string,
    readonly pattern: string,
  ) {}
}

class TreeItem {
  [k: string]: unknown;
  constructor(
    readonly label: unknown,
    readonly collapsibleState?: number,
  ) {}
}
class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: unknown,
  ) {}
}
class ThemeColor {
  constructor(readonly id: string) {}
}
class MarkdownString {
  value: string;
  supportHtml = false;
  isTrusted = false;
  constructor(
    value?: string,
    readonly supportThemeIcons?: boolean,
  ) {
    this.value = value ?? '';
  }
  appendMarkdown(s: string): this {
    this.value += s;
    return this;
  }
  appendText(s: string): this {
    this.value += s;
    return this;
  }
}
class Range {
  constructor(
    readonly a: unknown,
    readonly b: unknown,
    readonly c?: unknown,
    readonly d?: unknown,
  ) {}
}
class CancellationError extends Error {}

let treeProvider: { getChildren(e?: unknown): unknown[]; getTreeItem(n: unknown): unknown } | undefined;

const settings: Record<string, unknown> = {
  'accessSSH.hosts': Array.from({ length: hostCount }, (_, i) => `host-${i}.bench.test`),
};

const logChannel = (): Record<string, unknown> => {
  const f = (): void => {};
  return {
    name: 'Access SSH',
    logLevel: 2,
    onDidChangeLogLevel: noopEvent,
    trace: f,
    debug: f,
    info: f,
    warn: f,
    error: f,
    append: f,
    appendLine: f,
    replace: f,
    clear: f,
    show: f,
    hide: f,
    dispose: f,
  };
};

const vscodeShim = {
  EventEmitter,
  Disposable,
  Uri,
  RelativePattern,
  TreeItem,
  ThemeIcon,
  ThemeColor,
  MarkdownString,
  Range,
  CancellationError,
  TreeItemCollapsibleState: { None: 0, Collapsed: 1, Expanded: 2 },
  StatusBarAlignment: { Left: 1, Right: 2 },
  ProgressLocation: { SourceControl: 1, Window: 10, Notification: 15 },
  ConfigurationTarget: { Global: 1, Workspace: 2, WorkspaceFolder: 3 },
  LogLevel: { Off: 0, Trace: 1, Debug: 2, Info: 3, Warning: 4, Error: 5 },
  version: '1.99.0',
  env: {
    appName: 'Visual Studio Code',
    remoteName: undefined,
    uriScheme: 'vscode',
    machineId: 'bench',
    sessionId: 'bench',
    clipboard: { readText: async () => '', writeText: async () => {} },
    openExternal: async () => true,
  },
  window: {
    createOutputChannel: logChannel,
    createTreeView: (_id: string, opts: { treeDataProvider: typeof treeProvider }) => {
      treeProvider = opts.treeDataProvider;
      return {
        visible: false,
        badge: undefined,
        onDidChangeVisibility: noopEvent,
        onDidChangeSelection: noopEvent,
        reveal: async () => {},
        dispose() {},
      };
    },
    registerTreeDataProvider: disposable,
    registerUriHandler: disposable,
    createStatusBarItem: () => ({ show() {}, hide() {}, dispose() {} }),
    createTerminal: () => ({ show() {}, sendText() {}, dispose() {} }),
    showErrorMessage: async () => undefined,
    showWarningMessage: async () => undefined,
    showInformationMessage: async () => undefined,
    showInputBox: async () => undefined,
    showQuickPick: async () => undefined,
    showTextDocument: async () => undefined,
    withProgress: async (_o: unknown, task: (p: unknown, t: unknown) => unknown) =>
      task({ report() {} }, { isCancellationRequested: false, onCancellationRequested: noopEvent }),
    onDidChangeWindowState: noopEvent,
    onDidChangeActiveTextEditor: noopEvent,
    state: { focused: true },
  },
  workspace: {
    getConfiguration: (section?: string) => ({
      get: (key: string, fallback?: unknown) => settings[section ? `${section}.${key}` : key] ?? fallback,
      has: () => false,
      inspect: (key: string) => {
        const v = settings[section ? `${section}.${key}` : key];
        return { key, defaultValue: undefined, globalValue: v };
      },
      update: async () => {},
    }),
    onDidChangeConfiguration: noopEvent,
    onDidChangeWorkspaceFolders: noopEvent,
    onDidCloseTextDocument: noopEvent,
    onDidGrantWorkspaceTrust: noopEvent,
    createFileSystemWatcher: () => ({ onDidChange: noopEvent, onDidCreate: noopEvent, onDidDelete: noopEvent, dispose() {} }),
    registerTextDocumentContentProvider: disposable,
    openTextDocument: async () => undefined,
    fs: { readFile: async () => new Uint8Array(), stat: async () => ({}) },
    isTrusted: true,
    workspaceFolders: undefined,
    workspaceFile: undefined,
  },
  commands: {
    registerCommand: disposable,
    executeCommand: async () => undefined,
  },
  authentication: {
    registerAuthenticationProvider: disposable,
    getSession: async () => undefined,
    onDidChangeSessions: noopEvent,
  },
  extensions: { all: [], getExtension: () => undefined, onDidChange: noopEvent },
  l10n: { t: (s: string) => s },
};

// `require('vscode')` from the bundle gets the shim.
const M = Module as unknown as { _load(request: string, parent: unknown, isMain: boolean): unknown };
const originalLoad = M._load;
M._load = function load(request: string, parent: unknown, isMain: boolean): unknown {
  if (request === 'vscode') return vscodeShim;
  return originalLoad.call(this, request, parent, isMain);
};

class Memento {
  private data = new Map<string, unknown>();
  get<T>(key: string, fallback?: T): T | undefined {
    return (this.data.has(key) ? this.data.get(key) : fallback) as T | undefined;
  }
  keys(): string[] {
    return [...this.data.keys()];
  }
  async update(key: string, value: unknown): Promise<void> {
    this.data.set(key, value);
  }
  setKeysForSync(): void {}
}

async function main(): Promise<void> {
  const storage = join(home, 'global-storage');
  mkdirSync(storage, { recursive: true });
  const extensionPath = join(extensionFile!, '..', '..');
  const context = {
    subscriptions: [] as { dispose(): unknown }[],
    globalState: new Memento(),
    workspaceState: new Memento(),
    secrets: { get: async () => undefined, store: async () => {}, delete: async () => {}, onDidChange: noopEvent },
    extensionPath,
    extensionUri: Uri.file(extensionPath),
    globalStorageUri: Uri.file(storage),
    globalStoragePath: storage,
    logUri: Uri.file(join(home, 'logs')),
    storageUri: undefined,
    extensionMode: 1,
    extension: { id: 'access-ssh.access-ssh', packageJSON: { version: 'bench' }, extensionPath },
    environmentVariableCollection: { replace() {}, append() {}, prepend() {}, clear() {} },
    asAbsolutePath: (p: string) => join(extensionPath, p),
  };

  const t0 = performance.now();
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const ext = require(extensionFile!) as {
    activate(ctx: unknown): Promise<{ services: { registry: { hosts: unknown[] }; sync: { sync(h: unknown[]): Promise<void> } } }>;
  };
  const t1 = performance.now();
  const api = await ext.activate(context);
  const t2 = performance.now();
  const out: Record<string, number> = { requireMs: t1 - t0, activateMs: t2 - t1, totalMs: t2 - t0 };

  if (hostCount > 0) {
    const hosts = api.services.registry.hosts;
    if (hosts.length !== hostCount) throw new Error(`the registry holds ${hosts.length} hosts, expected ${hostCount}`);
    if (!treeProvider) throw new Error('the extension created no tree view');
    // Let the write started by activation (registry change) settle first.
    await api.services.sync.sync(hosts);
    const v0 = performance.now();
    const nodes = treeProvider.getChildren();
    for (const n of nodes) treeProvider.getTreeItem(n);
    const v1 = performance.now();
    // A changed list: one host fewer, so the file's content differs and is really rewritten
    // (lock, compare-and-swap, staged write, fsync of file and directory). The order of the
    // list does not matter: the file is sorted, so a reversed list would rewrite nothing.
    const changed = [...hosts].reverse().slice(1);
    const c0 = process.cpuUsage();
    const s0 = performance.now();
    await api.services.sync.sync(changed);
    const s1 = performance.now();
    const c1 = process.cpuUsage(c0);
    out['viewItems'] = nodes.length;
    out['viewMs'] = v1 - v0;
    out['sshConfigMs'] = s1 - s0;
    // CPU time of the same write (this process's threads): what the machine's load moves least.
    out['sshConfigCpuMs'] = (c1.user + c1.system) / 1000;
    out['hostsTotalMs'] = v1 - v0 + (s1 - s0);
  }
  for (const d of context.subscriptions) {
    try {
      d.dispose();
    } catch {
      // shim objects
    }
  }
  process.stdout.write(JSON.stringify(out) + '\n');
  process.exit(0);
}

main().catch((err: Error) => {
  process.stderr.write(`activate-child: ${err.stack ?? err.message}\n`);
  process.exit(1);
});
