// App discovery, as cloudflared's GetAppInfo: the edge answers a HEAD with a
// signed `cf-access-metadata` JWT naming the team (auth domain) and the app's
// audience. It is verified against the team's JWKS so that a server that is
// not the Access edge cannot send us to a login page of its choosing.

import { showValue } from '../base/display.js';
import { parseAppHostname, parseHostname } from '../base/hostname.js';
import { createLocalJWKSet, decodeJwt, decodeProtectedHeader, jwtVerify, type JSONWebKeySet } from 'jose';
import { AccessError, describeError } from './errors.js';
import { requestRetryOnce, type HttpClient } from './http.js';
import { parseAuthDomain } from './auth-domain.js';
import { ACCESS_DOMAIN_SUFFIX, type AppInfo } from './types.js';

export { ACCESS_DOMAIN_SUFFIX, parseAuthDomain };
export const METADATA_REQUEST_HEADER = 'cf-access-metadata-request';
export const METADATA_RESPONSE_HEADER = 'cf-access-metadata';
export const JWKS_PATH = '/cdn-cgi/access/certs';
const METADATA_MAX_AGE_S = 24 * 60 * 60;
const METADATA_CLOCK_SKEW_S = 5 * 60;
const MAX_JWKS_BYTES = 1 << 20;
const JWKS_TTL_MS = 24 * 60 * 60 * 1000;
/** A failed verification refetches the keys (rotation), at most this often. */
const JWKS_MIN_REFRESH_MS = 60 * 1000;

interface CachedKeys {
  readonly verify: ReturnType<typeof createLocalJWKSet>;
  readonly fetchedAt: number;
}

// Per process: the keys rotate rarely and every discovery needs them.
const jwksCache = new Map<string, CachedKeys>();

/** Forget cached team keys (tests; a changed connect-to target). */
export function clearJwksCache(): void {
  jwksCache.clear();
}

const EDGE_FAILED_HINT = 'The Access edge (or the tunnel behind it) has a problem; try again in a moment.';
const NO_APP_HINT = 'Check the host name: it must be an application protected by Cloudflare Access (e.g. an SSH app), reachable from here.';

export async function discoverApp(http: HttpClient, appUrl: URL, opts: { now?: Date } = {}): Promise<AppInfo> {
  const now = opts.now ?? new Date();
  const where = `${appUrl.origin}/`;
  const res = await requestRetryOnce(http, { method: 'HEAD', url: appUrl, headers: { [METADATA_REQUEST_HEADER]: 'true' } });
  const raw = headerValue(res.headers[METADATA_RESPONSE_HEADER]);
  if (!raw && res.status >= 500) {
    throw new AccessError('metadata', `The Access edge failed to answer for ${where} (HTTP ${res.status}, twice)`, {
      action: 'retry',
      hint: EDGE_FAILED_HINT,
    });
  }
  if (!raw) {
    throw new AccessError(
      'metadata',
      `No Access application at ${where} (the answer, HTTP ${res.status}, has no ${METADATA_RESPONSE_HEADER} header)`,
      { action: 'edit-host', host: appUrl.hostname, hint: NO_APP_HINT },
    );
  }
  return await verifyAppMetadata(http, appUrl, raw, { now });
}

/**
 * The checks of discoverApp on a `cf-access-metadata` value already fetched: the
 * JWT verified against its team's JWKS, then its claims. (`access-ssh doctor`
 * fetches the header itself, to report the answer's status and `Date`.)
 */
export async function verifyAppMetadata(http: HttpClient, appUrl: URL, raw: string, opts: { now?: Date } = {}): Promise<AppInfo> {
  const now = opts.now ?? new Date();
  const where = `${appUrl.origin}/`;
  // Unverified read, only to learn where the keys are.
  let unverifiedDomain: unknown;
  try {
    const header = decodeProtectedHeader(raw);
    if (header.alg !== 'RS256') throw new Error(`algorithm ${String(header.alg)} is not RS256`);
    unverifiedDomain = decodeJwt(raw)['auth_domain'];
  } catch (err) {
    throw new AccessError('metadata', `The Access metadata from ${where} is not a valid JWT: ${describeError(err)}`, { cause: err });
  }
  const authDomain = parseAuthDomain(unverifiedDomain);

  const claims = await verifyMetadata(http, raw, authDomain, now, where);

  const hostname = claims['hostname'];
  if (typeof hostname !== 'string' || hostname.toLowerCase() !== appUrl.hostname.toLowerCase()) {
    throw new AccessError('metadata', `The Access metadata is for host ${showValue(String(hostname))}, not ${appUrl.hostname}`);
  }
  if (claims['type'] !== 'match') {
    throw new AccessError('metadata', `The Access metadata type is ${showValue(String(claims['type']))}, not "match"`);
  }
  const aud = claims['aud'];
  if (typeof aud !== 'string' || aud === '') {
    throw new AccessError('metadata', 'The Access metadata has no application audience (aud)');
  }
  checkIssuedAt(claims['iat'], now);
  // The name its tokens are stored under (cloudflared's file name): parsed here, where it enters.
  const appHostnameClaim = claims['app_hostname'];
  const named = typeof appHostnameClaim === 'string' && appHostnameClaim !== '';
  const appHostname = named ? parseAppHostname(appHostnameClaim) : parseHostname(hostname);
  if (appHostname === undefined) {
    throw new AccessError(
      'metadata',
      `The Access metadata names the application ${showValue(String(named ? appHostnameClaim : hostname))}, which is not a host name`,
    );
  }
  return { authDomain, appAud: aud, appHostname };
}

async function verifyMetadata(
  http: HttpClient,
  raw: string,
  authDomain: string,
  now: Date,
  where: string,
): Promise<Record<string, unknown>> {
  let keys = jwksCache.get(authDomain);
  let fresh = false;
  if (!keys || Date.now() - keys.fetchedAt > JWKS_TTL_MS) {
    keys = await fetchKeys(http, authDomain);
    fresh = true;
  }
  try {
    return await verifyWith(keys, raw, now);
  } catch (firstErr) {
    // Maybe the team rotated its keys since we cached them: refetch once.
    if (!fresh && Date.now() - keys.fetchedAt >= JWKS_MIN_REFRESH_MS) {
      keys = await fetchKeys(http, authDomain);
      try {
        return await verifyWith(keys, raw, now);
      } catch (err) {
        throw verifyError(err, where, authDomain);
      }
    }
    throw verifyError(firstErr, where, authDomain);
  }
}

async function verifyWith(keys: CachedKeys, raw: string, now: Date): Promise<Record<string, unknown>> {
  const { payload } = await jwtVerify(raw, keys.verify, { algorithms: ['RS256'], currentDate: now, clockTolerance: METADATA_CLOCK_SKEW_S });
  return payload;
}

function verifyError(err: unknown, where: string, authDomain: string): AccessError {
  return new AccessError(
    'metadata',
    `The Access metadata from ${where} failed verification against the keys of ${authDomain}: ${describeError(err)}`,
    {
      hint: 'The server answering for this host may not be the Cloudflare Access edge (a proxy or a wrong ACCESS_SSH_CONNECT_TO?).',
      cause: err,
    },
  );
}

async function fetchKeys(http: HttpClient, authDomain: string): Promise<CachedKeys> {
  const url = new URL(`https://${authDomain}${JWKS_PATH}`);
  const res = await requestRetryOnce(http, { method: 'GET', url });
  if (res.status !== 200) {
    throw new AccessError('metadata', `The team keys at https://${authDomain}${JWKS_PATH} answered HTTP ${res.status}`, {
      hint:
        res.status >= 500
          ? EDGE_FAILED_HINT
          : 'The server answering for the team domain may not be the Cloudflare Access edge (a proxy or a wrong ACCESS_SSH_CONNECT_TO?).',
    });
  }
  if (res.body.length > MAX_JWKS_BYTES) {
    throw new AccessError('metadata', `The team keys at https://${authDomain}${JWKS_PATH} are larger than ${MAX_JWKS_BYTES} bytes`);
  }
  let verify: CachedKeys['verify'];
  try {
    const jwks = JSON.parse(res.body.toString('utf8')) as JSONWebKeySet;
    verify = createLocalJWKSet(jwks);
  } catch (err) {
    throw new AccessError('metadata', `The team keys at https://${authDomain}${JWKS_PATH} are not a JWKS: ${describeError(err)}`, {
      cause: err,
    });
  }
  const entry = { verify, fetchedAt: Date.now() };
  jwksCache.set(authDomain, entry);
  return entry;
}

function checkIssuedAt(iat: unknown, now: Date): void {
  if (typeof iat !== 'number' || !Number.isFinite(iat) || iat <= 0) {
    throw new AccessError('metadata', 'The Access metadata has no valid iat');
  }
  const nowS = now.getTime() / 1000;
  if (iat < nowS - METADATA_MAX_AGE_S) {
    throw new AccessError('metadata', 'The Access metadata is older than 24 hours', {
      action: 'check-clock',
      hint: 'Check the system clock.',
    });
  }
  if (iat > nowS + METADATA_CLOCK_SKEW_S) {
    throw new AccessError('metadata', 'The Access metadata is more than 5 minutes in the future', {
      action: 'check-clock',
      hint: 'Check the system clock.',
    });
  }
}

function headerValue(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() || undefined;
}
