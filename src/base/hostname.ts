// The one host-name rule. Every layer that takes a host name checks it here: the
// ssh_config writer (src/ssh/validate.ts, which throws SshConfigError with this text),
// the helper's --hostname and --url (src/cli), the auth domain of the metadata and of a
// token's issuer (src/access/auth-domain.ts). A `Hostname` is a string that passed it:
// only `parseHostname` makes one.

import { showValue } from './display.js';

/** A DNS host name that passed `hostnameProblem` (made only by `parseHostname`). */
export type Hostname = string & { readonly __brand: 'Hostname' };

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
 * Why `host` is not a DNS host name as Access applications use them, or undefined
 * when it is one: labels of letters, digits and `-` separated by `.`, each 1–63
 * characters, not starting or ending with `-`, 253 characters in all, no empty label
 * (so no trailing dot). The reason is a phrase ("it starts with "-"") for a message.
 */
export function hostnameProblem(host: unknown): string | undefined {
  if (typeof host !== 'string' || host.length === 0) return 'it is empty';
  const hazard = describeHazard(host);
  if (hazard) return `it contains ${hazard}; only letters, digits, "-" and "." are allowed`;
  if (host.length > HOSTNAME_MAX) return `it is ${host.length} characters long, the limit is ${HOSTNAME_MAX}`;
  if (host.startsWith('-')) return 'it starts with "-"';
  if (host.includes('..') || host.startsWith('.') || host.endsWith('.'))
    return 'it has an empty label (a leading, trailing or doubled ".")';
  for (const label of host.split('.')) {
    if (label.length > LABEL_MAX) return `the label ${showValue(label)} is ${label.length} characters long, the limit is ${LABEL_MAX}`;
    if (!LABEL_RE.test(label)) {
      return /^[A-Za-z0-9-]*$/.test(label)
        ? `the label ${showValue(label)} starts or ends with "-"`
        : `the label ${showValue(label)} has a character other than letters, digits and "-"`;
    }
  }
  return undefined;
}

/** `host` as a `Hostname` when it is one (unchanged: no case folding), else undefined. */
export function parseHostname(host: unknown): Hostname | undefined {
  return hostnameProblem(host) === undefined ? (host as Hostname) : undefined;
}

/**
 * An Access application's domain as its metadata names it (`app_hostname`), the name its
 * app tokens are stored under: a `Hostname`, or one with a wildcard first label
 * (`*.example.com`) and/or a path (`example.com/admin`), as Access applications may be
 * defined. Made only by `parseAppHostname`; cloudflared's file name replaces `*` and `/`.
 */
export type AppHostname = Hostname | (string & { readonly __brand: 'AppHostname' });

/** A URL path's characters (RFC 3986 pchar and `/`): nothing that could leave a file name. */
const APP_PATH_RE = /^\/[A-Za-z0-9._~%!$&'()*+,;=:@/-]*$/;

/** `value` as an `AppHostname` when it is one, else undefined. */
export function parseAppHostname(value: unknown): AppHostname | undefined {
  const host = parseHostname(value);
  if (host !== undefined || typeof value !== 'string') return host;
  const slash = value.indexOf('/');
  const domain = slash < 0 ? value : value.slice(0, slash);
  const path = slash < 0 ? '' : value.slice(slash);
  if (path !== '' && !APP_PATH_RE.test(path)) return undefined;
  const bare = domain.startsWith('*.') ? domain.slice(2) : domain;
  return parseHostname(bare) !== undefined ? (value as AppHostname) : undefined;
}
