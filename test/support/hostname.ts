// Host names for test fixtures, through the product's own parsers (never an `as` cast):
// a fixture that is no host name fails where it is written.
import { parseAppHostname, parseHostname, type AppHostname, type Hostname } from '../../src/base/hostname.js';

/** `text` as a `Hostname`; throws when it is none. */
export function hostname(text: string): Hostname {
  const host = parseHostname(text);
  if (host === undefined) throw new Error(`test fixture: ${JSON.stringify(text)} is not a host name`);
  return host;
}

/** `text` as an `AppHostname` (a host name, or one with a `*.` label or a path); throws when it is none. */
export function appHostname(text: string): AppHostname {
  const host = parseAppHostname(text);
  if (host === undefined) throw new Error(`test fixture: ${JSON.stringify(text)} is not an application host name`);
  return host;
}

/**
 * A host name that did NOT pass the parser, typed as one: only for tests of the writers'
 * own defence (renderEntries validates every value again, whatever its type says), which
 * must see what a caller that skipped the parse would hand them.
 */
export function forgedHostname(text: string): Hostname {
  return text as Hostname;
}
