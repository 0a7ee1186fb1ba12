// Remote authorities, folder URIs and deep links for the Remote-SSH hand-off.
// Pure string work; src/vscode turns the results into vscode.Uri values.

import { AppError } from '../base/app-error.js';
import { normaliseHostname } from '../hosts/hosts.js';
import { ALIAS_PREFIX, type Hostname } from '../ssh/validate.js';

export { ALIAS_PREFIX };

export function sshAlias(hostname: string): string {
  return ALIAS_PREFIX + hostname;
}

/** `ssh-remote+cfpipe-<host>`. Our host names are lower case `[a-z0-9.-]`, which Remote-SSH takes as is. */
export function remoteAuthority(hostname: string, prefix = 'ssh-remote'): string {
  return `${prefix}+${sshAlias(hostname)}`;
}

/**
 * The host behind a remote authority we made, or undefined when the authority
 * is not ours. Understands Remote-SSH's hex-encoded JSON form
 * (`ssh-remote+7b22686f73744e616d65223a...7d`) as well as the plain one.
 */
export function hostFromAuthority(authority: string | undefined): Hostname | undefined {
  if (!authority) return undefined;
  const plus = authority.indexOf('+');
  if (plus < 0 || authority.slice(0, plus) !== 'ssh-remote') return undefined;
  let target = authority.slice(plus + 1);
  if (/^[0-9a-f]+$/i.test(target) && target.length % 2 === 0 && target.toLowerCase().startsWith('7b')) {
    try {
      const json: unknown = JSON.parse(Buffer.from(target, 'hex').toString('utf8'));
      const name = json && typeof json === 'object' ? (json as Record<string, unknown>)['hostName'] : undefined;
      if (typeof name !== 'string') return undefined;
      target = name;
    } catch {
      return undefined;
    }
  }
  // `user@cfpipe-host` is allowed by Remote-SSH; the user part is not ours to keep.
  const at = target.lastIndexOf('@');
  if (at >= 0) target = target.slice(at + 1);
  if (!target.toLowerCase().startsWith(ALIAS_PREFIX)) return undefined;
  try {
    return normaliseHostname(target.slice(ALIAS_PREFIX.length));
  } catch {
    return undefined;
  }
}

export interface RemoteTarget {
  readonly authority: string;
  /** The folder to open, a URI path (`/home/jdoe/src`, `/c:/src`); undefined opens an empty remote window. */
  readonly path?: string;
}

/** Where Connect goes: a folder on the host when a path is known, else an empty remote window. */
export function remoteTarget(hostname: string, folder?: string, prefix = 'ssh-remote'): RemoteTarget {
  const authority = remoteAuthority(hostname, prefix);
  if (folder === undefined || folder === '') return { authority };
  let path = folder.replace(/\\/g, '/');
  if (/^[A-Za-z]:\//.test(path)) path = '/' + path;
  if (path.length > 1 && path.endsWith('/')) path = path.slice(0, -1);
  return { authority, path };
}

export interface DeepLink {
  readonly action: 'connect';
  readonly hostname: Hostname;
  readonly path?: string;
  /** `new` (default) or `current` window. */
  readonly window: 'new' | 'current';
}

/** A link the URI handler refuses: an AppError whose next step is the link itself. */
function badLink(message: string, cause?: unknown): AppError<'invalid-link'> {
  return new AppError('invalid-link', message, { action: 'fix-input', ...(cause !== undefined ? { cause } : {}) });
}

/**
 * `vscode://<publisher>.access-ssh/connect?host=<host>[&path=/x][&window=current]`:
 * the URI handler's path and query. Throws with a message for anything else.
 */
export function parseDeepLink(uriPath: string, query: string): DeepLink {
  const action = uriPath.replace(/^\/+|\/+$/g, '');
  if (action !== 'connect') throw badLink(`unknown link "/${action.slice(0, 40)}": only /connect is supported`);
  const params = new URLSearchParams(query);
  for (const key of new Set(params.keys())) {
    if (!['host', 'path', 'window'].includes(key)) throw badLink(`unknown parameter "${key.slice(0, 40)}"`);
    if (params.getAll(key).length > 1) throw badLink(`parameter "${key}" given more than once`);
  }
  const host = params.get('host');
  if (!host) throw badLink('the link names no host (?host=...)');
  let hostname: Hostname;
  try {
    hostname = normaliseHostname(host);
  } catch (err) {
    throw badLink(`the link's host is not valid: ${err instanceof Error ? err.message : String(err)}`, err);
  }
  const link: { action: 'connect'; hostname: Hostname; path?: string; window: 'new' | 'current' } = {
    action: 'connect',
    hostname,
    window: 'new',
  };
  const path = params.get('path');
  if (path !== null && path !== '') {
    if (/[\u0000-\u001f\u007f]/.test(path)) throw badLink("the link's path contains a control character");
    if (!path.startsWith('/') && !/^[A-Za-z]:[\\/]/.test(path)) throw badLink("the link's path must be absolute");
    if (path.length > 1024) throw badLink("the link's path is too long");
    link.path = path;
  }
  const win = params.get('window');
  if (win !== null) {
    if (win !== 'new' && win !== 'current') throw badLink('window must be "new" or "current"');
    link.window = win;
  }
  return link;
}
