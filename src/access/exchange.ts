// Org token → app token without a browser, as cloudflared's exchangeOrgToken:
// HEAD the app and walk its redirects by hand, presenting the org token to
// the team's /cdn-cgi/access/login and the app session to the app's
// /cdn-cgi/access/authorized, whose answer sets the new app token.
//
// Better than cloudflared, which sends the org token to any host whose path
// holds /cdn-cgi/access/login: the walk stays on two hosts, the app and its
// team's auth domain (verified from the app's metadata, or named by the stored
// token's issuer). The org token goes only to the auth domain, the app session
// only to the app; a redirect anywhere else ends the exchange, nothing sent.
// The whole walk has one deadline, as cloudflared's 7 s http.Client timeout.

import { AccessError } from './errors.js';
import type { Cookie, HttpClient, HttpResponse } from './http.js';
import type { OrgToken } from './types.js';

export const LOGIN_PATH = '/cdn-cgi/access/login';
export const AUTHORIZED_PATH = '/cdn-cgi/access/authorized';
export const TOKEN_COOKIE = 'CF_Authorization';
export const APP_SESSION_COOKIE = 'CF_AppSession';
/** Go's http.Client gives up after 10 redirects. */
export const MAX_REDIRECTS = 10;
/** The whole exchange, every hop included (cloudflared: http.Client{Timeout: 7 s}, token/token.go). */
export const EXCHANGE_TIMEOUT_MS = 7000;

const REDIRECT_STATUSES = new Set([301, 302, 303, 307, 308]);

export interface ExchangeOptions {
  readonly now?: Date;
  readonly signal?: AbortSignal;
  /** The deadline of the whole exchange; default EXCHANGE_TIMEOUT_MS (7 s). */
  readonly timeoutMs?: number;
}

/**
 * Exchange `orgToken` for an app token of `appUrl` (its text: the caller parses it,
 * parseAppToken). `authDomain` is the team
 * domain the org token belongs to: the only host it is ever sent to.
 */
export async function exchangeOrgToken(
  http: HttpClient,
  appUrl: URL,
  orgToken: OrgToken,
  authDomain: string,
  opts: ExchangeOptions = {},
): Promise<string> {
  const seen: Cookie[] = [];
  const team = authDomain.toLowerCase();
  const appHost = appUrl.host.toLowerCase();
  const budget = opts.timeoutMs ?? EXCHANGE_TIMEOUT_MS;
  const deadline = Date.now() + budget;
  const outOfTime = (): AccessError =>
    new AccessError('timeout', `Exchanging the Access login for ${appUrl.host} took longer than ${budget / 1000}s`, {
      hint: 'Check the network connection (and ACCESS_SSH_CONNECT_TO, if set), or sign in again.',
    });
  let url = new URL(appUrl.href);
  let res: HttpResponse | undefined;
  for (let hop = 0; ; hop++) {
    const cookies: string[] = [];
    const host = url.host.toLowerCase();
    if (hop > 0) {
      // The org token is the whole team's session: only its own auth domain gets it.
      if (url.pathname.includes(LOGIN_PATH) && url.hostname.toLowerCase() === team && url.port === '')
        cookies.push(`${TOKEN_COOKIE}=${orgToken}`);
      if (url.pathname.includes(AUTHORIZED_PATH) && host === appHost) {
        const session = seen.find((c) => c.name === APP_SESSION_COOKIE);
        if (session) cookies.push(`${APP_SESSION_COOKIE}=${session.value}`);
      }
    }
    const headers: Record<string, string> = cookies.length > 0 ? { cookie: cookies.join('; ') } : {};
    const left = deadline - Date.now();
    if (left <= 0) throw outOfTime();
    try {
      res = await http.request({
        method: 'HEAD',
        url,
        headers,
        timeoutMs: Math.min(left, http.timeoutMs),
        ...(opts.signal ? { signal: opts.signal } : {}),
      });
    } catch (err) {
      if (err instanceof AccessError && err.code === 'timeout' && Date.now() >= deadline - 5) throw outOfTime();
      throw err;
    }
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
    const nextHost = next.host.toLowerCase();
    if (nextHost !== appHost && !(next.hostname.toLowerCase() === team && next.port === '')) {
      throw new AccessError(
        'token-refused',
        `Exchanging the Access login for ${appUrl.host} stopped: ${url.host} redirected to ${next.host}, which is neither the application nor its team domain ${team}; the team login was not sent there`,
        {
          action: 'sign-in',
          host: appUrl.host,
          hint: "If this persists, check the application's settings in Cloudflare Zero Trust.",
        },
      );
    }
    url = next;
  }

  const now = (opts.now ?? new Date()).getTime();
  // Only an Expires in the future counts (cloudflared ignores Max-Age): a
  // revoked or logged-out session answers with a cookie that clears it.
  const token = res.setCookies.find((c) => c.name === TOKEN_COOKIE && c.expires !== undefined && c.expires.getTime() > now);
  if (token && token.value !== '') return token.value;

  const where = `${url.origin}${url.pathname}`;
  if (res.status >= 500) {
    throw new AccessError('http', `Exchanging the Access login for ${appUrl.host} failed: ${where} answered HTTP ${res.status}`);
  }
  throw new AccessError(
    'token-refused',
    `The stored Access login was not accepted for ${appUrl.host} (${where} answered HTTP ${res.status} without an app token)`,
    {
      action: 'sign-in',
      host: appUrl.host,
    },
  );
}
