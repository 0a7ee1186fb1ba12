// The application a command is about: `--hostname H` or `login <url>`.
// Like cloudflared's parseURL: a bare host means https://host/; only https.

import { showValue } from '../base/display.js';
import { parseHostname, type Hostname } from '../ssh/validate.js';
import { stringFlag, UsageError, type ParsedCommand } from './args.js';

export interface Target {
  /** The host name, for file names (`<host>-cf_key`) and messages. */
  readonly host: Hostname;
  /** The application URL (https). */
  readonly appUrl: URL;
}

const shown = (value: string): string => showValue(value);

export function parseTarget(value: string | undefined, command: string, what = '--hostname'): Target {
  if (value === undefined || value.trim() === '') throw new UsageError(`${what} is required.`, command);
  const raw = value.trim();
  const withScheme = /^[a-z][a-z0-9+.-]*:\/\//i.test(raw) ? raw : `https://${raw}`;
  let url: URL;
  try {
    url = new URL(withScheme);
  } catch {
    throw new UsageError(`${what}: ${shown(raw)} is not a host name or URL.`, command);
  }
  if (url.protocol === 'http:') url.protocol = 'https:';
  if (url.protocol !== 'https:') throw new UsageError(`${what}: only https applications are supported, not ${url.protocol}`, command);
  if (url.username || url.password) throw new UsageError(`${what}: a URL with credentials is not accepted.`, command);
  const host = parseHostname(url.hostname.replace(/\.$/, '').toLowerCase());
  if (host === undefined) throw new UsageError(`${what}: ${shown(url.hostname)} is not a valid host name.`, command);
  // Normalised once: the file names, the Host header, SNI and the token's files all use this name.
  url.hostname = host;
  url.hash = '';
  return { host, appUrl: url };
}

/**
 * The application of `login` and `token`: the URL as the argument or with `--app`
 * (cloudflared takes both), not both. `fromAppFlag`: it came with `--app`.
 */
export function appTarget(p: ParsedCommand, command: string): Target & { readonly fromAppFlag: boolean } {
  const positional = p.positionals[0];
  const appFlag = stringFlag(p, 'app');
  if (positional !== undefined && appFlag !== undefined)
    throw new UsageError('Give the URL either as the argument or with --app, not both.', command);
  return { ...parseTarget(positional ?? appFlag, command, 'the application URL'), fromAppFlag: appFlag !== undefined };
}
