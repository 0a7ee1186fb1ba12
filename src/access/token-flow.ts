// Getting an app token, in cloudflared's order (token.go getToken): the
// stored token; else, under a lock shared with other processes, the stored
// org token exchanged for an app token; else a browser login, but only when
// the caller may show one (never from inside ssh's ProxyCommand).

import * as fsp from 'node:fs/promises';
import { AccessError, describeError } from './errors.js';
import { exchangeOrgToken } from './exchange.js';
import type { HttpClient } from './http.js';
import { parseAppToken } from './jwt.js';
import type { LockHolder, LockOptions } from './lock.js';
import { authDomainOfIssuer } from './auth-domain.js';
import { parseHostname } from '../base/hostname.js';
import type { TokenStore } from './token-store.js';
import type { BrowserLoginResult } from './transfer.js';
import type { AccessClaims, AppInfo, AppToken, Logger, OrgToken } from './types.js';

// Discovery (metadata.ts: jose) and the browser login (transfer.ts: tweetnacl) are loaded
// when first needed: a carrier with a live stored token needs neither (docs/BENCHMARKS.md).
async function discoverApp(http: HttpClient, appUrl: URL): Promise<AppInfo> {
  return (await import('./metadata.js')).discoverApp(http, appUrl);
}

export interface AccessContext {
  readonly http: HttpClient;
  readonly store: TokenStore;
  readonly log: Logger;
}

export interface LoginOptions {
  /** May a browser login be started? false: fail with 'login-required' instead. */
  readonly interactive: boolean;
  openBrowser?(url: string): Promise<void>;
  /** Shown the login URL (ours, or the one of another process we wait on). */
  onLoginUrl?(url: string): void;
  readonly signal?: AbortSignal;
  /** Browser login timeout (default 10 min, as long as cloudflared waits). */
  readonly timeoutMs?: number;
  /**
   * `--fedramp`: the browser login's tokens come from the FedRAMP transfer
   * service. A team under `.fed.cloudflareaccess.com` uses it in any case.
   */
  readonly fedramp?: boolean;
  /** Lock polling interval (default 250 ms; cloudflared uses 2 s). */
  readonly lockRetryMs?: number;
  /** How long to wait for another process's login (default 10 min). */
  readonly lockTimeoutMs?: number;
  /** Called while another process holds the login lock. */
  onWaiting?(holder: LockHolder): void;
  /** Transfer poll interval (default 1 s). */
  readonly pollDelayMs?: number;
}

export interface LoginResult {
  readonly appInfo: AppInfo;
  readonly appToken: AppToken;
  /** Absent when the login gave an app token alone (no team session stored). */
  readonly orgToken?: OrgToken;
  readonly claims: AccessClaims;
}

const DEFAULT_LOCK_RETRY_MS = 250;

/**
 * lock.ts (and node:child_process under it) loaded when a lock is first taken: a live
 * stored token, every carrier's start, needs none (docs/BENCHMARKS.md, fifth round).
 */
async function withFileLock<T>(targetPath: string, fn: () => Promise<T>, opts: LockOptions): Promise<T> {
  return await (await import('./lock.js')).withFileLock(targetPath, fn, opts);
}

export function loginRequired(host: string): AccessError {
  return new AccessError('login-required', `Not signed in to Cloudflare Access for ${host}`, { action: 'sign-in', host });
}

export async function getAppToken(ctx: AccessContext, appUrl: URL, appInfo: AppInfo, opts: LoginOptions): Promise<AppToken> {
  const stored = await ctx.store.readAppToken(appInfo);
  if (stored) return stored;

  const appPath = ctx.store.appTokenPath(appInfo);
  return await withFileLock(
    appPath,
    async () => {
      // Another process may have signed in while we waited for the lock.
      const again = await ctx.store.readAppToken(appInfo);
      if (again) return again;

      const org = await ctx.store.readOrgToken(appInfo.authDomain);
      if (org) {
        const exchanged = await tryExchange(ctx, appUrl, appInfo, org, opts.signal);
        if (exchanged) return exchanged;
        return (await browserLogin(ctx, appUrl, appInfo, opts, appPath)).appToken;
      }
      return await withFileLock(
        ctx.store.orgTokenPath(appInfo.authDomain),
        async () => {
          const orgNow = await ctx.store.readOrgToken(appInfo.authDomain);
          if (orgNow) {
            const exchanged = await tryExchange(ctx, appUrl, appInfo, orgNow, opts.signal);
            if (exchanged) return exchanged;
          }
          return (await browserLogin(ctx, appUrl, appInfo, opts, appPath)).appToken;
        },
        lockOptions(ctx, opts),
      );
    },
    lockOptions(ctx, opts),
  );
}

async function tryExchange(
  ctx: AccessContext,
  appUrl: URL,
  appInfo: AppInfo,
  org: OrgToken,
  signal?: AbortSignal,
): Promise<AppToken | undefined> {
  try {
    // The cookie's text becomes an AppToken only through the parser.
    const { token, claims } = parseAppToken(await exchangeOrgToken(ctx.http, appUrl, org, appInfo.authDomain, signal ? { signal } : {}));
    if (!claims.aud.includes(appInfo.appAud)) {
      throw new AccessError('token-refused', `the exchanged token is not for ${appInfo.appHostname}`);
    }
    await ctx.store.writeAppToken(appInfo, token);
    ctx.log.debug(`exchanged the org token for an app token for ${appUrl.host}`);
    return token;
  } catch (err) {
    if (signal?.aborted) throw err;
    ctx.log.debug(`failed to exchange the org token for an app token for ${appUrl.host}: ${describeError(err)}`);
    return undefined;
  }
}

async function browserLogin(
  ctx: AccessContext,
  appUrl: URL,
  appInfo: AppInfo,
  opts: LoginOptions,
  appPath: string,
): Promise<BrowserLoginResult> {
  if (!opts.interactive) throw loginRequired(appUrl.host);
  const { runBrowserLogin, transferServiceFor } = await import('./transfer.js');
  const result = await runBrowserLogin(ctx.http, {
    appUrl,
    appInfo,
    openBrowser: async (url) => {
      await opts.openBrowser?.(url);
    },
    ...(opts.onLoginUrl ? { onLoginUrl: (url: string) => opts.onLoginUrl?.(url) } : {}),
    urlFile: `${appPath}.url`,
    transferService: transferServiceFor(appInfo.authDomain, opts.fedramp),
    log: ctx.log,
    ...(opts.signal ? { signal: opts.signal } : {}),
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.pollDelayMs !== undefined ? { pollDelayMs: opts.pollDelayMs } : {}),
  });
  // A fresh browser login is the best org session there is: keep it even if
  // an older one was on disk (cloudflared only writes it when none was). A
  // login that gave no org token leaves the stored one (if any) alone.
  if (result.orgToken !== undefined) await ctx.store.writeOrgToken(appInfo.authDomain, result.orgToken);
  await ctx.store.writeAppToken(appInfo, result.appToken);
  return result;
}

function lockOptions(
  ctx: AccessContext,
  opts: LoginOptions,
): { retryMs: number; timeoutMs?: number; signal?: AbortSignal; onWaiting(holder: LockHolder): void } {
  return {
    retryMs: opts.lockRetryMs ?? DEFAULT_LOCK_RETRY_MS,
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
    ...(opts.lockTimeoutMs !== undefined ? { timeoutMs: opts.lockTimeoutMs } : {}),
    onWaiting: (holder) => {
      ctx.log.info(`another process (pid ${holder.pid}) is signing in to Cloudflare Access; waiting for it`);
      if (opts.onWaiting) opts.onWaiting(holder);
      else if (holder.url) opts.onLoginUrl?.(holder.url);
    },
  };
}

/** A new browser login for the app at `appUrl`, whatever is stored (`access-ssh login`, "Access: Sign In"). */
export async function login(ctx: AccessContext, appUrl: URL, opts: LoginOptions): Promise<LoginResult> {
  const appInfo = await discoverApp(ctx.http, appUrl);
  if (!opts.interactive) throw loginRequired(appUrl.host);
  const appPath = ctx.store.appTokenPath(appInfo);
  return await withFileLock(
    appPath,
    async () => {
      const result = await browserLogin(ctx, appUrl, appInfo, opts, appPath);
      return {
        appInfo,
        appToken: result.appToken,
        ...(result.orgToken !== undefined ? { orgToken: result.orgToken } : {}),
        claims: result.appClaims,
      };
    },
    lockOptions(ctx, opts),
  );
}

/**
 * Exchange the stored org token for a new app token now (background renewal
 * before the app token expires). Undefined when there is no org token or the
 * edge refuses it; the caller then needs a sign-in.
 */
export async function renewAppToken(ctx: AccessContext, appUrl: URL, appInfo: AppInfo): Promise<AppToken | undefined> {
  const org = await ctx.store.readOrgToken(appInfo.authDomain);
  if (!org) return undefined;
  return await tryExchange(ctx, appUrl, appInfo, org);
}

/** App tokens for one connection or renewal; see appTokens. */
export interface AppTokens {
  /** A live stored app token for the host, if any: no discovery, no login, no network. */
  stored(): Promise<AppToken | undefined>;
  get(): Promise<AppToken>;
  /** Drop the token `get` returned (the edge refused it); the next `get` discovers the app for real. */
  forget(): Promise<void>;
  /** The app as known so far (after a `get`). */
  appInfo(): AppInfo | undefined;
}

/**
 * App tokens for the app at `appUrl`, with app discovery only when it is
 * needed. A live app token stored for the host (its file is named after the
 * app host name and audience that a verified discovery gave, ours or
 * cloudflared's) names the app: its audience, and its issuer the team. That
 * saves the metadata HEAD and the team's JWKS (two TLS connections) on every
 * connection and renewal. Nothing is trusted on its strength that the edge does
 * not check: the token goes where it was already going (the app, and its own
 * issuer's cert_sign). Once the edge refuses it (`forget`), the app is
 * discovered and verified as without a stored token.
 */
export function appTokens(ctx: AccessContext, appUrl: URL, opts: LoginOptions): AppTokens {
  let info: AppInfo | undefined;
  let discovered = false;
  let refused = false;
  return {
    async stored() {
      if (refused) return undefined;
      const stored = await storedApp(ctx, appUrl);
      if (!stored) return undefined;
      info = stored.appInfo;
      return stored.token;
    },
    async get() {
      if (!refused) {
        const stored = await storedApp(ctx, appUrl);
        if (stored) {
          info = stored.appInfo;
          return stored.token;
        }
      }
      if (!discovered || !info) {
        info = await discoverApp(ctx.http, appUrl);
        discovered = true;
      }
      return await getAppToken(ctx, appUrl, info, opts);
    },
    async forget() {
      refused = true;
      if (info) await forgetAppToken(ctx, info);
    },
    appInfo: () => info,
  };
}

/** The app of `appUrl` as a live stored app token names it, with that token. */
async function storedApp(ctx: AccessContext, appUrl: URL): Promise<{ appInfo: AppInfo; token: AppToken } | undefined> {
  const host = parseHostname(appUrl.hostname);
  if (host === undefined) return undefined; // no token is stored under it: discovery says why
  const found = await ctx.store.findAppToken(host);
  if (!found) return undefined;
  const team = authDomainOfIssuer(found.claims.iss);
  if (!team.ok) return undefined; // not issued by an Access team domain: let discovery decide
  const authDomain = team.authDomain;
  ctx.log.debug(`Using the stored app token for ${appUrl.host} (${authDomain}); no app discovery`);
  return { appInfo: { authDomain, appAud: found.aud, appHostname: host }, token: found.token };
}

/** Drop the stored app token (the edge refused it, e.g. a 302 on the carrier). */
export async function forgetAppToken(ctx: AccessContext, appInfo: AppInfo): Promise<void> {
  await ctx.store.deleteAppToken(appInfo);
}

/** Sign out of a team: its org token and every app token it issued. Returns the files removed. */
export async function logout(ctx: AccessContext, authDomain: string): Promise<string[]> {
  const removed: string[] = [];
  const domain = authDomain.toLowerCase();
  for (const org of await ctx.store.listOrgTokens()) {
    if (org.authDomain.toLowerCase() === domain) removed.push(org.file);
  }
  for (const app of await ctx.store.listAppTokens()) {
    if (app.authDomain === domain) removed.push(app.file);
  }
  await ctx.store.deleteOrgToken(authDomain);
  for (const file of removed) await fsp.rm(file, { force: true });
  return removed;
}
