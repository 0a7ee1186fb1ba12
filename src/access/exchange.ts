// Org token → app token without a browser, as cloudflared's exchangeOrgToken:
// HEAD the app and walk its redirects by hand, presenting the org token to
// the team's /cdn-cgi/access/login and the app session to the app's
// /cdn-cgi/access/authorized, whose answer sets the new app token.

import { AccessError } from './errors.js';
import type { Cookie, HttpClient, HttpResponse } from './http.js';
import type { AppToken, OrgToken } from './types.js';

export const LOGIN_PATH = '/cdn-cgi/access/login';
export const AUTHORIZED_PATH = '/cdn-cgi/access/authorized';
export const TOKEN_COOKIE = 'CF_Authorization';
export const APP_SESSION_COOKIE = 'CF_AppSession';
/** Go's http.Client gives up after 10 redirects. */
export const MAX_REDIRECTS = 10;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface ExchangeOptions {
  readonly now?: Date;
  readonly signal?: AbortSignal;
}

export async function exchangeOrgToken(http: HttpClient, appUrl: URL, orgToken: OrgToken, opts: ExchangeOptions = {}): Promise<AppToken> {
  const seen: Cookie[] = [];
  let url = new URL(appUrl.href);
  let res: HttpResponse | undefined;
  for (let hop = 0; ; hop++) {
    const cookies: string[] = [];
    if (hop > 0) {
      if (url.pathname.includes(LOGIN_PATH)) cookies.push(`${TOKEN_COOKIE}=${orgToken}`);
      if (url.pathname.includes(AUTHORIZED_PATH)) {
        const session = seen.find((c) => c.name === APP_SESSION_COOKIE);
        if (session) cookies.push(`${APP_SESSION_COOKIE}=${session.value}`);
      }
    }
    const headers: Record<string, string> = cookies.length > 0 ? { cookie: cookies.join('; ') } : {};
    res = await http.request({ method: 'HEAD', url, headers, ...(opts.signal ? { signal: opts.signal } : {}) });
    seen.push(...res.setCookies);

    const location = res.headers.location;
    if (!REDIRECT_STATUSES.has(res.status) || !location) break;
    // The answer to the authorized request carries the token: stop there.
    if (url.pathname.includes(AUTHORIZED_PATH)) break;
    if (hop + 1 > MAX_REDIRECTS) {
      throw new AccessError('http', `Exchanging the Access login for ${appUrl.host} stopped after ${MAX_REDIRECTS} redirects`);
    }
    let next: URL;
    try {
      next = new URL(location, url);
    } catch {
      throw new AccessError('http', `${url.host} redirected to an invalid location`);
    }
    if (next.protocol !== 'https:') {
      throw new AccessError('http', `${url.host} redirected to a non-https location (${next.protocol}//${next.host})`);
    }
    url = next;
  }

  const now = (opts.now ?? new Date()).getTime();
  // Only an Expires in the future counts (cloudflared ignores Max-Age): a
  // revoked or logged-out session answers with a cookie that clears it.
  const token = res.setCookies.find((c) => c.name === TOKEN_COOKIE && c.expires !== undefined && c.expires.getTime() > now);
  if (token && token.value !== '') return token.value as AppToken;

  const where = `${url.origin}${url.pathname}`;
  if (res.status >= 500) {
    throw new AccessError('http', `Exchanging the Access login for ${appUrl.host} failed: ${where} answered HTTP ${res.status}`);
  }
  throw new AccessError('token-refused', `The stored Access login was not accepted for ${appUrl.host} (${where} answered HTTP ${res.status} without an app token)`, {
    hint: `Sign in again: "Access: Sign In" in VS Code, or \`access-ssh login https://${appUrl.host}\`.`,
  });
}
