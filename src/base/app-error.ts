// The one error model. Every error we raise for the user is an AppError: a stable
// `code` (what went wrong, for programs and tests), a `message` (what happened), and
// the next step as an `action` the front end renders in its own words (the helper
// names its `login` command line, the extension its Sign In command and button) plus
// an optional `hint`: more about that step, in words that fit every front end (no
// command names, no button labels). The layers below the front ends (src/access,
// src/ssh, src/base) never name a VS Code command or a command line of the helper.

/** The next step a user can take, rendered by each front end in its own words. */
export type NextStep =
  | 'sign-in' // sign in to Cloudflare Access (a browser login) for `host`
  | 'retry' // a passing failure: try again
  | 'check-network' // the route to the host: DNS, firewall, ACCESS_SSH_CONNECT_TO
  | 'check-proxy' // the proxy settings or credentials
  | 'check-ca-file' // the extra CA file (NODE_EXTRA_CA_CERTS, the extension's setting) is not a readable PEM file
  | 'trust-network-ca' // the network re-signs TLS: trust its CA (the extra CA file), or stop
  | 'refresh-certificate' // the host's certificate is missing or unusable: get a new one
  | 'write-entries' // ssh has no Access entries for the host: write them
  | 'edit-host' // the host name is wrong or not an Access application
  | 'free-space' // the disk is full
  | 'fix-permissions' // a file or folder has the wrong owner or mode (the hint names the command)
  | 'check-clock' // this computer's clock is off
  | 'check-settings' // a setting or environment variable is not usable
  | 'fix-input'; // a value given on the command line, in a link or a setting is refused

/** Every NextStep, for the front ends' tables and their tests. */
export const NEXT_STEPS: readonly NextStep[] = [
  'sign-in',
  'retry',
  'check-network',
  'check-proxy',
  'check-ca-file',
  'trust-network-ca',
  'refresh-certificate',
  'write-entries',
  'edit-host',
  'free-space',
  'fix-permissions',
  'check-clock',
  'check-settings',
  'fix-input',
];

export interface AppErrorOptions {
  /** The next step; the front end says it in its own words. */
  readonly action?: NextStep | undefined;
  /** More about the next step, without UI words (no command names, no button labels). */
  readonly hint?: string | undefined;
  /** The host the next step is about (whom to sign in to, which host to edit). */
  readonly host?: string | undefined;
  readonly cause?: unknown;
}

export class AppError<Code extends string = string> extends Error {
  readonly code: Code;
  readonly action?: NextStep;
  readonly hint?: string;
  readonly host?: string;

  constructor(code: Code, message: string, options: AppErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AppError';
    this.code = code;
    if (options.action !== undefined) this.action = options.action;
    if (options.hint !== undefined) this.hint = options.hint;
    if (options.host !== undefined) this.host = options.host;
  }
}

export function isAppError(value: unknown): value is AppError {
  return value instanceof AppError;
}

/** A front end's words for each next step; `host` is the error's, when it names one. */
export type NextStepWords = Readonly<Record<NextStep, (host: string | undefined) => string>>;

/**
 * The next step of `err` as one text, in a front end's `words`: for `sign-in` (the
 * step that names a front end's command) the words, then the hint; for the others
 * the hint when there is one (it says the step with the detail: the file, the
 * setting), else the words. Undefined for an error without either.
 */
export function nextStepText(
  err: { readonly action?: NextStep; readonly hint?: string; readonly host?: string },
  words: NextStepWords,
): string | undefined {
  if (err.action === undefined) return err.hint;
  const said = words[err.action](err.host);
  if (err.action === 'sign-in') return err.hint ? `${said} ${err.hint}` : said;
  return err.hint ?? said;
}
