// The auth domain rule, apart from metadata.ts: the carrier's fast path (a live stored
// token, token-flow.ts) checks its issuer with it, and must not load metadata.ts, whose
// JWT verification brings jose (dist/vendor-jose.js) into every helper start.

import { AccessError } from './errors.js';
import { ACCESS_DOMAIN_SUFFIX } from './types.js';

/**
 * The auth_domain claim must be a bare host name under .cloudflareaccess.com:
 * no scheme, port, path, user info or other oddity. Returned lower-cased.
 */
export function parseAuthDomain(value: unknown): string {
  if (typeof value !== 'string' || value === '') {
    throw new AccessError('metadata', 'The Access metadata has no auth_domain');
  }
  const host = value.toLowerCase();
  const label = '[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?';
  if (host.length > 253 || !new RegExp(`^${label}(?:\\.${label})*$`).test(host)) {
    throw new AccessError('metadata', `The Access metadata auth_domain ${JSON.stringify(value)} is not a host name`);
  }
  if (!host.endsWith(ACCESS_DOMAIN_SUFFIX) || host.length === ACCESS_DOMAIN_SUFFIX.length) {
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
