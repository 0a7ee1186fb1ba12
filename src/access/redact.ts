// Masks secrets in text bound for logs, error reports and output channels:
// a log line must never be enough to impersonate the user.

import { displayText } from '../base/display.js';

const MASK = '[redacted]';

const RULES: ReadonlyArray<readonly [RegExp, (match: string, ...groups: string[]) => string]> = [
  // PEM private keys (any kind: RSA, EC, OPENSSH, ENCRYPTED ...), whole block.
  [
    /-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----[\s\S]*?(?:-----END \1PRIVATE KEY-----|$)/g,
    (_m, kind: string) => `-----BEGIN ${kind}PRIVATE KEY----- ${MASK} -----END ${kind}PRIVATE KEY-----`,
  ],
  // Credentials in URLs (a proxy URL's user:password@).
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/?#@"']+@/gi, (_m, scheme: string) => `${scheme}${MASK}@`],
  // Cookie values that are credentials.
  [/\b(CF_Authorization|CF_AppSession|CF_Session|CF_Binding)=([^;,\s"']+)/gi, (_m, name: string) => `${name}=${MASK}`],
  // Secret header values, in "Name: value" or JSON "name":"value" form.
  [
    /\b(Cf-Access-Token|Cf-Access-Client-Secret|Cf-Access-Jwt-Assertion|Authorization)(["']?\s*[:=]\s*["']?)([^\s"',;]+(?: [^\s"',;]+)?)/gi,
    (_m, name: string, sep: string) => `${name}${sep}${MASK}`,
  ],
  // token= (and service token secret) query and form values.
  [
    /([?&;\s]|^)((?:token|app_token|org_token|client_secret|service-token-secret)=)([^&\s#"']+)/gi,
    (_m, lead: string, key: string) => `${lead}${key}${MASK}`,
  ],
  // JSON fields that hold tokens.
  [
    /("(?:app_token|org_token|jwt|token|client_secret|clientSecret)"\s*:\s*")([^"]*)(")/g,
    (_m, a: string, _v: string, b: string) => `${a}${MASK}${b}`,
  ],
  // Anything JWT-shaped: base64url segments whose first two are JSON objects
  // ("eyJ"); a truncated one (cut after the payload) too.
  [/\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]*(?:\.[A-Za-z0-9_-]*)?/g, () => MASK],
];

/** Replace secrets in `text` with a marker; everything else is kept. */
export function redact(text: string): string {
  let out = text;
  for (const [re, replace] of RULES) {
    out = out.replace(re, replace as (substring: string, ...args: unknown[]) => string);
  }
  return out;
}

/** The longest log line shown; the rest of a longer one is cut. */
const LOG_LINE_MAX = 2000;

/**
 * A log message as the lines to show: secrets masked, then every line through the one safe
 * display (no escape sequence, CR, bidi override or line separator from a value reaches a
 * terminal or the editor's log), each capped. The CLI and the extension both log through it.
 */
export function logLines(message: string): string[] {
  return redact(message)
    .replace(/\r?\n$/, '')
    .split(/\r?\n/)
    .map((l) => displayText(l, LOG_LINE_MAX));
}

/** A Logger wrapper that makes every message safe (logLines) before it reaches `inner`. */
export function redactingLogger<L extends Record<'trace' | 'debug' | 'info' | 'warn' | 'error', (m: string) => void>>(inner: L): L {
  const wrap =
    (fn: (m: string) => void) =>
    (m: string): void =>
      fn(logLines(m).join('\n'));
  return {
    ...inner,
    trace: wrap(inner.trace.bind(inner)),
    debug: wrap(inner.debug.bind(inner)),
    info: wrap(inner.info.bind(inner)),
    warn: wrap(inner.warn.bind(inner)),
    error: wrap(inner.error.bind(inner)),
  };
}
