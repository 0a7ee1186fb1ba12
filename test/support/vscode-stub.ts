// A small stand-in for the `vscode` module, for unit tests of src/vscode/ under plain
// `node --test` (no editor). test/support/vscode.ts makes `require('vscode')` load this
// file; tests import it too, to answer the editor's questions and read what it was shown.
// It implements only what src/vscode uses, with VS Code's documented behaviour (events fire
// synchronously to every listener; a dismissed message or pick resolves to undefined;
// configuration updates fire onDidChangeConfiguration). Nothing here imports `vscode`.

import { promises as fsp } from 'node:fs';
import { join, posix } from 'node:path';

type Listener<T> = (e: T) => unknown;

export class Disposable {
  constructor(private readonly fn: () => unknown) {}
  static from(...items: { dispose(): unknown }[]): Disposable {
    return new Disposable(() => items.forEach((d) => d.dispose()));
  }
  dispose(): void {
    this.fn();
  }
}

export class EventEmitter<T> {
  private readonly listeners = new Set<Listener<T>>();
  readonly event = (listener: Listener<T>, thisArg?: unknown, disposables?: { dispose(): unknown }[]): Disposable => {
    const l: Listener<T> = thisArg === undefined ? listener : (e) => listener.call(thisArg, e);
    this.listeners.add(l);
    const d = new Disposable(() => this.listeners.delete(l));
    disposables?.push(d);
    return d;
  };
  fire(e: T): void {
    for (const l of [...this.listeners]) l(e);
  }
  /** How many listeners are subscribed (a disposed subscriber is gone). */
  get listenerCount(): number {
    return this.listeners.size;
  }
  dispose(): void {
    this.listeners.clear();
  }
}

export class CancellationError extends Error {
  constructor() {
    super('Canceled');
    this.name = 'Canceled';
  }
}

// VS Code's enums, with its values.
export const TreeItemCollapsibleState = { None: 0, Collapsed: 1, Expanded: 2 } as const;
export const ProgressLocation = { SourceControl: 1, Window: 10, Notification: 15 } as const;
export const StatusBarAlignment = { Left: 1, Right: 2 } as const;
export const ConfigurationTarget = { Global: 1, Workspace: 2, WorkspaceFolder: 3 } as const;
export const ExtensionKind = { UI: 1, Workspace: 2 } as const;

export class ThemeColor {
  constructor(readonly id: string) {}
}

export class ThemeIcon {
  constructor(
    readonly id: string,
    readonly color?: ThemeColor,
  ) {}
}

export class MarkdownString {
  isTrusted?: boolean;
  supportHtml?: boolean;
  constructor(
    public value = '',
    public supportThemeIcons = false,
  ) {}
  appendMarkdown(value: string): this {
    this.value += value;
    return this;
  }
  appendText(value: string): this {
    this.value += value.replace(/[\\`*_{}[\]()#+\-.!]/g, '\\$&');
    return this;
  }
}

export class TreeItem {
  id?: string;
  description?: string | boolean;
  tooltip?: string | MarkdownString;
  iconPath?: ThemeIcon;
  contextValue?: string;
  accessibilityInformation?: { label: string };
  command?: { title: string; command: string; arguments?: unknown[] };
  constructor(
    public label: string,
    public collapsibleState: number = TreeItemCollapsibleState.None,
  ) {}
}

export class Range {
  constructor(
    readonly startLine: number,
    readonly startCharacter: number,
    readonly endLine: number,
    readonly endCharacter: number,
  ) {}
}

export class Uri {
  private constructor(
    readonly scheme: string,
    readonly authority: string,
    readonly path: string,
    readonly query: string,
    readonly fragment: string,
  ) {}
  static file(path: string): Uri {
    return new Uri('file', '', path, '', '');
  }
  static parse(value: string): Uri {
    const u = new URL(value);
    return new Uri(u.protocol.slice(0, -1), u.host, decodeURIComponent(u.pathname), u.search.slice(1), u.hash.slice(1));
  }
  static from(c: { scheme: string; authority?: string; path?: string; query?: string; fragment?: string }): Uri {
    return new Uri(c.scheme, c.authority ?? '', c.path ?? '', c.query ?? '', c.fragment ?? '');
  }
  static joinPath(base: Uri, ...segments: string[]): Uri {
    return new Uri(base.scheme, base.authority, posix.join(base.path, ...segments), base.query, base.fragment);
  }
  get fsPath(): string {
    return this.path;
  }
  with(c: { scheme?: string; authority?: string; path?: string; query?: string }): Uri {
    return new Uri(c.scheme ?? this.scheme, c.authority ?? this.authority, c.path ?? this.path, c.query ?? this.query, this.fragment);
  }
  toString(): string {
    return `${this.scheme}://${this.authority}${this.path}${this.query ? `?${this.query}` : ''}`;
  }
}

/** A glob under a base folder (the managed ssh config's watcher uses one). */
export class RelativePattern {
  constructor(
    readonly base: Uri | string,
    readonly pattern: string,
  ) {}
}

/** A Memento (globalState) kept in memory. */
export class Memento {
  private readonly values = new Map<string, unknown>();
  keys(): readonly string[] {
    return [...this.values.keys()];
  }
  get<T>(key: string, fallback?: T): T | undefined {
    return this.values.has(key) ? (structuredClone(this.values.get(key)) as T) : fallback;
  }
  update(key: string, value: unknown): Promise<void> {
    if (value === undefined) this.values.delete(key);
    else this.values.set(key, structuredClone(value));
    return Promise.resolve();
  }
  setKeysForSync(): void {}
}

// ---------------------------------------------------------------------------
// What the editor shows and asks, recorded; the test's answers.

/** A question the extension put to the user. */
export type Question =
  | { kind: 'info' | 'warning' | 'error'; message: string; items: string[]; modal: boolean; detail?: string }
  | { kind: 'quickPick'; items: QuickPickItemLike[]; placeHolder?: string; title?: string }
  | { kind: 'inputBox'; title?: string; value?: string; validateInput?: (v: string) => unknown };

export interface QuickPickItemLike {
  label: string;
  description?: string;
  detail?: string;
  [key: string]: unknown;
}

export interface ProgressShown {
  title: string;
  cancellable: boolean;
  messages: string[];
  /** Cancels the task (as the notification's Cancel button does). */
  cancel(): void;
}

export interface StatusItem {
  id: string;
  text: string;
  name?: string;
  tooltip?: string | MarkdownString;
  backgroundColor?: ThemeColor;
  command?: unknown;
  visible: boolean;
  disposed: boolean;
  show(): void;
  hide(): void;
  dispose(): void;
}

export interface FakeTreeView {
  id: string;
  visible: boolean;
  description?: string;
  badge?: { value: number; tooltip: string };
  message?: string;
  readonly dataProvider: unknown;
  readonly onDidChangeVisibility: EventEmitter<{ visible: boolean }>['event'];
  /** Shows or hides the view as the user would. */
  setVisible(visible: boolean): void;
  dispose(): void;
}

/** Everything recorded since the last reset(); `answer` decides what the user replies. */
export const ui = {
  asked: [] as Question[],
  /** The user's reply: a button, a picked item, typed text; undefined = dismissed. */
  answer: (_q: Question): unknown => undefined,
  progress: [] as ProgressShown[],
  statusMessages: [] as string[],
  statusItems: [] as StatusItem[],
  treeViews: [] as FakeTreeView[],
  log: [] as { level: string; message: string }[],
  logShown: 0,
  openedExternal: [] as string[],
  /** What env.openExternal answers (false: the user declined the prompt). */
  openExternalResult: true,
  terminals: [] as { name: string; sent: string[]; shown: boolean }[],
  documentsShown: [] as unknown[],
  /** The messages (info, warning, error), in order. */
  messages(kind?: 'info' | 'warning' | 'error'): string[] {
    return this.asked.flatMap((q) => (q.kind !== 'quickPick' && q.kind !== 'inputBox' && (!kind || q.kind === kind) ? [q.message] : []));
  },
};

/** Fires for every question, as it is asked. */
export const questionAsked = new EventEmitter<Question>();

function ask(q: Question): Promise<unknown> {
  ui.asked.push(q);
  questionAsked.fire(q);
  return Promise.resolve(ui.answer(q));
}

function message(kind: 'info' | 'warning' | 'error') {
  return (text: string, ...rest: unknown[]): Promise<unknown> => {
    let options: { modal?: boolean; detail?: string } = {};
    if (rest.length > 0 && typeof rest[0] === 'object' && rest[0] !== null && !('title' in rest[0])) {
      options = rest.shift() as typeof options;
    }
    const items = rest.map((r) => (typeof r === 'string' ? r : String((r as { title?: unknown }).title)));
    return ask({
      kind,
      message: text,
      items,
      modal: options.modal === true,
      ...(options.detail !== undefined ? { detail: options.detail } : {}),
    });
  };
}

function outputChannel(name: string) {
  const line = (level: string) => (m: string) => void ui.log.push({ level, message: m });
  return {
    name,
    trace: line('trace'),
    debug: line('debug'),
    info: line('info'),
    warn: line('warn'),
    error: line('error'),
    appendLine: line('info'),
    show: () => void ui.logShown++,
    dispose: () => undefined,
  };
}

export const window = {
  showInformationMessage: message('info'),
  showWarningMessage: message('warning'),
  showErrorMessage: message('error'),
  showQuickPick: async (
    items: QuickPickItemLike[] | Promise<QuickPickItemLike[]>,
    options: { placeHolder?: string; title?: string } = {},
  ) =>
    await ask({
      kind: 'quickPick',
      items: await items,
      ...(options.placeHolder !== undefined ? { placeHolder: options.placeHolder } : {}),
      ...(options.title !== undefined ? { title: options.title } : {}),
    }),
  showInputBox: (options: { title?: string; value?: string; validateInput?: (v: string) => unknown } = {}) =>
    ask({ kind: 'inputBox', ...options }),
  withProgress: async <R>(
    options: { title?: string; cancellable?: boolean },
    task: (
      progress: { report(v: { message?: string }): void },
      token: { isCancellationRequested: boolean; onCancellationRequested: EventEmitter<void>['event'] },
    ) => Promise<R>,
  ): Promise<R> => {
    const cancelled = new EventEmitter<void>();
    const token = { isCancellationRequested: false, onCancellationRequested: cancelled.event };
    const shown: ProgressShown = {
      title: options.title ?? '',
      cancellable: options.cancellable === true,
      messages: [],
      cancel: () => {
        token.isCancellationRequested = true;
        cancelled.fire();
      },
    };
    ui.progress.push(shown);
    return await task({ report: (v) => void (v.message !== undefined && shown.messages.push(v.message)) }, token);
  },
  setStatusBarMessage: (text: string) => {
    ui.statusMessages.push(text);
    return new Disposable(() => undefined);
  },
  createOutputChannel: outputChannel,
  createStatusBarItem: (id: string): StatusItem => {
    const item: StatusItem = {
      id,
      text: '',
      visible: false,
      disposed: false,
      show: () => void (item.visible = true),
      hide: () => void (item.visible = false),
      dispose: () => void (item.disposed = true),
    };
    ui.statusItems.push(item);
    return item;
  },
  createTreeView: (id: string, options: { treeDataProvider: unknown }): FakeTreeView => {
    const visibility = new EventEmitter<{ visible: boolean }>();
    const view: FakeTreeView = {
      id,
      visible: false,
      dataProvider: options.treeDataProvider,
      onDidChangeVisibility: visibility.event,
      setVisible: (visible) => {
        view.visible = visible;
        visibility.fire({ visible });
      },
      dispose: () => visibility.dispose(),
    };
    ui.treeViews.push(view);
    return view;
  },
  createTerminal: (options: { name: string }) => {
    const t = { name: options.name, sent: [] as string[], shown: false };
    ui.terminals.push(t);
    return { show: () => void (t.shown = true), sendText: (text: string) => void t.sent.push(text), dispose: () => undefined };
  },
  showTextDocument: (doc: unknown) => {
    ui.documentsShown.push(doc);
    return Promise.resolve(undefined);
  },
  registerUriHandler: (handler: { handleUri(uri: Uri): unknown }) => {
    registered.uriHandler = handler;
    return new Disposable(() => (registered.uriHandler = undefined));
  },
  registerTreeDataProvider: () => new Disposable(() => undefined),
};

// ---------------------------------------------------------------------------
// Commands, context keys, authentication providers.

export const registered = {
  commands: new Map<string, (...args: unknown[]) => unknown>(),
  /** Every executeCommand call, in order (including those that ran a registered command). */
  executed: [] as { id: string; args: unknown[] }[],
  context: new Map<string, unknown>(),
  authProviders: new Map<string, { label: string; provider: unknown; options: unknown }>(),
  sessionRequests: [] as { providerId: string; scopes: readonly string[]; options: unknown }[],
  uriHandler: undefined as { handleUri(uri: Uri): unknown } | undefined,
  /** Answers executeCommand for a command no one registered (a built-in such as vscode.openFolder). */
  builtin: (_id: string, _args: unknown[]): unknown => undefined,
};

export const commands = {
  registerCommand: (id: string, fn: (...args: unknown[]) => unknown): Disposable => {
    if (registered.commands.has(id)) throw new Error(`command '${id}' already exists`);
    registered.commands.set(id, fn);
    return new Disposable(() => registered.commands.delete(id));
  },
  executeCommand: async (id: string, ...args: unknown[]): Promise<unknown> => {
    registered.executed.push({ id, args });
    if (id === 'setContext') {
      registered.context.set(String(args[0]), args[1]);
      return undefined;
    }
    const fn = registered.commands.get(id);
    return fn ? await fn(...args) : registered.builtin(id, args);
  },
  getCommands: () => Promise.resolve([...registered.commands.keys()]),
};

export const authentication = {
  registerAuthenticationProvider: (id: string, label: string, provider: unknown, options?: unknown): Disposable => {
    registered.authProviders.set(id, { label, provider, options });
    return new Disposable(() => registered.authProviders.delete(id));
  },
  getSession: (providerId: string, scopes: readonly string[], options?: unknown) => {
    registered.sessionRequests.push({ providerId, scopes, options });
    return Promise.resolve(undefined);
  },
};

// ---------------------------------------------------------------------------
// Workspace: configuration (user and workspace values), folders, trust, files.

const settings = new Map<string, { global?: unknown; workspace?: unknown; default?: unknown }>();
const configurationChanged = new EventEmitter<{ affectsConfiguration(section: string): boolean }>();
const trustGranted = new EventEmitter<void>();
const foldersChanged = new EventEmitter<unknown>();
const documentClosed = new EventEmitter<{ uri: Uri }>();

function fireConfigurationChange(key: string): void {
  configurationChanged.fire({
    affectsConfiguration: (section) => key === section || key.startsWith(`${section}.`) || section.startsWith(`${key}.`),
  });
}

/** Sets a setting as the user (ConfigurationTarget.Global) or a workspace would; fires the change event. */
export function setSetting(key: string, value: unknown, target: 'global' | 'workspace' = 'global'): void {
  const entry = settings.get(key) ?? {};
  entry[target] = value;
  settings.set(key, entry);
  fireConfigurationChange(key);
}

function configuration(section?: string) {
  const full = (key: string) => (section ? `${section}.${key}` : key);
  return {
    get<T>(key: string, fallback?: T): T | undefined {
      const e = settings.get(full(key));
      const v = e?.workspace ?? e?.global ?? e?.default;
      return v === undefined ? fallback : (v as T);
    },
    has: (key: string) => settings.has(full(key)),
    inspect<T>(key: string) {
      const e = settings.get(full(key));
      return {
        key: full(key),
        ...(e?.default !== undefined ? { defaultValue: e.default as T } : {}),
        ...(e?.global !== undefined ? { globalValue: e.global as T } : {}),
        ...(e?.workspace !== undefined ? { workspaceValue: e.workspace as T } : {}),
      };
    },
    update: (key: string, value: unknown, target: number | boolean = ConfigurationTarget.Workspace) => {
      const global = target === true || target === ConfigurationTarget.Global;
      setSetting(full(key), value, global ? 'global' : 'workspace');
      return Promise.resolve();
    },
  };
}

export const workspace = {
  getConfiguration: configuration,
  onDidChangeConfiguration: configurationChanged.event,
  onDidGrantWorkspaceTrust: trustGranted.event,
  onDidChangeWorkspaceFolders: foldersChanged.event,
  onDidCloseTextDocument: documentClosed.event,
  isTrusted: true,
  workspaceFolders: undefined as { uri: Uri; name: string; index: number }[] | undefined,
  workspaceFile: undefined as Uri | undefined,
  fs: {
    readFile: async (uri: Uri): Promise<Uint8Array> => await fsp.readFile(uri.fsPath),
  },
  createFileSystemWatcher: () => {
    const changed = new EventEmitter<Uri>();
    return { onDidChange: changed.event, onDidCreate: changed.event, onDidDelete: changed.event, dispose: () => changed.dispose() };
  },
  registerTextDocumentContentProvider: () => new Disposable(() => undefined),
  openTextDocument: (uri: Uri) => Promise.resolve({ uri }),
};

export const env = {
  appName: 'Visual Studio Code',
  remoteName: undefined as string | undefined,
  uriScheme: 'vscode',
  openExternal: (target: unknown) => {
    ui.openedExternal.push(String(target));
    return Promise.resolve(ui.openExternalResult);
  },
  clipboard: {
    text: '',
    writeText(text: string) {
      this.text = text;
      return Promise.resolve();
    },
    readText() {
      return Promise.resolve(this.text);
    },
  },
};

export const extensions = {
  all: [] as { id: string }[],
  getExtension: (id: string) => extensions.all.find((e) => e.id === id),
};

/** A minimal ExtensionContext: subscriptions, an in-memory globalState, storage under `storageDir`. */
export function extensionContext(storageDir: string, extensionPath = storageDir) {
  return {
    subscriptions: [] as { dispose(): unknown }[],
    globalState: new Memento(),
    workspaceState: new Memento(),
    globalStorageUri: Uri.file(join(storageDir, 'global-storage')),
    extensionPath,
    extension: { packageJSON: { version: '0.0.0-test' } },
  };
}

/** Back to a fresh editor: nothing asked, shown, registered or set. */
export function reset(): void {
  ui.asked.length = 0;
  ui.answer = () => undefined;
  ui.progress.length = 0;
  ui.statusMessages.length = 0;
  ui.statusItems.length = 0;
  ui.treeViews.length = 0;
  ui.log.length = 0;
  ui.logShown = 0;
  ui.openedExternal.length = 0;
  ui.openExternalResult = true;
  ui.terminals.length = 0;
  ui.documentsShown.length = 0;
  registered.commands.clear();
  registered.executed.length = 0;
  registered.context.clear();
  registered.authProviders.clear();
  registered.sessionRequests.length = 0;
  registered.uriHandler = undefined;
  registered.builtin = () => undefined;
  settings.clear();
  workspace.isTrusted = true;
  workspace.workspaceFolders = undefined;
  workspace.workspaceFile = undefined;
  env.appName = 'Visual Studio Code';
  env.remoteName = undefined;
  env.clipboard.text = '';
  extensions.all = [];
}

/** The events of `event` in order: `next()` waits for the next one not yet taken. */
export function eventQueue<T>(event: (listener: (e: T) => unknown) => { dispose(): unknown }) {
  const seen: T[] = [];
  const waiting: ((e: T) => void)[] = [];
  const sub = event((e) => {
    const w = waiting.shift();
    if (w) w(e);
    else seen.push(e);
  });
  return {
    next: (): Promise<T> => (seen.length > 0 ? Promise.resolve(seen.shift()!) : new Promise<T>((r) => waiting.push(r))),
    /** Events fired and not yet taken. */
    pending: () => seen.length,
    dispose: () => void sub.dispose(),
  };
}
