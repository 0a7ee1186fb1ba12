// What a failure means to the user: a one-line reason for the host's row, the
// whole story for its tooltip and the log, and the one next step that fits the
// cause (Retry, Edit Host, Sign In, Show Log). Pure: the editor layer turns an
// error into a FailureInput (its code, message, next step (action and hint) and the
// system error code of its cause) and renders the result; the mapping lives, and is
// tested, here. The next step an error carries (src/base/app-error.ts) is said in
// the extension's words (`EXTENSION_WORDS`); the helper has its own (src/cli/next-step.ts).

import { nextStepText, type NextStep, type NextStepWords } from '../base/app-error.js';

export type NextAction = 'retry' | 'editHost' | 'signIn' | 'showLog';

/** The button text of each action, as the notification and the row's menu show it. */
export const ACTION_LABELS: Readonly<Record<NextAction, string>> = {
  retry: 'Retry',
  editHost: 'Edit Host',
  signIn: 'Sign In',
  showLog: 'Show Log',
};

/** The extension's words for each next step an error can carry. */
export const EXTENSION_WORDS: NextStepWords = {
  'sign-in': () => 'Sign in again with "Access: Sign In".',
  retry: () => 'Try again in a moment.',
  'check-network': () => 'Check the network connection (and the http.proxy setting, if set).',
  'check-proxy': () => 'Check the http.proxy setting (or HTTPS_PROXY) and the proxy credentials.',
  'check-ca-file': () =>
    'Point the "Access SSH: Extra CA File" setting (accessSSH.extraCAFile) at a readable PEM file with the CA\'s certificate, or clear it.',
  'trust-network-ca': () =>
    'If your network inspects TLS, point the "Access SSH: Extra CA File" setting at its CA\'s certificate (PEM); otherwise do not go on: something is intercepting the connection.',
  'refresh-certificate': () => 'Get a new certificate with "Access: Refresh Certificate", then try again.',
  'write-entries': () => 'Add the host with "Access: Add Host…": the extension writes its ssh entries.',
  'edit-host': (host) => `Check the host name${host ? ` ${host}` : ''} (Edit Host): it must be a Cloudflare Access application.`,
  'free-space': () => 'Free some space on the disk, then try again.',
  'fix-permissions': () => 'Check the owner and permissions of the file and its folder.',
  'check-clock': () => "Set this computer's clock right, then try again.",
  'check-settings': () => 'Check the Access SSH settings.',
  'fix-input': () => 'Check the value and try again.',
};

/** The button each next step gets in the extension. */
const BUTTON: Readonly<Record<NextStep, NextAction>> = {
  'sign-in': 'signIn',
  retry: 'retry',
  'check-network': 'retry',
  'check-proxy': 'showLog',
  'check-ca-file': 'showLog',
  'trust-network-ca': 'showLog',
  'refresh-certificate': 'retry',
  'write-entries': 'editHost',
  'edit-host': 'editHost',
  'free-space': 'showLog',
  'fix-permissions': 'showLog',
  'check-clock': 'showLog',
  'check-settings': 'showLog',
  'fix-input': 'showLog',
};

/** The extension's button for a next step (Sign In, Edit Host, Retry, Show Log). */
export function buttonFor(step: NextStep): NextAction {
  return BUTTON[step];
}

/** An error's next step in the extension's words (its action, then its hint). */
export function extensionNextStep(err: { readonly action?: NextStep; readonly hint?: string; readonly host?: string }): string | undefined {
  return nextStepText(err, EXTENSION_WORDS);
}

export interface FailureInput {
  /** The error's code (AccessError's `network`, `metadata`, …), when it has one. */
  readonly code?: string;
  readonly message: string;
  /** The next step in the extension's words (extensionNextStep), or the hint of an error without an action. */
  readonly hint?: string;
  /** The error's next step (AppError's `action`), read before any text. */
  readonly action?: NextStep;
  /** The system error code of the cause (`ENOTFOUND`, `ERR_TLS_CERT_ALTNAME_INVALID`, …). */
  readonly causeCode?: string;
}

export interface Failure {
  /** Short, lower case, for the row beside the host name (fits the default sidebar width). */
  readonly reason: string;
  /** One sentence for a notification: what happened, in the user's terms. */
  readonly summary: string;
  /** Everything known: the message and the hint (tooltip, log). */
  readonly detail: string;
  readonly action: NextAction;
}

const DNS = new Set(['ENOTFOUND', 'EAI_AGAIN', 'EAI_NONAME', 'ENODATA', 'EAI_FAIL']);
const UNREACHABLE = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE', 'ECONNABORTED']);

/** The first line of a text, at most `max` characters. */
export function firstLine(text: string, max = 160): string {
  const line = (text.split(/\r?\n/, 1)[0] ?? '').trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

function detailOf(input: FailureInput): string {
  return input.hint ? `${input.message}\n${input.hint}` : input.message;
}

/** What a failure on `host` means, and the one action that can help. */
export function classifyFailure(host: string, input: FailureInput): Failure {
  const detail = detailOf(input);
  const make = (reason: string, summary: string, action: NextAction): Failure => ({ reason, summary, detail, action });
  const cause = input.causeCode ?? '';
  const message = input.message;

  switch (input.code) {
    case 'login-required':
      return make('signed out', `You are not signed in to Cloudflare Access for ${host}.`, 'signIn');
    case 'token-refused':
      return make('sign-in refused', `Cloudflare Access no longer accepts your sign-in for ${host}; sign in again.`, 'signIn');
    case 'timeout':
      if (input.action === 'sign-in' || (input.action === undefined && /browser login/i.test(message))) {
        return make('sign-in timed out', `The browser login for ${host} was not completed in time.`, 'signIn');
      }
      return make('no answer', `${host} did not answer in time.`, 'retry');
    case 'metadata':
      // The error's action decides; the texts only for an error that carries none.
      if (input.action === 'edit-host' || (input.action === undefined && /^No Access application/i.test(message))) {
        return make('not an Access app', `${host} is not an application protected by Cloudflare Access.`, 'editHost');
      }
      if (input.action === 'retry' || (input.action === undefined && /failed to answer/i.test(message)))
        return make('Access edge error', `The Cloudflare Access edge failed to answer for ${host}.`, 'retry');
      if (
        input.action === 'check-clock' ||
        (input.action === undefined && /clock|older than|in the future/i.test(message + (input.hint ?? '')))
      ) {
        return make('clock out of sync', `The Access answer for ${host} does not match this computer's clock.`, 'showLog');
      }
      return make('Access check failed', `The Access application of ${host} could not be verified.`, 'showLog');
    case 'network':
      if (DNS.has(cause)) return make('host not found', `The host name ${host} does not resolve.`, 'editHost');
      if (cause === 'ERR_TLS_CERT_ALTNAME_INVALID') {
        return make(
          'not served by Access',
          `The server at ${host} presents a TLS certificate for other names: it is not an Access application.`,
          'editHost',
        );
      }
      if (/CERT|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)/.test(cause)) {
        return make('untrusted TLS', `The TLS certificate of ${host} is not trusted.`, 'showLog');
      }
      if (UNREACHABLE.has(cause) || /cannot reach|broke/i.test(message)) return make('cannot reach', `Cannot reach ${host}.`, 'retry');
      return make('network error', `The network request for ${host} failed.`, 'retry');
    case 'http':
    case 'carrier':
      return make('Access edge error', `Cloudflare Access answered with an error for ${host}.`, 'retry');
    case 'cert-sign':
      return make('no certificate', `Cloudflare Access did not issue a certificate for ${host}.`, 'retry');
    case 'cert-invalid':
      return make('bad certificate', `The certificate Cloudflare Access issued for ${host} was refused.`, 'showLog');
    case 'transfer':
      if (input.action === 'retry' || (input.action === undefined && /HTTP 5\d\d/.test(message)))
        return make('login service error', 'The Cloudflare Access login service failed.', 'retry');
      return make('sign-in failed', `The sign-in for ${host} failed.`, 'signIn');
    case 'lock':
    case 'store':
      return make('cannot save files', 'The token or certificate files in ~/.cloudflared could not be written.', 'showLog');
    case 'config':
      return make('settings problem', 'A setting of Access SSH is not usable.', 'showLog');
    default:
      return make(firstLine(message, 40) || 'failed', firstLine(message), input.action !== undefined ? buttonFor(input.action) : 'showLog');
  }
}
