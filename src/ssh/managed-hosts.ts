/**
 * The host list of our managed file (e.g. `~/.ssh/access-ssh/config`): the one
 * source of truth that the extension and `access-ssh config` share.
 *
 * The list is written into the managed file itself, right under its header, one
 * comment line per host:
 *
 *     # managed by Access SSH; edits are overwritten
 *     # host list (the extension and `access-ssh config add|remove` keep it):
 *     # access-ssh-host build.example.com from=cli user=deploy
 *     # access-ssh-host ssh.example.com from=cli,vscode user=jdoe
 *
 * `from` names who listed the host: `vscode` (the extension's `accessSSH.hosts`
 * and a trusted repository's hosts) and/or `cli` (`access-ssh config add`). Each
 * side adds and removes only its own mark; a host is written while one of them
 * still lists it. So the extension never drops a host added in a terminal, and
 * the CLI never drops one of the extension's.
 *
 * One file, so no lock: every writer reads the file, computes the new list and
 * entries, and replaces the file atomically only if it is still the one it read
 * (`atomicWrite` with `expect`); otherwise it starts over from the new bytes.
 * Two writers racing (a terminal and a window) both land.
 *
 * A file written before the list existed (entries only) is read as "these hosts,
 * from the extension", which is the only writer there was.
 */
import { promises as fs } from 'node:fs';
import { dirname, join } from 'node:path';
import { atomicWrite, ChangedMeanwhileError } from '../base/atomic-write.js';
import { MANAGED_HEADER, renderEntries, type HostEntry, type RenderOptions } from './entries.js';
import { showValue } from '../base/display.js';
import { hostFromAlias, SshConfigError, validateHostname, validateUser, type Hostname } from './validate.js';

export type HostOrigin = 'cli' | 'vscode';
export const ORIGINS: readonly HostOrigin[] = ['cli', 'vscode'];

/** A host of the managed file's list: the host entry (`user` is the `User` written; `fedramp=true`), and who lists it. */
export interface ManagedHost extends HostEntry {
  /** Who lists the host (never empty, sorted). */
  readonly from: readonly HostOrigin[];
}

export const LIST_INTRO = '# host list (the extension and `access-ssh config add|remove` keep it):';
const LIST_PREFIX = '# access-ssh-host ';

function listError(file: string, lineNo: number, text: string, why: string): SshConfigError {
  return new SshConfigError(
    `${file}, line ${lineNo}: the host list line ${showValue(text)} ${why}. The file was not changed.`,
    `Fix or delete that line (the format is "# access-ssh-host <host> from=cli|vscode[,…] [user=<name>] [fedramp=true]"); a host whose line was deleted can then be added again.`,
    'invalid-value',
  );
}

/**
 * The lines of `content` (split at \n or \r\n) whose first word after `#` is
 * `access-ssh-host`, and where each starts: found by searching for the marker rather than
 * by splitting a file of some 900 bytes per host into lines (1,000 hosts:
 * docs/BENCHMARKS.md, fifth round). The marker is a word, not a prefix: the entries'
 * comment of a host named `access-ssh-host` (`# access-ssh-host: renew …`) or
 * `access-ssh-host.example.com` is no list line.
 */
function* listLines(content: string): Generator<{ text: string; index: number }> {
  const marker = LIST_PREFIX.trimEnd();
  let at = content.startsWith(marker) ? 0 : content.indexOf(`\n${marker}`);
  if (at > 0) at += 1;
  while (at >= 0) {
    const nl = content.indexOf('\n', at);
    const end = nl < 0 ? content.length : nl;
    const text = content.slice(at, end > at && content[end - 1] === '\r' ? end - 1 : end);
    if (isMarkerWord(text.charAt(marker.length))) yield { text, index: at };
    if (nl < 0) return;
    at = content.indexOf(`\n${marker}`, nl);
    if (at >= 0) at += 1;
  }
}

/** What may follow the marker on a list line: white space, or the end of the line. */
function isMarkerWord(next: string): boolean {
  return next === '' || next === ' ' || next === '\t';
}

/** The host list of a managed file's content (pure). Throws `SshConfigError` on a damaged list line. */
export function parseManagedHosts(content: string | undefined, file = 'the managed ssh config'): ManagedHost[] {
  if (content === undefined) return [];
  const hosts = new Map<string, ManagedHost>();
  let sawList = false;
  for (const { text, index } of listLines(content)) {
    sawList = true;
    // The line number, for an error only (counting lines is as dear as the whole parse).
    const lineNo = (): number => content.slice(0, index).split('\n').length;
    const words = text.slice(LIST_PREFIX.length).trim().split(/\s+/);
    const [name, ...fields] = words;
    let hostname: Hostname;
    try {
      hostname = validateHostname((name ?? '').toLowerCase());
    } catch (err) {
      throw listError(file, lineNo(), text, `names no valid host (${(err as Error).message})`);
    }
    let user: string | undefined;
    let fedramp = false;
    let from: HostOrigin[] = [];
    for (const f of fields) {
      const eq = f.indexOf('=');
      const key = f.slice(0, eq);
      const value = f.slice(eq + 1);
      if (eq < 0) throw listError(file, lineNo(), text, `has ${showValue(f)} where key=value was expected`);
      if (key === 'user') {
        try {
          user = validateUser(value);
        } catch (err) {
          throw listError(file, lineNo(), text, `has an invalid user (${(err as Error).message})`);
        }
      } else if (key === 'fedramp') {
        if (value !== 'true') throw listError(file, lineNo(), text, `has fedramp=${showValue(value)}; only fedramp=true is written`);
        fedramp = true;
      } else if (key === 'from') {
        const names = value.split(',');
        if (!names.every((n): n is HostOrigin => (ORIGINS as readonly string[]).includes(n))) {
          throw listError(file, lineNo(), text, `has from=${showValue(value)}; only cli and vscode are known`);
        }
        from = names;
      } else {
        throw listError(file, lineNo(), text, `has the unknown field ${showValue(key)}`);
      }
    }
    if (from.length === 0) throw listError(file, lineNo(), text, 'says nothing about who added it (from=…)');
    if (hosts.has(hostname)) throw listError(file, lineNo(), text, 'names a host listed on an earlier line');
    hosts.set(hostname, normalise({ hostname, from, ...(user === undefined ? {} : { user }), ...(fedramp ? { fedramp } : {}) }));
  }
  if (!sawList) {
    // A file from before the list: its `Host cfpipe-…` entries, written by the extension.
    for (const text of content.split(/\r?\n/)) {
      const m = /^Host\s+(\S+)\s*$/.exec(text);
      const host = m ? hostFromAlias(m[1]!) : undefined;
      if (host !== undefined && !hosts.has(host)) hosts.set(host, { hostname: host, from: ['vscode'] });
    }
  }
  return sortHosts([...hosts.values()]);
}

function normalise(h: ManagedHost): ManagedHost {
  const from = ORIGINS.filter((o) => h.from.includes(o));
  return {
    hostname: h.hostname,
    ...(h.user === undefined ? {} : { user: h.user }),
    ...(h.fedramp === true ? { fedramp: true } : {}),
    from,
  };
}

function sortHosts(hosts: ManagedHost[]): ManagedHost[] {
  return hosts.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));
}

/** The whole managed file for `hosts`: header, host list, entries (pure, deterministic). */
export function renderManagedFile(hosts: readonly ManagedHost[], opts: RenderOptions): string {
  return renderManagedBytes(hosts, opts).toString('utf8');
}

/** `renderManagedFile`, as the UTF-8 bytes that are written. */
function renderManagedBytes(hosts: readonly ManagedHost[], opts: RenderOptions): Buffer {
  const list = sortHosts(hosts.filter((h) => h.from.length > 0).map(normalise));
  const listLines = [
    LIST_INTRO,
    ...list.map(
      (h) =>
        `${LIST_PREFIX}${h.hostname} from=${h.from.join(',')}${h.user === undefined ? '' : ` user=${h.user}`}${h.fedramp === true ? ' fedramp=true' : ''}`,
    ),
  ];
  const entries: HostEntry[] = list.map((h) => ({
    hostname: h.hostname,
    ...(h.user === undefined ? {} : { user: h.user }),
    ...(h.fedramp === true ? { fedramp: true } : {}),
  }));
  // The header line of the entries, the host list under it, then the hosts' entries.
  const head = Buffer.from(`${MANAGED_HEADER}\n${listLines.join('\n')}\n`, 'utf8');
  return Buffer.concat([head, ...entryPieces(entries, opts)]);
}

/**
 * The entries of the last render, one piece per host (`renderEntries` of that host alone,
 * after its header line, as UTF-8), and the options they were rendered with. The extension
 * rewrites the file for the same hosts again and again (every registry change, every
 * renewal): a host whose entry and options did not change is not validated, quoted and
 * encoded again. 1,000 hosts: docs/BENCHMARKS.md, fifth round.
 */
let pieces: { opts: string; byHost: Map<string, Buffer> } | undefined;

/**
 * What `renderEntries(entries, opts)` writes after its header line, byte for byte, in
 * per-host pieces: its output is the header line, then per host (sorted by name) an empty
 * line and the host's lines. `entries` are sorted and each host is listed once (the
 * managed list is keyed by host name); anything else goes to `renderEntries` whole.
 */
function entryPieces(entries: readonly HostEntry[], opts: RenderOptions): Buffer[] {
  const sorted = entries.every((e, i) => i === 0 || entries[i - 1]!.hostname < e.hostname);
  if (!sorted) return [Buffer.from(renderEntries(entries, opts).slice(MANAGED_HEADER.length + 1), 'utf8')];
  // All of the options (plain data): a field added to RenderOptions is part of the key too.
  const optsKey = JSON.stringify(opts);
  const old = pieces?.opts === optsKey ? pieces.byHost : undefined;
  const byHost = new Map<string, Buffer>();
  const out: Buffer[] = [];
  for (const e of entries) {
    const key = `${e.hostname}\n${e.user ?? ''}\n${e.fedramp === true ? 'f' : ''}`;
    let piece = old?.get(key);
    if (piece === undefined) piece = Buffer.from(renderEntries([e], opts).slice(MANAGED_HEADER.length + 1), 'utf8');
    byHost.set(key, piece);
    out.push(piece);
  }
  pieces = { opts: optsKey, byHost };
  return out;
}

/** `access-ssh config add`: the host marked `cli`; `user` replaces the written user when given. */
export function addCliHost(hosts: readonly ManagedHost[], name: Hostname, user?: string): ManagedHost[] {
  if (user !== undefined) validateUser(user);
  const seen = hosts.find((h) => h.hostname === name);
  const rest = hosts.filter((h) => h.hostname !== name);
  const userNow = user ?? seen?.user;
  const added: ManagedHost = normalise({
    hostname: name,
    from: [...(seen?.from ?? []), 'cli'],
    ...(userNow === undefined ? {} : { user: userNow }),
  });
  return sortHosts([...rest, added]);
}

/** `access-ssh config remove`: the `cli` mark taken off; the host goes when nobody else lists it. */
export function removeCliHost(hosts: readonly ManagedHost[], name: Hostname): ManagedHost[] {
  return hosts.flatMap((h) => {
    if (h.hostname !== name) return [h];
    const from = h.from.filter((o) => o !== 'cli');
    return from.length === 0 ? [] : [{ ...h, from }];
  });
}

/**
 * The extension's sync: exactly `mine` are marked `vscode` afterwards (with the user
 * the extension derives); hosts of the CLI stay, and a host the CLI added with an
 * explicit user keeps that user.
 */
export function syncExtensionHosts(hosts: readonly ManagedHost[], mine: readonly HostEntry[]): ManagedHost[] {
  const wanted = new Map<Hostname, string | undefined>();
  const fed = new Set<Hostname>();
  for (const m of mine) {
    wanted.set(m.hostname, m.user === undefined ? undefined : validateUser(m.user));
    if (m.fedramp === true) fed.add(m.hostname);
  }
  const out = new Map<Hostname, ManagedHost>();
  for (const h of hosts) {
    const from = h.from.filter((o) => o !== 'vscode');
    if (from.length > 0) out.set(h.hostname, { ...h, from });
  }
  for (const [hostname, user] of wanted) {
    const seen = out.get(hostname);
    const cliUser = seen?.from.includes('cli') ? seen.user : undefined;
    const u = cliUser ?? user ?? seen?.user;
    // The extension's host entry says whether it is FedRAMP; a CLI mark keeps what the CLI wrote.
    const fedramp = fed.has(hostname) || (seen?.from.includes('cli') === true && seen.fedramp === true);
    out.set(
      hostname,
      normalise({
        hostname,
        from: [...(seen?.from ?? []), 'vscode'],
        ...(u === undefined ? {} : { user: u }),
        ...(fedramp ? { fedramp } : {}),
      }),
    );
  }
  return sortHosts([...out.values()]);
}

async function readIfExists(p: string): Promise<Buffer | null> {
  try {
    return await fs.readFile(p);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw e;
  }
}

/** The host list of the managed file on disk ([] when it does not exist). */
export async function readManagedHosts(file: string): Promise<ManagedHost[]> {
  const bytes = await readIfExists(file);
  return parseManagedHosts(bytes === null ? undefined : bytes.toString('utf8'), file);
}

const ATTEMPTS = 20;

/** Runs `fn` while holding a lock shared with other processes (the callers pass src/access's `.lock` files). */
export type FileLock = <T>(file: string, fn: () => Promise<T>) => Promise<T>;

/** Writers of this process, one at a time per file. */
const queues = new Map<string, Promise<unknown>>();

function serialised<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const prev = queues.get(file) ?? Promise.resolve();
  const run = prev.then(fn, fn);
  const tail = run.catch(() => undefined);
  queues.set(file, tail);
  void tail.then(() => {
    if (queues.get(file) === tail) queues.delete(file);
  });
  return run;
}

/**
 * Read the managed file's list, apply `change`, write list and entries back.
 * Writers of this process take turns; other processes are kept out by `lock`
 * (`<file>.lock`); and as a last line, the file is replaced only if it is still
 * the one read (`atomicWrite` with `expect`), else the change starts over from
 * the new bytes. Atomic, 0600, directory 0700; an identical file is not rewritten.
 */
export function updateManagedHosts(
  file: string,
  change: (hosts: ManagedHost[]) => ManagedHost[],
  opts: RenderOptions,
  lock?: FileLock,
): Promise<{ hosts: ManagedHost[]; before: ManagedHost[]; changed: boolean }> {
  const work = (): Promise<{ hosts: ManagedHost[]; before: ManagedHost[]; changed: boolean }> => casUpdate(file, change, opts);
  return serialised(file, async () => {
    if (!lock) return await work();
    await fs.mkdir(dirname(file), { recursive: true, mode: 0o700 });
    return await lock(file, work);
  });
}

/**
 * The last file parsed in `casUpdate`, its bytes and its list: the file is read again under
 * the lock at every update (another process may have written it), and is usually what this
 * process read last; the same bytes give the same list. Callers get copies.
 */
let parsed: { file: string; bytes: Buffer; hosts: readonly ManagedHost[] } | undefined;

function parseReusing(bytes: Buffer | null, file: string): ManagedHost[] {
  if (bytes === null) return [];
  if (parsed?.file !== file || !parsed.bytes.equals(bytes)) {
    parsed = { file, bytes, hosts: parseManagedHosts(bytes.toString('utf8'), file) };
  }
  return parsed.hosts.map((h) => ({ ...h, from: [...h.from] }));
}

async function casUpdate(
  file: string,
  change: (hosts: ManagedHost[]) => ManagedHost[],
  opts: RenderOptions,
): Promise<{ hosts: ManagedHost[]; before: ManagedHost[]; changed: boolean }> {
  for (let attempt = 1; ; attempt++) {
    const bytes = await readIfExists(file);
    const before = parseReusing(bytes, file);
    const hosts = change(before.map((h) => ({ ...h })));
    const content = renderManagedBytes(hosts, opts);
    if (bytes?.equals(content) === true) {
      const st = await fs.stat(file);
      if ((st.mode & 0o777) === 0o600 || process.platform === 'win32') return { hosts, before, changed: false };
    }
    try {
      await atomicWrite(file, content, { mode: 0o600, expect: bytes });
      return { hosts, before, changed: true };
    } catch (e) {
      if (!(e instanceof ChangedMeanwhileError)) throw e;
      if (attempt >= ATTEMPTS) {
        throw new SshConfigError(
          `${file} changed while it was being updated, ${ATTEMPTS} times in a row; it was left as it is.`,
          'Another access-ssh or VS Code window keeps rewriting it; try again in a moment.',
          'changed-meanwhile',
          { action: 'retry' },
        );
      }
      await new Promise((r) => setTimeout(r, Math.min(250, attempt * (10 + Math.random() * 40))));
    }
  }
}

/**
 * Where the managed file lives for a HOME (`<home>/.ssh/access-ssh/config`). The
 * extension and the CLI both use the process's HOME, as the helper does for its
 * key files; the entries then name those files by absolute path, so an ssh that
 * expands `~` from the passwd entry (not $HOME) still finds them.
 */
export function managedConfigPath(home: string): string {
  return join(home, '.ssh', 'access-ssh', 'config');
}

/** The cloudflared-style key directory for a HOME, absolute (see managedConfigPath). */
export function keyDirFor(home: string): string {
  return join(home, '.cloudflared');
}
