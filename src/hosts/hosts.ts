// The host list: user settings (`accessSSH.hosts`) and, in a trusted workspace,
// the repository's `.vscode/access-hosts.json`. Every entry is validated before
// it is used, because a host name ends up in ssh_config and on a command line;
// an entry that fails is reported (shown to the user as an error), never used.

import type { HostEntry as SshHostEntry } from '../ssh/entries.js';
import { escapeUnsafeForDisplay, replaceUnsafeForDisplay } from '../base/display.js';
import { validateHostname, validateUser, type Hostname } from '../ssh/validate.js';

/** Where a host is listed: user settings, a trusted repository's file, or only `access-ssh config add`. */
export type HostSource = 'settings' | 'repo' | 'cli';

/**
 * A host of the extension's list: the one host entry of src/ssh/entries.ts (`hostname`
 * lower case and validated; `user` the account to log in as, for servers that map the
 * certificate's principal to other accounts, default the principal; `fedramp`), plus
 * what the editor adds.
 */
export interface HostEntry extends SshHostEntry {
  /** What the view shows; the host name when not given. */
  readonly label?: string;
  /** The remote folder Remote-SSH opens (absolute path). */
  readonly path?: string;
  readonly source: HostSource;
}

export interface HostProblem {
  readonly source: HostSource;
  /** Index of the entry in its list. */
  readonly index: number;
  /** A printable, bounded rendering of the bad value (control characters escaped). */
  readonly value: string;
  readonly message: string;
}

export interface HostList {
  readonly hosts: HostEntry[];
  readonly problems: HostProblem[];
}

/** The repository file that suggests hosts (read only in a trusted workspace). */
export const REPO_HOSTS_FILE = '.vscode/access-hosts.json';

const MAX_ENTRIES = 5000;
const ENTRY_FIELDS = new Set(['hostname', 'label', 'path', 'user', 'fedramp']);
const MAX_LABEL = 100;
const MAX_PATH = 1024;

/**
 * A printable, bounded form of any value, for an error message: control
 * characters are escaped so a hostile entry cannot forge lines in the log.
 */
export function displayValue(value: unknown): string {
  let text: string;
  if (typeof value === 'string') text = JSON.stringify(value);
  else {
    try {
      text = JSON.stringify(value) ?? String(value);
    } catch {
      text = String(value);
    }
  }
  // JSON.stringify escapes C0 controls; the rest (DEL, C1, line separators, bidi) as src/ssh does.
  text = escapeUnsafeForDisplay(text);
  return text.length > 80 ? text.slice(0, 77) + '...' : text;
}

/** Why `input` cannot be a host name, or undefined when it can: an input box's `validateInput`. */
export function hostnameProblem(input: string): string | undefined {
  try {
    normaliseHostname(input);
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

/**
 * Normalise a host name as a user may type it: trimmed, lower case, and a
 * pasted `https://host/` URL reduced to its host. Then validated by src/ssh.
 * Throws with a message when the value cannot be a host.
 */
export function normaliseHostname(input: string): Hostname {
  let host = input.trim();
  if (/^https?:\/\//i.test(host)) {
    let url: URL;
    try {
      url = new URL(host);
    } catch {
      throw new Error('not a valid URL');
    }
    if (url.username || url.password || url.port || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
      throw new Error('give the host name only, without user, port, path or query');
    }
    host = url.hostname;
  }
  host = host.toLowerCase();
  if (host.endsWith('.')) host = host.slice(0, -1);
  return validateHostname(host);
}

function checkPath(value: unknown): string {
  if (typeof value !== 'string') throw new Error('"path" must be a string');
  if (value.length === 0 || value.length > MAX_PATH) throw new Error('"path" must be 1 to 1024 characters');
  if (/[\u0000-\u001f\u007f]/.test(value)) throw new Error('"path" contains a control character');
  if (!value.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(value)) {
    throw new Error('"path" must be absolute (/home/me/src or C:/src)');
  }
  return value;
}

function checkLabel(value: unknown): string {
  if (typeof value !== 'string') throw new Error('"label" must be a string');
  // A label is shown as it is: what could not be shown safely becomes a space.
  const label = replaceUnsafeForDisplay(value, ' ').trim();
  if (label.length === 0) throw new Error('"label" is empty');
  return label.length > MAX_LABEL ? label.slice(0, MAX_LABEL - 1) + '…' : label;
}

function checkUser(value: unknown): string {
  if (typeof value !== 'string') throw new Error('"user" must be a string');
  try {
    return validateUser(value.trim());
  } catch (err) {
    throw new Error(`"user": ${err instanceof Error ? err.message : String(err)}`, { cause: err });
  }
}

/** One entry: a host name string or `{hostname, label?, path?, user?, fedramp?}`. Throws with a message when invalid. */
export function parseHostEntry(raw: unknown, source: HostSource): HostEntry {
  if (typeof raw === 'string') return { hostname: normaliseHostname(raw), source };
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new Error('an entry is a host name or an object { "hostname": ... }');
  }
  const obj = raw as Record<string, unknown>;
  for (const key of Object.keys(obj)) {
    if (!ENTRY_FIELDS.has(key)) throw new Error(`unknown field ${displayValue(key)}`);
  }
  if (!Object.prototype.hasOwnProperty.call(obj, 'hostname') || typeof obj['hostname'] !== 'string') {
    throw new Error('"hostname" must be a string');
  }
  const entry: { hostname: Hostname; label?: string; path?: string; user?: string; fedramp?: boolean; source: HostSource } = {
    hostname: normaliseHostname(obj['hostname']),
    source,
  };
  if (obj['label'] !== undefined) entry.label = checkLabel(obj['label']);
  if (obj['path'] !== undefined) entry.path = checkPath(obj['path']);
  if (obj['user'] !== undefined) entry.user = checkUser(obj['user']);
  if (obj['fedramp'] !== undefined) {
    if (typeof obj['fedramp'] !== 'boolean') throw new Error('"fedramp" must be true or false');
    if (obj['fedramp']) entry.fedramp = true;
  }
  return entry;
}

/** A list of entries (the setting's value, or the repo file's `hosts`). Duplicates keep the first. */
export function parseHostList(raw: unknown, source: HostSource): HostList {
  const hosts: HostEntry[] = [];
  const problems: HostProblem[] = [];
  if (raw === undefined || raw === null) return { hosts, problems };
  if (!Array.isArray(raw)) {
    problems.push({ source, index: -1, value: displayValue(raw), message: 'the host list must be an array' });
    return { hosts, problems };
  }
  const seen = new Set<string>();
  raw.slice(0, MAX_ENTRIES).forEach((item: unknown, index) => {
    try {
      const entry = parseHostEntry(item, source);
      if (seen.has(entry.hostname)) return;
      seen.add(entry.hostname);
      hosts.push(entry);
    } catch (err) {
      problems.push({ source, index, value: displayValue(item), message: err instanceof Error ? err.message : String(err) });
    }
  });
  if (raw.length > MAX_ENTRIES) {
    problems.push({ source, index: MAX_ENTRIES, value: `${raw.length} entries`, message: `only the first ${MAX_ENTRIES} hosts are used` });
  }
  return { hosts, problems };
}

/** `.vscode/access-hosts.json`: `{ "hosts": [...] }`. */
export function parseRepoHostsFile(text: string): HostList {
  let json: unknown;
  try {
    json = JSON.parse(stripJsonComments(text));
  } catch (err) {
    return {
      hosts: [],
      problems: [
        {
          source: 'repo',
          index: -1,
          value: REPO_HOSTS_FILE,
          message: `not valid JSON (${err instanceof Error ? err.message : String(err)})`,
        },
      ],
    };
  }
  if (json === null || typeof json !== 'object' || Array.isArray(json)) {
    return {
      hosts: [],
      problems: [{ source: 'repo', index: -1, value: REPO_HOSTS_FILE, message: 'expected an object { "hosts": [...] }' }],
    };
  }
  return parseHostList((json as Record<string, unknown>)['hosts'], 'repo');
}

/** Line and block comments outside strings, as VS Code's own JSON files allow. */
function stripJsonComments(text: string): string {
  let out = '';
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i]!;
    if (inString) {
      out += c;
      if (c === '\\') out += text[++i] ?? '';
      else if (c === '"') inString = false;
    } else if (c === '"') {
      inString = true;
      out += c;
    } else if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') i++;
      out += '\n';
    } else if (c === '/' && text[i + 1] === '*') {
      i += 2;
      while (i < text.length && !(text[i] === '*' && text[i + 1] === '/')) i++;
      i++;
    } else out += c;
  }
  return out;
}

/** Settings first, then the repo's hosts that settings do not already name. */
export function mergeHosts(settings: HostList, repo?: HostList): HostList {
  const hosts = [...settings.hosts];
  const seen = new Set(hosts.map((h) => h.hostname));
  for (const h of repo?.hosts ?? []) {
    if (seen.has(h.hostname)) continue;
    seen.add(h.hostname);
    hosts.push(h);
  }
  return { hosts, problems: [...settings.problems, ...(repo?.problems ?? [])] };
}

/** Where the host list comes from (the editor supplies these; the rule is here). */
export interface HostSources {
  /** The value of `accessSSH.hosts` from user (or remote-machine) settings. */
  readonly settings: unknown;
  /** Whether the workspace is trusted. */
  readonly trusted: boolean;
  /** The workspace's `.vscode/access-hosts.json` lists. Called only in a trusted workspace. */
  readRepoLists(): Promise<readonly HostList[]>;
}

/**
 * The host list: the user's settings, plus the repository's hosts only when the
 * workspace is trusted. In an untrusted workspace the repository is not even read:
 * a host list cloned with a repository must not reach the ssh config unasked.
 */
export async function collectHosts(src: HostSources): Promise<HostList> {
  const settings = parseHostList(src.settings, 'settings');
  if (src.trusted !== true) return settings;
  const repo = await src.readRepoLists();
  return repo.length === 0
    ? settings
    : mergeHosts(
        settings,
        repo.reduce((a, b) => mergeHosts(a, b)),
      );
}

/** The setting's new value with one host added (as a plain string unless it has a label or path). */
export function addToSetting(current: unknown, hostname: string, extra: { user?: string; fedramp?: boolean } = {}): unknown[] {
  const list = Array.isArray(current) ? [...(current as unknown[])] : [];
  const exists = list.some((item) => {
    const name =
      typeof item === 'string' ? item : item && typeof item === 'object' ? (item as Record<string, unknown>)['hostname'] : undefined;
    return typeof name === 'string' && name.trim().toLowerCase() === hostname;
  });
  // A plain name unless the host carries more (a user, FedRAMP): then the object form.
  if (!exists) list.push(extra.user !== undefined || extra.fedramp === true ? { hostname, ...extra } : hostname);
  return list;
}

/** The setting's new value without a host (entries naming it in any case/form removed). */
export function removeFromSetting(current: unknown, hostname: string): unknown[] {
  const list = Array.isArray(current) ? (current as unknown[]) : [];
  return list.filter((item) => {
    const name =
      typeof item === 'string' ? item : item && typeof item === 'object' ? (item as Record<string, unknown>)['hostname'] : undefined;
    if (typeof name !== 'string') return true;
    try {
      return normaliseHostname(name) !== hostname;
    } catch {
      return true;
    }
  });
}

export function describeProblem(p: HostProblem): string {
  const where = p.source === 'repo' ? REPO_HOSTS_FILE : 'setting accessSSH.hosts';
  return p.index >= 0 ? `${where}, entry ${p.index + 1} ${p.value}: ${p.message}` : `${where}: ${p.message}`;
}

/** Which account the entries log in as, and why. */
export interface SshUser {
  /** The `User` written for the host; undefined: none (ssh's own default applies). */
  readonly user?: string;
  readonly source: 'configured' | 'certificate' | 'email' | 'none';
  /** The e-mail's local part, when it is not the account used (the user is told once). */
  readonly differsFromEmail?: string;
}

/**
 * The `User` of a host's entries. The edge decides the principal (DESIGN §3):
 * the host's own `user` when the user chose one; else the certificate's first
 * principal that is a valid login name; else, before any certificate, the local
 * part of the login's e-mail. Only values src/ssh accepts as user names count.
 */
export function sshUserFor(input: {
  readonly configured?: string;
  readonly principals?: readonly string[];
  readonly email?: string;
}): SshUser {
  const valid = (v: string | undefined): string | undefined => {
    if (v === undefined) return undefined;
    try {
      return validateUser(v);
    } catch {
      return undefined;
    }
  };
  const at = input.email?.lastIndexOf('@') ?? -1;
  const local = input.email !== undefined && at > 0 ? valid(input.email.slice(0, at)) : undefined;
  const differs = (user: string): { differsFromEmail?: string } =>
    local !== undefined && local !== user ? { differsFromEmail: local } : {};
  const configured = valid(input.configured);
  if (configured !== undefined) return { user: configured, source: 'configured' };
  for (const p of input.principals ?? []) {
    const user = valid(p);
    if (user !== undefined) return { user, source: 'certificate', ...differs(user) };
  }
  if (local !== undefined) return { user: local, source: 'email' };
  return { source: 'none' };
}

/**
 * The setting's new value with `from` renamed to `to`, in place: an object entry
 * keeps its label and path. When `to` is already listed, `from` is only removed.
 */
export function renameInSetting(current: unknown, from: string, to: string): unknown[] {
  const list = Array.isArray(current) ? (current as unknown[]) : [];
  const names = (item: unknown): string | undefined => {
    const name =
      typeof item === 'string' ? item : item && typeof item === 'object' ? (item as Record<string, unknown>)['hostname'] : undefined;
    if (typeof name !== 'string') return undefined;
    try {
      return normaliseHostname(name);
    } catch {
      return undefined;
    }
  };
  if (from !== to && list.some((item) => names(item) === to)) return removeFromSetting(list, from);
  let renamed = false;
  return list.flatMap((item) => {
    if (names(item) !== from) return [item];
    if (renamed) return [];
    renamed = true;
    return [typeof item === 'string' ? to : { ...(item as Record<string, unknown>), hostname: to }];
  });
}

/** A host of the managed file's list (src/ssh/managed-hosts.ts), as far as the view needs it. */
export interface ListedHost {
  readonly hostname: Hostname;
  readonly user?: string;
  readonly fedramp?: boolean;
  readonly from: readonly string[];
}

/**
 * The hosts that only `access-ssh config add` lists: marked `cli` in the managed
 * file and in neither the user's nor the repository's list. The view shows them
 * apart, as added from the command line; their `user` and `fedramp` are the CLI's.
 */
export function cliOnlyHosts(managed: readonly ListedHost[], listed: readonly HostEntry[]): HostEntry[] {
  const known = new Set(listed.map((h) => h.hostname));
  return managed
    .filter((h) => h.from.includes('cli') && !known.has(h.hostname))
    .map((h) => ({
      hostname: h.hostname,
      ...(h.user !== undefined ? { user: h.user } : {}),
      ...(h.fedramp === true ? { fedramp: true } : {}),
      source: 'cli' as const,
    }));
}
