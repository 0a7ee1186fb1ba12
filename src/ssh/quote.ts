/**
 * Quoting for ssh_config, per platform.
 *
 * Nothing here reads `process.platform`: the caller says which OpenSSH it writes for.
 *
 * ## What OpenSSH does with a line (read off openssh-portable, checked with ssh -G)
 *
 * 1. Every line is split by `argv_split()` (misc.c, since 8.7) to check its quotes.
 *    Tokens are separated by blanks; `"…"` and `'…'` group; a `#` at the start of a
 *    token ends the line. Inside or outside quotes a backslash escapes only `\`,
 *    `'` and `"` (and a space outside quotes): `\\` → `\`, `\"` → `"`, `\'` → `'`;
 *    any other backslash is kept as it is. Inside double quotes a `'` is an ordinary
 *    character. An unbalanced quote is "invalid quotes" and the whole file fails.
 *    Keywords such as `IdentityFile`, `CertificateFile`, `Include`, `User` take
 *    their argument from these tokens.
 * 2. `Match` (OpenSSH ≤ 9.9, and every OpenSSH for Windows release so far) is
 *    re-split by the older `strdelim()`: only `"` groups, and a backslash is never
 *    special, so `\\` stays `\\`. OpenSSH 10 uses `argv_split()` for `Match` too.
 *    OpenSSH ≤ 8.6 used `strdelim()` for everything.
 * 3. `ProxyCommand` takes the raw rest of the line (after the keyword), quotes and
 *    all, and hands it to `$SHELL -c "exec <command>"` after %-expansion (Windows:
 *    see below).
 *
 * So that every OpenSSH reads our bytes the same way, we never emit a backslash
 * before `\`, `'` or `"` or at the end of a quoted value (the tokenizers disagree
 * there), and never a `"` inside a double-quoted value (strdelim cannot represent
 * one). Such values are refused, not guessed at.
 *
 * ## Expansions after tokenizing
 *
 * - `IdentityFile`, `CertificateFile`: `~` expansion, then `%`-tokens and `${VAR}`
 *   (so `%` is written `%%`; a literal `${` cannot be written at all).
 * - `ProxyCommand`, `Match exec`: `%`-tokens (so `%` → `%%`), then the shell.
 * - `Include`: glob; OpenSSH ≥ 10 also expands `%`-tokens and `${VAR}`, older ones do
 *   not, so a `%`, `${` or glob character in an Include path is refused.
 *
 * ## Windows (Win32-OpenSSH)
 *
 * - `ProxyCommand` is not run through a shell: the command line goes to
 *   CreateProcess. When it does not begin with `"`, Win32-OpenSSH wraps it in quotes
 *   itself (whole, unless it contains `.exe `), which breaks a `.cmd` launcher with
 *   arguments; when it begins with `"` it is passed as it is. So the program is
 *   always double-quoted there: `"C:\Users\Jane Doe\…\access-ssh.cmd" ssh …`.
 * - `Match exec` is run with `system()`, i.e. `cmd.exe /c`, and the command is one
 *   `"…"`-token of strdelim, which cannot contain a `"`. So the program path can't
 *   be quoted there: a path with a space, or any cmd.exe metacharacter, is refused
 *   with a hint to use a path without spaces (for example the 8.3 short name).
 */
import { showValue } from '../base/display.js';
import { SshConfigError } from './validate.js';

/** An argument ssh replaces itself, written unescaped (e.g. `%h`). */
export interface SshToken {
  readonly sshToken: 'h' | 'p' | 'r' | 'n';
}
export type CommandArg = string | SshToken;

const CONTROL_RE = /[\u0000-\u001f\u007f]/;

function refuse(what: string, value: string, rule: string, hint: string): never {
  throw new SshConfigError(`Cannot write ${what} ${showValue(value)} into the ssh config: ${rule}.`, hint, 'invalid-value');
}

const MOVE_HINT = 'Move it to a folder whose path has no such character, or set its location in the settings.';

/** `%` → `%%`: ssh expands %-tokens in every value we write that can hold a path. */
export function escapePercent(value: string): string {
  return value.replace(/%/g, '%%');
}

/** Backslash placements that OpenSSH's tokenizers read differently (see above). */
function checkBackslashes(what: string, value: string): void {
  const bad = /\\(?=[\\'"]|$)/.exec(value);
  if (bad) {
    refuse(
      what,
      value,
      bad.index === value.length - 1
        ? 'it ends with a backslash, which would escape the closing quote'
        : 'a backslash followed by a backslash or quote is read differently by different OpenSSH versions',
      MOVE_HINT,
    );
  }
}

function checkCommon(what: string, value: string): void {
  if (value.length === 0) refuse(what, value, 'it is empty', MOVE_HINT);
  if (CONTROL_RE.test(value)) refuse(what, value, 'it contains a line break or control character', MOVE_HINT);
  if (value.includes('"')) refuse(what, value, 'it contains a double quote, which an ssh_config value cannot hold', MOVE_HINT);
  checkBackslashes(what, value);
}

/**
 * A file path for `IdentityFile` / `CertificateFile`: double-quoted, `%` doubled,
 * a leading `~` kept (ssh expands it after removing the quotes).
 * Refuses `"`, line breaks and control characters, `${`, and backslashes before
 * `\`, `'`, `"` or at the end.
 */
export function quoteConfigPath(path: string, _platform: NodeJS.Platform): string {
  void _platform; // the rules are the same on every platform; kept for symmetry with the command quoting
  checkCommon('the path', path);
  if (path.includes('${'))
    refuse('the path', path, '"${" would be expanded by ssh as an environment variable and cannot be escaped', MOVE_HINT);
  return `"${escapePercent(path)}"`;
}

/**
 * A path for `Include`: double-quoted; no `%`, `${` (expanded by OpenSSH 10, not by
 * 9: no single spelling works for both) and no glob characters `*`, `?`, `[`.
 */
export function quoteIncludePath(path: string, platform: NodeJS.Platform): string {
  void platform;
  checkCommon('the include path', path);
  if (path.includes('%')) refuse('the include path', path, 'a "%" is expanded by some OpenSSH versions and not by others', MOVE_HINT);
  if (path.includes('${')) refuse('the include path', path, '"${" is expanded by some OpenSSH versions and not by others', MOVE_HINT);
  if (/[*?[\]]/.test(path)) refuse('the include path', path, 'ssh treats "*", "?" and "[" in an Include as a glob', MOVE_HINT);
  return `"${path}"`;
}

/** Characters a POSIX shell word may hold unquoted, and that every tokenizer keeps as they are. */
const SHELL_SAFE_RE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** POSIX shell single quoting: any value, one word, nothing expanded. */
export function shellQuote(value: string): string {
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A POSIX shell word: as it is when it needs no quoting, else single-quoted. */
export function shellWord(value: string): string {
  return SHELL_SAFE_RE.test(value) ? value : shellQuote(value);
}
/** Arguments on Windows (CreateProcess and cmd.exe alike) may only use these. */
const WIN_ARG_SAFE_RE = /^[A-Za-z0-9_@%+=:,./-]+$/;

function isAbsoluteWin(p: string): boolean {
  return /^[A-Za-z]:[\\/]/.test(p);
}

function posixWord(what: string, value: string): string {
  checkCommon(what, value);
  if (value.includes('\\')) refuse(what, value, 'a backslash in a command is read differently by different OpenSSH versions', MOVE_HINT);
  if (value.includes("'")) {
    refuse(what, value, "a single quote cannot be written in a shell command that ssh_config's Match line also has to carry", MOVE_HINT);
  }
  return SHELL_SAFE_RE.test(value) ? escapePercent(value) : `'${escapePercent(value)}'`;
}

function posixProgram(program: string): string {
  if (program.startsWith('~/')) {
    // `~/'rest'`: the shell expands the unquoted tilde prefix.
    const rest = program.slice(2);
    return rest.length === 0 ? '~/' : `~/${posixWord('the helper path', rest)}`;
  }
  if (!program.startsWith('/')) {
    refuse(
      'the helper path',
      program,
      'it is not an absolute path',
      'Give the full path of the launcher, for example "/home/me/.vscode/…/access-ssh".',
    );
  }
  return posixWord('the helper path', program);
}

function winArg(value: string): string {
  if (!WIN_ARG_SAFE_RE.test(value)) {
    refuse(
      'the argument',
      value,
      'on Windows a helper argument may only hold letters, digits and _@%+=:,./-',
      'Remove the unusual characters from the argument.',
    );
  }
  return escapePercent(value);
}

function argText(arg: CommandArg, platform: NodeJS.Platform): string {
  if (typeof arg !== 'string') return `%${arg.sshToken}`;
  return platform === 'win32' ? winArg(arg) : posixWord('the argument', arg);
}

function checkWinProgram(program: string): void {
  checkCommon('the helper path', program);
  if (!isAbsoluteWin(program)) {
    refuse(
      'the helper path',
      program,
      'it is not an absolute path (like C:\\Users\\…\\access-ssh.cmd)',
      'Give the full path of the launcher.',
    );
  }
  if (program.includes('%')) {
    // cmd.exe expands %VAR% after ssh has turned %% back into %, in Match exec and in a .cmd launcher.
    refuse('the helper path', program, 'a "%" in a command path would be expanded by cmd.exe', MOVE_HINT);
  }
}

/**
 * The value of `ProxyCommand`: program and arguments, quoted for the way ssh runs it
 * (`$SHELL -c "exec …"` on Unix, CreateProcess on Windows), `%` doubled in literal
 * parts, ssh tokens such as `%h` written as they are.
 */
export function proxyCommandValue(program: string, args: readonly CommandArg[], platform: NodeJS.Platform): string {
  if (platform === 'win32') {
    checkWinProgram(program);
    // Always quoted: Win32-OpenSSH passes a command line starting with `"` through unchanged.
    return [`"${program}"`, ...args.map((a) => argText(a, platform))].join(' ');
  }
  return [posixProgram(program), ...args.map((a) => argText(a, platform))].join(' ');
}

/**
 * The argument of `Match exec`: the whole command as one double-quoted token.
 * Unix: run by `$SHELL -c`, so the program is single-quoted inside the double quotes.
 * Windows: run by cmd.exe, and no `"` can be carried, so the program path must need
 * no quoting at all.
 */
export function matchExecValue(program: string, args: readonly CommandArg[], platform: NodeJS.Platform): string {
  if (platform === 'win32') {
    checkWinProgram(program);
    const m = /[ \t&|<>^()!,;=]/.exec(program);
    if (m) {
      refuse(
        'the helper path',
        program,
        `OpenSSH for Windows runs "Match exec" with cmd.exe and cannot quote a path there, so it may not contain ${m[0] === ' ' ? 'a space' : JSON.stringify(m[0])}`,
        'Put the launcher in a folder whose path has no spaces, or use its 8.3 short path (dir /x).',
      );
    }
    return `"${[program, ...args.map((a) => argText(a, platform))].join(' ')}"`;
  }
  return `"${[posixProgram(program), ...args.map((a) => argText(a, platform))].join(' ')}"`;
}

/**
 * Reads one ssh_config argument back the way `argv_split()` does (quotes removed,
 * `\\`, `\"`, `\'` unescaped). Used to compare values with what `ssh -G` prints.
 */
export function unquoteConfigToken(token: string): string {
  let out = '';
  let quote = '';
  for (let i = 0; i < token.length; i++) {
    const c = token[i]!;
    if (c === '\\' && (token[i + 1] === '\\' || token[i + 1] === '"' || token[i + 1] === "'" || (!quote && token[i + 1] === ' '))) {
      out += token[++i];
    } else if (!quote && (c === '"' || c === "'")) {
      quote = c;
    } else if (quote && c === quote) {
      quote = '';
    } else {
      out += c;
    }
  }
  return out;
}
