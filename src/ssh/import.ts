/**
 * Finding hosts a user already set up for `cloudflared` in their ssh config, so
 * that they can be offered as Access hosts (the user's lines are only read):
 *
 * - a `Host` block whose `ProxyCommand` runs `cloudflared access ssh` (or `tcp`)
 *   with `--hostname <host>`, or `--hostname %h` (then the block's `HostName`,
 *   else its literal `Host` names);
 * - a `Host cfpipe-<host>` block (the Cloudflare guide's alias), with its
 *   `HostName` when it has one;
 * - `Match host|originalhost <names> exec "cloudflared access ssh-gen …"` (what
 *   `cloudflared access ssh-config --short-lived-cert` prints), its literal names.
 *
 * `Include` is followed as ssh does (`~`, relative to `~/.ssh` for a user file,
 * globs, at most 16 levels, each file once), except our own managed block. A
 * wildcard pattern (`Host *.example.com`) cannot be listed as hosts: it is
 * reported apart. Pure apart from reading files, which the caller can supply.
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { isAbsolute, join } from 'node:path';
import { BEGIN_MARKER, END_MARKER } from './include.js';
import { unquoteConfigToken } from './quote.js';
import { parseHostname, ALIAS_PREFIX, type Hostname } from './validate.js';

export type FoundBy = 'proxycommand' | 'cfpipe' | 'match-exec';

export interface Found {
  readonly file: string;
  /** 1-based. */
  readonly line: number;
  readonly by: FoundBy;
  /** The alias the user types (`Host` name), when it differs from the host. */
  readonly alias?: string;
}

export interface ImportCandidate {
  /** The Access application host, lower case, validated. */
  readonly hostname: Hostname;
  /** `User` of the block that named it, if any. */
  readonly user?: string;
  /** Set up with `cloudflared access --fedramp …` (a FedRAMP account). */
  readonly fedramp?: boolean;
  /** Every place that names it, in reading order. */
  readonly found: readonly Found[];
}

export interface ImportScan {
  readonly hosts: readonly ImportCandidate[];
  /** cloudflared set up for a wildcard pattern, a service token or a `%h` with no literal name: shown, not importable. */
  readonly skipped: readonly { file: string; line: number; text: string; reason: string }[];
  /** Files read, in order. */
  readonly files: readonly string[];
  /** Includes that could not be read (missing files are normal and not listed). */
  readonly errors: readonly { file: string; line: number; message: string }[];
}

export interface ScanIo {
  readFile(path: string): Promise<string | undefined>;
  /** Names in a directory ([] when it cannot be read). */
  readdir(dir: string): Promise<string[]>;
  /** The home that `~` means to ssh. */
  readonly home: string;
}

export const nodeScanIo = (home: string = homedir()): ScanIo => ({
  home,
  async readFile(p) {
    try {
      return await fs.readFile(p, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
      throw e;
    }
  },
  async readdir(dir) {
    try {
      return await fs.readdir(dir);
    } catch {
      return [];
    }
  },
});

const MAX_DEPTH = 16;

/** Splits a config line into its keyword and argument tokens (quotes kept in tokens), and the raw rest after the keyword. */
export function splitLine(text: string): { keyword: string; args: string[]; rest: string } | undefined {
  const t = text.replace(/^\s+/, '');
  if (t === '' || t.startsWith('#')) return undefined;
  const m = /^([A-Za-z][A-Za-z0-9]*)(\s*=\s*|\s+|$)/.exec(t);
  if (!m) return undefined;
  const rest = t.slice(m[0].length).replace(/\s+$/, '');
  const args: string[] = [];
  let cur = '';
  let quote = '';
  let started = false;
  for (let i = 0; i < rest.length; i++) {
    const c = rest[i]!;
    if (!quote && /\s/.test(c)) {
      if (started) args.push(cur);
      cur = '';
      started = false;
      continue;
    }
    if (!quote && c === '#' && !started) break;
    if (c === '\\' && i + 1 < rest.length) {
      cur += c + rest[++i]!;
      started = true;
      continue;
    }
    if (!quote && (c === '"' || c === "'")) quote = c;
    else if (quote && c === quote) quote = '';
    cur += c;
    started = true;
  }
  if (started) args.push(cur);
  return { keyword: m[1]!.toLowerCase(), args: args.map(unquoteConfigToken), rest };
}

/** Splits a shell command into words (single, double quotes and backslashes, as sh would). */
export function shellWords(cmd: string): string[] {
  const words: string[] = [];
  let cur = '';
  let started = false;
  let quote = '';
  for (let i = 0; i < cmd.length; i++) {
    const c = cmd[i]!;
    if (quote === "'") {
      if (c === "'") quote = '';
      else cur += c;
    } else if (quote === '"') {
      if (c === '"') quote = '';
      else if (c === '\\' && /["\\$`]/.test(cmd[i + 1] ?? '')) cur += cmd[++i]!;
      else cur += c;
    } else if (c === "'" || c === '"') {
      quote = c;
      started = true;
    } else if (c === '\\' && i + 1 < cmd.length) {
      cur += cmd[++i]!;
      started = true;
    } else if (/\s/.test(c) || c === ';' || c === '&' || c === '|') {
      if (started) words.push(cur);
      cur = '';
      started = false;
      if (!/\s/.test(c)) words.push(c);
    } else {
      cur += c;
      started = true;
    }
  }
  if (started) words.push(cur);
  return words;
}

interface CloudflaredCall {
  sub: 'ssh' | 'ssh-gen';
  /** `--hostname` value, as written (`%h` kept). */
  hostname?: string;
  serviceToken: boolean;
  /** `access --fedramp` (or `--fedramp` after the subcommand). */
  fedramp?: boolean;
}

/** `cloudflared access ssh|tcp|ssh-gen …` in a command, if it runs one (`exec`, `env`, full paths, `.exe` allowed). */
export function cloudflaredCall(cmd: string, depth = 0): CloudflaredCall | undefined {
  const words = shellWords(cmd);
  for (let i = 0; i < words.length; i++) {
    // A command inside a word: `sh -c '…'`, the guide's `sockpipe "cloudflared access ssh …"`.
    if (depth < 3 && /\s/.test(words[i]!) && /cloudflared/i.test(words[i]!)) {
      const inner = cloudflaredCall(words[i]!, depth + 1);
      if (inner) return inner;
    }
    const base = words[i]!.split(/[\\/]/).pop()!.toLowerCase();
    if (base !== 'cloudflared' && base !== 'cloudflared.exe') continue;
    // Global flags (with or without a value) may come before `access`: `--loglevel debug`.
    let j = i + 1;
    while (j < words.length && j < i + 8 && words[j] !== 'access' && !/^[;&|]$/.test(words[j]!)) j++;
    if (words[j] !== 'access') continue;
    // `access --fedramp ssh …`: cloudflared's access-level flag comes before the subcommand.
    let fedramp = false;
    while (/^--?fedramp(=true)?$/i.test(words[j + 1] ?? '')) {
      fedramp = true;
      j++;
    }
    const sub = words[j + 1];
    if (sub !== 'ssh' && sub !== 'tcp' && sub !== 'ssh-gen') continue;
    let hostname: string | undefined;
    let serviceToken = false;
    for (let k = j + 2; k < words.length && !/^[;&|]$/.test(words[k]!); k++) {
      const w = words[k]!;
      const m = /^--?(hostname|tunnel-host|T)(?:=(.*))?$/.exec(w);
      if (m) hostname = m[2] ?? words[++k];
      if (/^--?(service-token-id|id)(=|$)/.test(w)) serviceToken = true;
      if (/^--?fedramp(=true)?$/i.test(w)) fedramp = true;
    }
    return {
      sub: sub === 'ssh-gen' ? 'ssh-gen' : 'ssh',
      ...(hostname === undefined ? {} : { hostname }),
      serviceToken,
      ...(fedramp ? { fedramp } : {}),
    };
  }
  return undefined;
}

function isPattern(name: string): boolean {
  return /[*?!]/.test(name);
}

function asHost(name: string): Hostname | undefined {
  return parseHostname(name.toLowerCase().replace(/\.$/, ''));
}

interface Block {
  kind: 'host' | 'match' | 'top';
  line: number;
  names: string[];
  text: string;
  hostName?: string;
  user?: string;
  proxy?: { call: CloudflaredCall; line: number; text: string };
  matchExec?: CloudflaredCall;
}

/** Scans `configFile` (and what it includes) for hosts set up for cloudflared. */
export async function scanForCloudflaredHosts(configFile: string, io: ScanIo = nodeScanIo()): Promise<ImportScan> {
  const found = new Map<Hostname, { hostname: Hostname; user?: string; fedramp?: boolean; found: Found[] }>();
  const skipped: { file: string; line: number; text: string; reason: string }[] = [];
  const files: string[] = [];
  const errors: { file: string; line: number; message: string }[] = [];
  const seenFiles = new Set<string>();
  const sshDir = join(io.home, '.ssh');

  const add = (hostname: Hostname, f: Found, user?: string, fedramp = false): void => {
    const h = found.get(hostname) ?? { hostname, found: [] };
    if (h.user === undefined && user !== undefined) h.user = user;
    if (fedramp) h.fedramp = true;
    h.found.push(f);
    found.set(hostname, h);
  };

  const expandPath = (p: string, includer: string): string => {
    let out = p;
    if (out === '~' || out.startsWith('~/')) out = join(io.home, out.slice(1));
    // As ssh: relative to ~/.ssh in a user file, /etc/ssh in a system one.
    if (!isAbsolute(out)) out = join(includer.startsWith('/etc/ssh/') ? '/etc/ssh' : sshDir, out);
    return out;
  };

  const glob = async (pattern: string): Promise<string[]> => {
    if (!/[*?[]/.test(pattern)) return [pattern];
    const parts = pattern.split('/');
    let bases = [parts[0] === '' ? '/' : parts[0]!];
    for (const part of parts.slice(1)) {
      if (part === '') continue;
      if (!/[*?[]/.test(part)) {
        bases = bases.map((b) => join(b, part));
        continue;
      }
      const re = new RegExp(
        `^${part
          .replace(/[.+^${}()|\\]/g, '\\$&')
          .replace(/\*/g, '[^/]*')
          .replace(/\?/g, '[^/]')}$`,
      );
      const next: string[] = [];
      for (const b of bases) for (const n of (await io.readdir(b)).sort()) if (re.test(n) && !n.startsWith('.')) next.push(join(b, n));
      bases = next;
    }
    return bases;
  };

  const finish = (b: Block, file: string): void => {
    const literal = b.names.filter((n) => !isPattern(n));
    if (b.kind === 'host') {
      // cfpipe- aliases.
      for (const n of literal) {
        if (!n.toLowerCase().startsWith(ALIAS_PREFIX)) continue;
        const target = asHost(b.hostName && !b.hostName.includes('%') ? b.hostName : n.slice(ALIAS_PREFIX.length));
        if (target) add(target, { file, line: b.line, by: 'cfpipe', alias: n }, b.user);
      }
    }
    if (b.proxy && (b.kind === 'host' || b.kind === 'match')) {
      const { call, line, text } = b.proxy;
      if (call.serviceToken) {
        skipped.push({ file, line, text, reason: 'uses a service token (not a user login): add it by hand if you want it' });
        return;
      }
      let targets: string[] = [];
      if (call.hostname !== undefined && !call.hostname.includes('%')) targets = [call.hostname];
      else if (call.hostname === '%h' || call.hostname === undefined)
        targets = b.hostName && !b.hostName.includes('%') ? [b.hostName] : literal.filter((n) => !n.toLowerCase().startsWith(ALIAS_PREFIX));
      if (targets.length === 0) {
        skipped.push({
          file,
          line: b.line,
          text: b.text,
          reason: b.names.some(isPattern) ? 'a wildcard pattern names no host to import' : 'names no host',
        });
        return;
      }
      for (const t of targets) {
        const h = asHost(t);
        if (h)
          add(
            h,
            { file, line, by: 'proxycommand', ...(literal.length === 1 && literal[0]!.toLowerCase() !== h ? { alias: literal[0]! } : {}) },
            b.user,
            call.fedramp === true,
          );
        else skipped.push({ file, line, text, reason: `${JSON.stringify(t)} is not a host name` });
      }
    }
  };

  const scanFile = async (file: string, depth: number): Promise<void> => {
    if (seenFiles.has(file)) return;
    seenFiles.add(file);
    let text: string | undefined;
    try {
      text = await io.readFile(file);
    } catch (err) {
      errors.push({ file, line: 0, message: (err as Error).message });
      return;
    }
    if (text === undefined) return;
    files.push(file);
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    let block: Block = { kind: 'top', line: 0, names: [], text: '' };
    let inOurBlock = false;
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      const trimmed = raw.trim();
      if (trimmed === BEGIN_MARKER) inOurBlock = true;
      if (trimmed === END_MARKER) {
        inOurBlock = false;
        continue;
      }
      if (inOurBlock) continue;
      const parsed = splitLine(raw);
      if (!parsed) continue;
      const { keyword, args, rest } = parsed;
      if (keyword === 'host') {
        finish(block, file);
        block = { kind: 'host', line: i + 1, names: args.filter((a) => !a.startsWith('!')), text: trimmed };
      } else if (keyword === 'match') {
        finish(block, file);
        block = { kind: 'match', line: i + 1, names: [], text: trimmed };
        for (let k = 0; k < args.length; k++) {
          const a = args[k]!.toLowerCase();
          if ((a === 'host' || a === 'originalhost') && args[k + 1] !== undefined)
            block.names.push(...args[++k]!.split(',').filter((n) => !n.startsWith('!')));
          else if (a === 'exec' && args[k + 1] !== undefined) {
            const call = cloudflaredCall(args[++k]!);
            if (call?.sub === 'ssh-gen') {
              const targets = call.hostname && !call.hostname.includes('%') ? [call.hostname] : block.names.filter((n) => !isPattern(n));
              if (targets.length === 0)
                skipped.push({ file, line: i + 1, text: trimmed, reason: 'a wildcard pattern names no host to import' });
              for (const t of targets) {
                const h = asHost(t);
                if (h) add(h, { file, line: i + 1, by: 'match-exec' }, undefined, call.fedramp === true);
              }
            }
          } else if (a === 'all' || a === 'canonical' || a === 'final') {
            // no argument
          } else k++;
        }
      } else if (keyword === 'hostname') {
        if (block.hostName === undefined && args[0] !== undefined) block.hostName = args[0];
      } else if (keyword === 'user') {
        if (block.user === undefined && args[0] !== undefined) block.user = args[0];
      } else if (keyword === 'proxycommand') {
        const call = cloudflaredCall(rest);
        if (call && call.sub === 'ssh' && !block.proxy) block.proxy = { call, line: i + 1, text: trimmed };
      } else if (keyword === 'include') {
        if (depth >= MAX_DEPTH) {
          errors.push({ file, line: i + 1, message: `more than ${MAX_DEPTH} levels of Include` });
          continue;
        }
        for (const a of args) for (const f of await glob(expandPath(a, file))) await scanFile(f, depth + 1);
      }
    }
    finish(block, file);
  };

  await scanFile(configFile, 0);
  const hosts = [...found.values()].map((h) => ({
    hostname: h.hostname,
    ...(h.user !== undefined && /^[A-Za-z0-9_][A-Za-z0-9._-]*$/.test(h.user) ? { user: h.user } : {}),
    ...(h.fedramp === true ? { fedramp: true } : {}),
    found: h.found,
  }));
  return { hosts, skipped, files, errors };
}
