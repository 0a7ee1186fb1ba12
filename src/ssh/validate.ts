/**
 * Validation of every value that enters an ssh_config file.
 *
 * ssh_config is a line-oriented format with its own tokenizer, `%` tokens and
 * comments, and some of our values reach a shell (`ProxyCommand`, `Match exec`).
 * So host and user names are held to a strict alphabet: anything that could end
 * a line, open a quote, start a comment, expand a token, match a pattern or run
 * a command is refused, with an error that names the value (JSON-quoted, so a
 * newline or control character shows as `\n`, never as a broken message).
 */

/** An error the user sees: what is wrong, and what to do about it. */
export class SshConfigError extends Error {
  override readonly name = 'SshConfigError';
  constructor(
    message: string,
    /** The next step for the user. */
    readonly hint: string,
    /** A stable machine-readable reason. */
    readonly code: SshConfigErrorCode = 'invalid-value',
  ) {
    super(message);
  }
}

export type SshConfigErrorCode =
  | 'invalid-value' // a host, user, path or argument we refuse to write
  | 'broken-marker' // the managed block in the user's ssh config is damaged
  | 'changed-meanwhile' // the user's ssh config kept changing while we edited it
  | 'ssh-failed' // `ssh -G` could not read the configuration
  | 'read-only' // the user made the file read-only: we do not replace it
  | 'file-error'; // the file could not be read or written (the message names it: ENOSPC, a folder, ...)

import { showValue } from '../base/display.js';

/** The one safe display lives in src/base/display.ts; re-exported for src/ssh's callers. */
export { escapeUnsafeForDisplay, showValue } from '../base/display.js';

/** A one-line description of the first hazardous character in `value`, if any. */
export function describeHazard(value: string): string | undefined {
  for (const ch of value) {
    const cp = ch.codePointAt(0) ?? 0;
    if (ch === '\n' || ch === '\r') return 'a line break';
    if (cp < 0x20 || cp === 0x7f) return `a control character (U+${cp.toString(16).padStart(4, '0').toUpperCase()})`;
    if (cp > 0x7e) return `a non-ASCII character (${showValue(ch)})`;
    switch (ch) {
      case ' ':
        return 'a space';
      case '"':
      case "'":
        return 'a quote';
      case '`':
        return 'a backtick';
      case '$':
        return 'a "$"';
      case '%':
        return 'a "%" (ssh expands %-tokens)';
      case '#':
        return 'a "#" (starts a comment in ssh_config)';
      case '*':
      case '?':
      case '!':
        return `a pattern character (${JSON.stringify(ch)})`;
      case '\\':
        return 'a backslash';
      case ',':
        return 'a comma (separates patterns in ssh_config)';
      case ';':
      case '&':
      case '|':
      case '<':
      case '>':
      case '(':
      case ')':
      case '{':
      case '}':
        return `a shell metacharacter (${JSON.stringify(ch)})`;
      default:
    }
  }
  return undefined;
}

const HOSTNAME_MAX = 253;
const LABEL_MAX = 63;
const LABEL_RE = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

/**
 * A DNS host name as Access applications use them: labels of letters, digits and
 * `-` separated by `.`, each 1–63 characters, not starting or ending with `-`,
 * 253 characters in all, no empty label (so no trailing dot).
 * Returns the host name unchanged; throws `SshConfigError` otherwise.
 */
export function validateHostname(host: string): string {
  const refuse = (rule: string): never => {
    throw new SshConfigError(
      `Invalid host name ${showValue(host)}: ${rule}.`,
      'Use the plain DNS name of the Access application, for example "ssh.example.com" (no scheme, port, path or spaces).',
    );
  };
  if (typeof host !== 'string' || host.length === 0) refuse('it is empty');
  const hazard = describeHazard(host);
  if (hazard) refuse(`it contains ${hazard}; only letters, digits, "-" and "." are allowed`);
  if (host.length > HOSTNAME_MAX) refuse(`it is ${host.length} characters long, the limit is ${HOSTNAME_MAX}`);
  if (host.startsWith('-')) refuse('it starts with "-"');
  if (host.includes('..') || host.startsWith('.') || host.endsWith('.'))
    refuse('it has an empty label (a leading, trailing or doubled ".")');
  for (const label of host.split('.')) {
    if (label.length > LABEL_MAX) refuse(`the label ${showValue(label)} is ${label.length} characters long, the limit is ${LABEL_MAX}`);
    if (!LABEL_RE.test(label)) {
      refuse(
        /^[A-Za-z0-9-]*$/.test(label)
          ? `the label ${showValue(label)} starts or ends with "-"`
          : `the label ${showValue(label)} has a character other than letters, digits and "-"`,
      );
    }
  }
  return host;
}

const USER_MAX = 64;
const USER_RE = /^[A-Za-z0-9_][A-Za-z0-9._-]*$/;

/**
 * A POSIX-ish login name: letters, digits, `.`, `_`, `-`, not starting with `-`
 * or `.`, at most 64 characters (useradd's default limit is 32; some systems allow
 * more, and a longer name cannot break the file). The Access principal is the
 * e-mail's local part, so `jdoe` for `jdoe@example.com`.
 */
export function validateUser(user: string): string {
  const refuse = (rule: string): never => {
    throw new SshConfigError(
      `Invalid user name ${showValue(user)}: ${rule}.`,
      'The user is the local part of your Access e-mail (jdoe for jdoe@example.com) and must be a valid login name on the server.',
    );
  };
  if (typeof user !== 'string' || user.length === 0) refuse('it is empty');
  const hazard = describeHazard(user);
  if (hazard) refuse(`it contains ${hazard}; only letters, digits, ".", "_" and "-" are allowed`);
  if (user.length > USER_MAX) refuse(`it is ${user.length} characters long, the limit is ${USER_MAX}`);
  if (user.startsWith('-')) refuse('it starts with "-"');
  if (user.startsWith('.')) refuse('it starts with "."');
  if (!USER_RE.test(user)) refuse('only letters, digits, ".", "_" and "-" are allowed');
  return user;
}

/** The prefix of the aliases Remote-SSH connects to (the Cloudflare guide's pattern). */
export const ALIAS_PREFIX = 'cfpipe-';

/** `cfpipe-<host>`, after validating the host name. */
export function aliasFor(host: string): string {
  return ALIAS_PREFIX + validateHostname(host);
}

/** The host name behind a `cfpipe-` alias, or undefined when `alias` is not one. */
export function hostFromAlias(alias: string): string | undefined {
  if (!alias.startsWith(ALIAS_PREFIX)) return undefined;
  const host = alias.slice(ALIAS_PREFIX.length);
  try {
    return validateHostname(host);
  } catch {
    return undefined;
  }
}
