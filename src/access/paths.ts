// cloudflared's file names under ~/.cloudflared, so that tokens, keys and
// certificates are shared with a cloudflared install (token/path.go).

import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseHostname, type AppHostname, type Hostname } from '../base/hostname.js';

export function defaultConfigDir(home: string = homedir()): string {
  return join(home, '.cloudflared');
}

/** `<appHostname>-<aud>-token`, `/` and `*` (wildcard apps) replaced by `-`. */
export function appTokenFileName(appHostname: AppHostname, aud: string): string {
  return `${appHostname}-${aud}-token`.replace(/[/*]/g, '-');
}

const ORG_TOKEN_SUFFIX = '-org-token';
const TOKEN_SUFFIX = '-token';
const KEY_SUFFIX = '-cf_key';

/**
 * What a file name under ~/.cloudflared is, read back from the builders above and below.
 * An app token's `appHostname` is as the name has it (a wildcard's `*` and a path's `/`
 * read back as `-`); a key's or certificate's `host` is a `Hostname` (another name is not
 * one of ours).
 */
export type CloudflaredFileName =
  | { readonly kind: 'org-token'; readonly authDomain: string }
  | { readonly kind: 'app-token'; readonly appHostname: string; readonly aud: string }
  | { readonly kind: 'key' | 'public-key' | 'certificate'; readonly host: Hostname };

/**
 * The one parser of cloudflared's file names, the inverse of `appTokenFileName`,
 * `orgTokenFileName` and `certKeyFileName` (and its `.pub` / `-cert.pub`). An app
 * token's name is `<host>-<aud>-token`, and host names may hold `-`: `auds` (the
 * token's own audiences) decide where the host ends; without a match, the audience
 * is the last `-` field (audience tags have no `-`). Undefined for other names.
 */
export function parseCloudflaredFileName(name: string, auds: readonly string[] = []): CloudflaredFileName | undefined {
  if (name.endsWith(KEY_SUFFIX + '-cert.pub')) return hostFile('certificate', name.slice(0, -(KEY_SUFFIX.length + 9)));
  if (name.endsWith(KEY_SUFFIX + '.pub')) return hostFile('public-key', name.slice(0, -(KEY_SUFFIX.length + 4)));
  if (name.endsWith(KEY_SUFFIX)) return hostFile('key', name.slice(0, -KEY_SUFFIX.length));
  if (name.endsWith(ORG_TOKEN_SUFFIX)) {
    const authDomain = name.slice(0, -ORG_TOKEN_SUFFIX.length);
    return authDomain === '' ? undefined : { kind: 'org-token', authDomain };
  }
  if (!name.endsWith(TOKEN_SUFFIX)) return undefined;
  const stem = name.slice(0, -TOKEN_SUFFIX.length);
  const escaped = (s: string): string => s.replace(/[/*]/g, '-');
  const aud = auds.find((a) => a !== '' && stem.endsWith(`-${escaped(a)}`) && stem.length > escaped(a).length + 1);
  if (aud !== undefined) return { kind: 'app-token', appHostname: stem.slice(0, stem.length - escaped(aud).length - 1), aud };
  const dash = stem.lastIndexOf('-');
  if (dash <= 0 || dash === stem.length - 1) return undefined;
  return { kind: 'app-token', appHostname: stem.slice(0, dash), aud: stem.slice(dash + 1) };
}

function hostFile(kind: 'key' | 'public-key' | 'certificate', name: string): CloudflaredFileName | undefined {
  const host = parseHostname(name);
  return host === undefined ? undefined : { kind, host };
}

export function appTokenFile(dir: string, appHostname: AppHostname, aud: string): string {
  return join(dir, appTokenFileName(appHostname, aud));
}

/** `<authDomain>-org-token`, `/` replaced by `-`. */
export function orgTokenFileName(authDomain: string): string {
  return `${authDomain}-org-token`.replace(/\//g, '-');
}

export function orgTokenFile(dir: string, authDomain: string): string {
  return join(dir, orgTokenFileName(authDomain));
}

/**
 * `<host><escaped path>-cf_key`, `/` replaced by `-`. cloudflared builds it from
 * a URL (hostname + EscapedPath); a host name is a URL with an empty path.
 */
export function certKeyFileName(host: Hostname | URL): string {
  const base = typeof host === 'string' ? host : host.hostname + (host.pathname === '/' ? '' : host.pathname);
  return `${base}-cf_key`.replace(/\//g, '-');
}

export function certKeyFile(dir: string, host: Hostname | URL): string {
  return join(dir, certKeyFileName(host));
}

export function certPubFile(dir: string, host: Hostname | URL): string {
  return certKeyFile(dir, host) + '.pub';
}

export function certFileName(host: Hostname | URL): string {
  return certKeyFileName(host) + '-cert.pub';
}

export function certFile(dir: string, host: Hostname | URL): string {
  return join(dir, certFileName(host));
}
