// The carrier flags of `ssh`/`tcp` that become websocket headers, as cloudflared's
// cmd/cloudflared/access/carrier.go builds them: `--header/-H "Name: value"`
// (repeatable) and `--destination` (Cf-Access-Jump-Destination, carrier.SetBastionDest).
// cloudflared drops a value without ":" and lets -H replace any header; we refuse
// both, and every header we set ourselves, with the flag to use instead.

import { isHeaderName } from '../base/http-header.js';
import { UsageError } from './args.js';

/** The header cloudflared's SetBastionDest sets from --destination. */
export const JUMP_DESTINATION_HEADER = 'Cf-Access-Jump-Destination';

/** Control characters other than tab (CR, LF and NUL among them) and DEL. */
const CONTROL_RE = /[\u0000-\u0008\u000a-\u001f\u007f]/;

/** Lower-case name → why -H may not set it, and what to use instead. */
const RESERVED: ReadonlyMap<string, string> = new Map([
  [
    'cf-access-token',
    'access-ssh sends the stored app token itself (access-ssh login <url>); a token in a command line is readable by every local user',
  ],
  ['cf-access-client-id', 'use --service-token-id (or TUNNEL_SERVICE_TOKEN_ID)'],
  ['cf-access-client-secret', 'use --service-token-secret (or TUNNEL_SERVICE_TOKEN_SECRET)'],
  ['cookie', 'Access credentials travel in Cf-Access-Token, which access-ssh sets itself (access-ssh login <url>)'],
  [JUMP_DESTINATION_HEADER.toLowerCase(), 'use --destination'],
  ['user-agent', 'access-ssh sends its own User-Agent (as cloudflared replaces a -H User-Agent with its own)'],
  ['host', "the Host is the application's host name (--hostname); to reach the edge elsewhere, use ACCESS_SSH_CONNECT_TO"],
  ['proxy-authorization', 'proxy credentials go in the proxy URL (HTTPS_PROXY=http://user:password@proxy:port)'],
]);
/** Headers of the websocket handshake and HTTP framing: the websocket library sets them. */
const FRAMING = new Set([
  'connection',
  'upgrade',
  'content-length',
  'transfer-encoding',
  'te',
  'trailer',
  'keep-alive',
  'proxy-connection',
  'sec-websocket-key',
  'sec-websocket-version',
  'sec-websocket-extensions',
  'sec-websocket-protocol',
  'sec-websocket-accept',
]);

/** A value quoted for a message: JSON string, cut short. */
function shown(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value);
}

/**
 * `-H` values → headers (name as first given; repeated names joined with ", ",
 * the HTTP equivalent of repeating the line). Throws UsageError for a value
 * without "Name: value", a bad name, a control character, or a header that
 * access-ssh sets itself.
 */
export function parseHeaders(values: readonly string[], command: string): Record<string, string> {
  const byLower = new Map<string, { name: string; values: string[] }>();
  for (const raw of values) {
    const colon = raw.indexOf(':');
    // Only the name goes into messages: a header value may be a secret.
    if (colon < 0) throw new UsageError('--header takes "Name: value"; one of the values given has no ":".', command);
    const name = raw.slice(0, colon).trim();
    const value = raw.slice(colon + 1).trim();
    if (!isHeaderName(name)) throw new UsageError(`--header: ${shown(name)} is not a valid header name.`, command);
    if (CONTROL_RE.test(value)) throw new UsageError(`--header ${name}: the value has a line break or another control character.`, command);
    const lower = name.toLowerCase();
    const reserved = RESERVED.get(lower);
    if (reserved) throw new UsageError(`--header ${name} is not accepted: ${reserved}.`, command);
    if (FRAMING.has(lower)) throw new UsageError(`--header ${name} is not accepted: the websocket handshake sets it.`, command);
    const entry = byLower.get(lower);
    if (entry) entry.values.push(value);
    else byLower.set(lower, { name, values: [value] });
  }
  const out: Record<string, string> = {};
  for (const { name, values: v } of byLower.values()) out[name] = v.join(', ');
  return out;
}

/** `--destination`: sent verbatim (as cloudflared does), once checked to be a header value naming something. */
export function checkDestination(value: string | undefined, command: string): string | undefined {
  if (value === undefined) return undefined;
  const v = value.trim();
  if (v === '') throw new UsageError('--destination is empty.', command);
  if (CONTROL_RE.test(v) || /\s/.test(v))
    throw new UsageError(`--destination ${shown(v)} has a space, a line break or another control character.`, command);
  if (v.length > 1024) throw new UsageError('--destination is longer than 1024 characters.', command);
  return v;
}
