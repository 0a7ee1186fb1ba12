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

import { AppError, type NextStep } from '../base/app-error.js';
import { showValue } from '../base/display.js';
import { describeHazard, hostnameProblem, parseHostname, type Hostname } from '../base/hostname.js';

/** An error the user sees: what is wrong, and what to do about it (an AppError). */
export class SshConfigError extends AppError<SshConfigErrorCode> {
  override readonly name = 'SshConfigError';
  /** More about the next step (always given for this error). */
  declare readonly hint: string;
  constructor(
    message: string,
    /** More about the next step, without UI words. */
    hint: string,
    /** A stable machine-readable reason. */
    code: SshConfigErrorCode = 'invalid-value',
    options: { action?: NextStep; cause?: unknown } = {},
  ) {
    super(code, message, { hint, action: options.action ?? (code === 'invalid-value' ? 'fix-input' : undefined), cause: options.cause });
  }
}

export type SshConfigErrorCode =
  | 'invalid-value' // a host, user, path or argument we refuse to write
  | 'broken-marker' // the managed block in the user's ssh config is damaged
  | 'changed-meanwhile' // the user's ssh config kept changing while we edited it
  | 'ssh-failed' // `ssh -G` could not read the configuration
  | 'read-only' // the user made the file read-only: we do not replace it
  | 'file-error'; // the file could not be read or written (the message names it: ENOSPC, a folder, ...)

export { describeHazard, parseHostname, type Hostname } from '../base/hostname.js';

/** The one safe display lives in src/base/display.ts; re-exported for src/ssh's callers. */
export { escapeUnsafeForDisplay, showValue } from '../base/display.js';

/**
 * A DNS host name as Access applications use them (the rule is `hostnameProblem` in
 * src/base/hostname.ts, the one host-name validator, which src/access uses too).
 * Returns the host name as a `Hostname`; throws `SshConfigError` otherwise.
 */
export function validateHostname(host: string): Hostname {
  const ok = parseHostname(host);
  if (ok !== undefined) return ok;
  throw new SshConfigError(
    `Invalid host name ${showValue(host)}: ${hostnameProblem(host) ?? 'it is not a host name'}.`,
    'Use the plain DNS name of the Access application, for example "ssh.example.com" (no scheme, port, path or spaces).',
  );
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
export function hostFromAlias(alias: string): Hostname | undefined {
  if (!alias.startsWith(ALIAS_PREFIX)) return undefined;
  return parseHostname(alias.slice(ALIAS_PREFIX.length));
}
