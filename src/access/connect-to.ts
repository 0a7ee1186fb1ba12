// curl's --connect-to rules: change where the TCP connection goes, never the
// name used for TLS or the Host header. This is how tests and the sandbox
// reach a local Access edge under the real host names.

import { showValue } from '../base/display.js';
import { AccessError } from './errors.js';

export interface ConnectToRule {
  /** Host to match (lower case, no brackets); undefined matches any host. */
  readonly fromHost?: string;
  /** Port to match; undefined matches any port. */
  readonly fromPort?: number;
  /** Host to connect to (no brackets); undefined keeps the original host. */
  readonly toHost?: string;
  /** Port to connect to; undefined keeps the original port. */
  readonly toPort?: number;
}

const HINT = 'Use HOST:PORT:TO_HOST:TO_PORT entries separated by commas, e.g. "::127.0.0.1:8443" (IPv6 in brackets).';

/** Parse a comma-separated list of `HOST1:PORT1:HOST2:PORT2`. Empty input gives no rules. */
export function parseConnectTo(spec: string): ConnectToRule[] {
  const rules: ConnectToRule[] = [];
  for (const raw of spec.split(',')) {
    const entry = raw.trim();
    if (entry === '') continue;
    rules.push(parseEntry(entry));
  }
  return rules;
}

function parseEntry(entry: string): ConnectToRule {
  const fields = splitFields(entry);
  if (fields.length !== 4) {
    throw new AccessError(
      'config',
      `Invalid connect-to entry ${showValue(entry)}: expected 4 fields HOST1:PORT1:HOST2:PORT2, got ${fields.length}.`,
      { hint: HINT },
    );
  }
  const [h1, p1, h2, p2] = fields as [string, string, string, string];
  const rule: { fromHost?: string; fromPort?: number; toHost?: string; toPort?: number } = {};
  if (h1 !== '') rule.fromHost = parseHost(h1, entry).toLowerCase();
  if (p1 !== '') rule.fromPort = parsePort(p1, entry);
  if (h2 !== '') rule.toHost = parseHost(h2, entry);
  if (p2 !== '') rule.toPort = parsePort(p2, entry);
  return rule;
}

/** Split on `:` outside of `[...]`. */
function splitFields(entry: string): string[] {
  const fields: string[] = [];
  let current = '';
  let inBracket = false;
  for (const ch of entry) {
    if (ch === '[') {
      if (inBracket || current !== '') throw bad(entry, '"[" may only open a host field');
      inBracket = true;
      current += ch;
    } else if (ch === ']') {
      if (!inBracket) throw bad(entry, 'unbalanced "]"');
      inBracket = false;
      current += ch;
    } else if (ch === ':' && !inBracket) {
      fields.push(current);
      current = '';
    } else {
      if (!inBracket && current.endsWith(']')) throw bad(entry, 'text after "]"');
      current += ch;
    }
  }
  if (inBracket) throw bad(entry, 'unclosed "["');
  fields.push(current);
  return fields;
}

const HOST_NAME = /^[A-Za-z0-9_]([A-Za-z0-9_.-]*[A-Za-z0-9_.])?$/;
const IPV6 = /^[0-9A-Fa-f:.]+(%[A-Za-z0-9_.-]+)?$/;

function parseHost(field: string, entry: string): string {
  if (field.startsWith('[')) {
    const inner = field.slice(1, -1);
    if (!field.endsWith(']') || inner === '' || !inner.includes(':') || !IPV6.test(inner)) {
      throw bad(entry, `${showValue(field, 40)} is not a bracketed IPv6 address`);
    }
    return inner;
  }
  if (!HOST_NAME.test(field)) throw bad(entry, `${showValue(field, 40)} is not a host name or IPv4 address`);
  return field;
}

function parsePort(field: string, entry: string): number {
  if (!/^[0-9]{1,5}$/.test(field)) throw bad(entry, `port ${showValue(field, 40)} is not a number`);
  const port = Number(field);
  if (port < 1 || port > 65535) throw bad(entry, `port ${port} is out of range 1-65535`);
  return port;
}

function bad(entry: string, why: string): AccessError {
  return new AccessError('config', `Invalid connect-to entry ${showValue(entry)}: ${why}.`, { hint: HINT });
}

/**
 * Where to open the TCP connection for `host:port`. The first matching rule
 * wins; with no match the destination is unchanged. `host` may carry IPv6
 * brackets (as URL.hostname does); the result never does.
 */
export function resolveConnectTo(rules: readonly ConnectToRule[], host: string, port: number): { host: string; port: number } {
  const bare = unbracket(host);
  const key = bare.toLowerCase().replace(/\.$/, '');
  for (const rule of rules) {
    if (rule.fromHost !== undefined && rule.fromHost.replace(/\.$/, '') !== key) continue;
    if (rule.fromPort !== undefined && rule.fromPort !== port) continue;
    return { host: rule.toHost ?? bare, port: rule.toPort ?? port };
  }
  return { host: bare, port };
}

export function unbracket(host: string): string {
  return host.startsWith('[') && host.endsWith(']') ? host.slice(1, -1) : host;
}
