// cloudflared's file names under ~/.cloudflared, so that tokens, keys and
// certificates are shared with a cloudflared install (token/path.go).

import { homedir } from 'node:os';
import { join } from 'node:path';

export function defaultConfigDir(home: string = homedir()): string {
  return join(home, '.cloudflared');
}

/** `<appHostname>-<aud>-token`, `/` and `*` (wildcard apps) replaced by `-`. */
export function appTokenFileName(appHostname: string, aud: string): string {
  return `${appHostname}-${aud}-token`.replace(/[/*]/g, '-');
}

export function appTokenFile(dir: string, appHostname: string, aud: string): string {
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
 * a URL (hostname + EscapedPath); a bare host name has an empty path. A value
 * with a path (`host/x`) or a full URL is accepted for the same result.
 */
export function certKeyFileName(host: string): string {
  let base = host;
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(host)) {
    const u = new URL(host);
    base = u.hostname + (u.pathname === '/' ? '' : u.pathname);
  }
  return `${base}-cf_key`.replace(/\//g, '-');
}

export function certKeyFile(dir: string, host: string): string {
  return join(dir, certKeyFileName(host));
}

export function certPubFile(dir: string, host: string): string {
  return certKeyFile(dir, host) + '.pub';
}

export function certFile(dir: string, host: string): string {
  return certKeyFile(dir, host) + '-cert.pub';
}
