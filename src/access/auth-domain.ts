// The auth domain rule, in one place: the metadata's auth_domain claim (metadata.ts),
// the issuer of a stored token (token-flow.ts's fast path, logout, the token store's
// listing) and the team the editor shows for a token all go through it. It stays
// apart from metadata.ts: the carrier's fast path must not load metadata.ts, whose JWT
// verification brings jose (dist/vendor-jose.js) into every helper start.

import { parseHostname } from '../base/hostname.js';
import { AccessError } from './errors.js';
import { ACCESS_DOMAIN_SUFFIX } from './types.js';

/** Why a value is not an Access team domain; undefined when it is one. */
function domainProblem(host: string): 'not-a-host' | 'not-access' | undefined {
  if (parseHostname(host) === undefined) return 'not-a-host';
  if (!host.endsWith(ACCESS_DOMAIN_SUFFIX) || host.length === ACCESS_DOMAIN_SUFFIX.length) return 'not-access';
  return undefined;
}

/**
 * The auth_domain claim must be a bare host name under .cloudflareaccess.com:
 * no scheme, port, path, user info or other oddity. Returned lower-cased.
 */
export function parseAuthDomain(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new AccessError('metadata', 'The Access metadata has no auth_domain');
  }
  const host = value.toLowerCase();
  const problem = domainProblem(host);
  if (problem === 'not-a-host') {
    throw new AccessError('metadata', `The Access metadata auth_domain ${JSON.stringify(value)} is not a host name`);
  }
  if (problem === 'not-access') {
    throw new AccessError(
      'metadata',
      `The Access metadata auth_domain ${JSON.stringify(value)} does not end with ${ACCESS_DOMAIN_SUFFIX}`,
      {
        hint: 'The server answering for this host is not the Cloudflare Access edge.',
      },
    );
  }
  return host;
}

/** A token's issuer read as an Access team: the team domain, or why it is not one. */
export type IssuerDomain =
  { readonly ok: true; readonly authDomain: string } | { readonly ok: false; readonly reason: 'not-a-url' | 'not-a-host' | 'not-access' };

/**
 * The team domain of a token's issuer (`iss`, `https://<team>.cloudflareaccess.com`),
 * lower-cased, by the same rule as the metadata's auth_domain. A foreign issuer
 * (not under .cloudflareaccess.com) is no team: the token flow does not use its
 * token without discovery, logout does not count it, the editor shows no team for it.
 */
export function authDomainOfIssuer(iss: unknown): IssuerDomain {
  if (typeof iss !== 'string' || iss === '') return { ok: false, reason: 'not-a-url' };
  let host: string;
  try {
    host = new URL(iss).hostname.toLowerCase();
  } catch {
    return { ok: false, reason: 'not-a-url' };
  }
  const problem = domainProblem(host);
  return problem === undefined ? { ok: true, authDomain: host } : { ok: false, reason: problem };
}
