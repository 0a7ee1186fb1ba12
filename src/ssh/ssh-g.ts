/**
 * After writing, prove with OpenSSH itself which options are in force:
 * `ssh -G [-F file] <alias>` prints the configuration ssh would use, and we compare
 * ours with it. When something else wins (an earlier `Host *`, an Include placed
 * too low, a ProxyJump…), we look for the line that set it, so the user can be
 * told which line of which file.
 *
 * Note: `ssh -G` evaluates `Match exec`, so it runs our `ssh-gen` renewal entry
 * (with `--non-interactive` in the entries written for Remote-SSH it fails fast
 * when no token can be had without a browser, and that is harmless here).
 */
import { promises as fs } from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, isAbsolute, join } from 'node:path';
import { unquoteConfigToken } from './quote.js';
import { showValue } from '../base/display.js';
import { SshConfigError, validateHostname } from './validate.js';

export interface ExpectedOptions {
  /** As written in the config (see `hostOptions()`), or as ssh -G prints it. */
  proxyCommand: string;
  identityFile: string;
  certificateFile: string;
  user?: string;
}

export type CheckedOption = 'proxycommand' | 'identityfile' | 'certificatefile' | 'user';

export interface OptionSource {
  file: string;
  /** 1-based line number. */
  line: number;
  text: string;
  /** The option found there (may differ from the mismatching one, e.g. proxyjump for proxycommand). */
  option: string;
}

export interface Mismatch {
  option: CheckedOption;
  expected: string;
  /** As ssh -G prints it; '(none)' when unset. */
  actual: string;
  /** Where the winning value was probably set, when we could find it. */
  source?: OptionSource | undefined;
}

export interface CheckSshConfigOptions {
  alias: string;
  /** Passed as `ssh -F`; otherwise ssh reads ~/.ssh/config and /etc/ssh/ssh_config. */
  configFile?: string;
  sshPath?: string;
  expected: ExpectedOptions;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
  /** For `~` in paths; default homedir(). */
  homeDir?: string;
}

export interface CheckResult {
  ok: boolean;
  mismatches: Mismatch[];
  /** Every line of `ssh -G`, keyword → values in order. */
  options: Map<string, string[]>;
}

async function runSshG(sshPath: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs: number): Promise<string> {
  // Loaded here, not at the top: the extension imports this module at activation,
  // where nothing runs ssh yet (child_process is ~6 ms to load in a fresh Node).
  const { execFile } = await import('node:child_process');
  return new Promise((resolve, reject) => {
    execFile(sshPath, args, { env, timeout: timeoutMs, maxBuffer: 4 * 1024 * 1024, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (err) {
        const why = stderr.trim() || err.message;
        const bom = why.includes('\\357\\273\\277');
        reject(
          new SshConfigError(
            `ssh could not read the configuration (${sshPath} ${args.join(' ')}): ${why}`,
            bom
              ? 'The file starts with a UTF-8 byte order mark, which OpenSSH does not accept: save it as UTF-8 without BOM.'
              : 'Check the file and line named in the message; a line with unbalanced quotes makes ssh reject the whole file.',
            'ssh-failed',
          ),
        );
        return;
      }
      resolve(stdout);
    });
  });
}

/** Parses `ssh -G` output: one `keyword value` per line. */
export function parseSshG(output: string): Map<string, string[]> {
  const map = new Map<string, string[]>();
  for (const raw of output.split(/\r?\n/)) {
    const line = raw.trimEnd();
    if (!line) continue;
    const sp = line.indexOf(' ');
    const key = (sp < 0 ? line : line.slice(0, sp)).toLowerCase();
    const value = sp < 0 ? '' : line.slice(sp + 1);
    const list = map.get(key);
    if (list) list.push(value);
    else map.set(key, [value]);
  }
  return map;
}

/** A path as ssh_config holds it → comparable: quotes removed, `%%` → `%`, `~/` → home. */
export function normalizePath(value: string, home: string): string {
  let v = unquoteConfigToken(value.trim()).replace(/%%/g, '%');
  if (v === '~') v = home;
  else if (v.startsWith('~/') || v.startsWith('~\\')) v = join(home, v.slice(2));
  return v;
}

/** `ssh -G [-F configFile] alias`, parsed (keyword → values in order). Also evaluates `Match exec`. */
export async function sshG(opts: {
  alias: string;
  configFile?: string;
  sshPath?: string;
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}): Promise<Map<string, string[]>> {
  const alias = validateHostname(opts.alias);
  const args = ['-G', ...(opts.configFile ? ['-F', opts.configFile] : []), alias];
  return parseSshG(await runSshG(opts.sshPath ?? 'ssh', args, opts.env ?? process.env, opts.timeoutMs ?? 15_000));
}

/**
 * The line that probably set `option` to `actual` for `alias` (as ssh -G printed
 * it), following Includes and Host patterns as checkSshConfig does; undefined
 * when none is found (a default, or the command line).
 */
export async function locateOption(
  opts: { alias: string; configFile?: string; homeDir?: string },
  option: string,
  actual: string,
): Promise<OptionSource | undefined> {
  const home = opts.homeDir ?? homedir();
  const files = opts.configFile ? [opts.configFile] : [join(home, '.ssh', 'config'), '/etc/ssh/ssh_config'];
  return findSource(await collectLines(files, opts.alias, home), option.toLowerCase(), actual, home);
}

export async function checkSshConfig(opts: CheckSshConfigOptions): Promise<CheckResult> {
  const alias = validateHostname(opts.alias);
  const home = opts.homeDir ?? homedir();
  const sshPath = opts.sshPath ?? 'ssh';
  const args = ['-G', ...(opts.configFile ? ['-F', opts.configFile] : []), alias];
  const out = await runSshG(sshPath, args, opts.env ?? process.env, opts.timeoutMs ?? 15_000);
  const options = parseSshG(out);
  const first = (k: string): string | undefined => options.get(k)?.[0];

  const mismatches: Mismatch[] = [];
  const exp = opts.expected;
  const actualProxy = first('proxycommand');
  if ((actualProxy ?? '').trim() !== exp.proxyCommand.trim()) {
    const jump = first('proxyjump');
    mismatches.push({
      option: 'proxycommand',
      expected: exp.proxyCommand.trim(),
      actual: actualProxy ?? (jump ? `(none: ProxyJump ${jump} is set)` : '(none)'),
    });
  }
  for (const [option, want] of [
    ['identityfile', exp.identityFile],
    ['certificatefile', exp.certificateFile],
  ] as const) {
    const got = first(option);
    if (got === undefined || normalizePath(got, home) !== normalizePath(want, home)) {
      mismatches.push({ option, expected: unquoteConfigToken(want), actual: got ?? '(none)' });
    }
  }
  if (exp.user !== undefined && first('user') !== exp.user) {
    mismatches.push({ option: 'user', expected: exp.user, actual: first('user') ?? '(none)' });
  }

  if (mismatches.length > 0) {
    const files = opts.configFile ? [opts.configFile] : [join(home, '.ssh', 'config'), '/etc/ssh/ssh_config'];
    const lines = await collectLines(files, alias, home);
    for (const m of mismatches) {
      if (m.actual.startsWith('(none')) {
        if (m.option === 'proxycommand' && first('proxyjump')) {
          m.source = findSource(lines, 'proxyjump', first('proxyjump')!, home);
        }
        continue;
      }
      m.source = findSource(lines, m.option, m.actual, home);
    }
  }
  return { ok: mismatches.length === 0, mismatches, options };
}

/** One human sentence per mismatch, for the UI. */
export function describeMismatch(m: Mismatch): string {
  const where = m.source ? ` It is set by ${m.source.file}:${m.source.line} (${JSON.stringify(m.source.text.trim())}).` : '';
  return `ssh uses ${m.option} ${showValue(m.actual)} instead of ${showValue(m.expected)}.${where}`;
}

// ---------------------------------------------------------------------------
// Finding where a value comes from: an approximation of ssh's own reading order.

interface ConfigLine {
  file: string;
  line: number;
  text: string;
  keyword: string;
  /** The argument text (raw, after the keyword and blanks / `=`). */
  rest: string;
  /** Whether the enclosing Host/Match block may apply to the alias. */
  active: boolean;
}

const MAX_DEPTH = 16;

function splitKeyword(text: string): { keyword: string; rest: string } | undefined {
  const m = /^\s*([A-Za-z]+)(?:\s*=\s*|\s+)(.*)$/.exec(text);
  if (!m) return undefined;
  return { keyword: m[1]!.toLowerCase(), rest: m[2]!.trim() };
}

/** ssh's match_pattern: `*` and `?`, case-insensitive. */
function globMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    '^' +
      pattern
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.') +
      '$',
    'i',
  );
  return re.test(value);
}

/** `Host` pattern list semantics: any positive match and no negated match. */
export function hostPatternsMatch(patterns: readonly string[], host: string): boolean {
  let matched = false;
  for (const p of patterns) {
    if (p.startsWith('!')) {
      if (globMatch(p.slice(1), host)) return false;
    } else if (globMatch(p, host)) {
      matched = true;
    }
  }
  return matched;
}

function tokens(rest: string): string[] {
  const out: string[] = [];
  const re = /"([^"]*)"|(\S+)/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(rest)) !== null) {
    const t = m[1] ?? m[2]!;
    if (m[2]?.startsWith('#')) break;
    out.push(t);
  }
  return out;
}

async function expandInclude(arg: string, home: string, userConf: boolean): Promise<string[]> {
  let p = arg.startsWith('~/') ? join(home, arg.slice(2)) : arg;
  if (!isAbsolute(p)) p = join(userConf ? join(home, '.ssh') : '/etc/ssh', p);
  if (!/[*?[]/.test(p)) return [p];
  const dir = dirname(p);
  if (/[*?[]/.test(dir)) return []; // globs in directories: not followed
  try {
    const names = (await fs.readdir(dir)).sort();
    return names.filter((n) => globMatch(basename(p), n)).map((n) => join(dir, n));
  } catch {
    return [];
  }
}

async function collectLines(files: readonly string[], alias: string, home: string): Promise<ConfigLine[]> {
  const out: ConfigLine[] = [];
  const visit = async (file: string, inherited: boolean, userConf: boolean, depth: number): Promise<void> => {
    if (depth > MAX_DEPTH) return;
    let text: string;
    try {
      text = await fs.readFile(file, 'utf8');
    } catch {
      return;
    }
    let active = inherited;
    const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
    for (let i = 0; i < lines.length; i++) {
      const raw = lines[i]!;
      if (/^\s*(#|$)/.test(raw)) continue;
      const kw = splitKeyword(raw);
      if (!kw) continue;
      if (kw.keyword === 'host') {
        active =
          inherited &&
          hostPatternsMatch(
            tokens(kw.rest).flatMap((t) => t.split(',')),
            alias,
          );
        continue;
      }
      if (kw.keyword === 'match') {
        // We can't evaluate every criterion; `all` is certain, the rest "may apply".
        active = inherited;
        continue;
      }
      if (kw.keyword === 'include') {
        for (const t of tokens(kw.rest)) {
          for (const f of await expandInclude(t, home, userConf)) await visit(f, active, userConf, depth + 1);
        }
        continue;
      }
      out.push({ file, line: i + 1, text: raw, keyword: kw.keyword, rest: kw.rest, active });
    }
  };
  // The first file is the user's (or -F's): relative Includes there are under ~/.ssh.
  for (const [i, f] of files.entries()) await visit(f, true, i === 0, 0);
  return out;
}

function findSource(lines: readonly ConfigLine[], option: string, actual: string, home: string): OptionSource | undefined {
  const isPath = option === 'identityfile' || option === 'certificatefile';
  const want = isPath ? normalizePath(actual, home) : actual.trim();
  for (const l of lines) {
    if (!l.active || l.keyword !== option) continue;
    const value = option === 'proxycommand' ? l.rest : isPath ? normalizePath(l.rest, home) : unquoteConfigToken(l.rest);
    if (value === want) return { file: l.file, line: l.line, text: l.text, option };
  }
  return undefined;
}
