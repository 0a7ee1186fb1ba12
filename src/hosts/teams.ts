// Who is signed in, from the tokens in ~/.cloudflared: the teams (the authentication
// sessions), a host's app token, a team's org token, which token a session hands out,
// and what changed between two readings (the Accounts menu's events). Pure: the editor
// (src/vscode/access-state.ts, auth-provider.ts) reads the files and asks these.

import { ACCESS_DOMAIN_SUFFIX } from '../access/types.js';
import { normaliseHostname, type HostEntry } from './hosts.js';
import { parseHostname, type Hostname } from '../base/hostname.js';
import type { TokenInfo } from './state.js';

/** A token file as the editor caches it. Times in seconds since the epoch. */
export interface StoredToken extends TokenInfo {
  readonly file: string;
  readonly kind: 'org' | 'app';
  /** For app tokens: the application host name of the file. */
  readonly appHostname?: string;
}

/** A signed-in team: an Access auth domain with at least one live token. */
export interface Team {
  readonly authDomain: string;
  readonly email?: string;
  /** When the last token of this team expires. */
  readonly exp: number;
  readonly hasOrgToken: boolean;
}

/** Teams with a live token, by auth domain; the e-mail is the first token's that has one. */
export function teamsOf(tokens: readonly StoredToken[], now: number): Team[] {
  const byDomain = new Map<string, Team>();
  for (const t of tokens) {
    if (!t.authDomain || t.exp <= now) continue;
    const prev = byDomain.get(t.authDomain);
    const email = prev?.email ?? t.email;
    byDomain.set(t.authDomain, {
      authDomain: t.authDomain,
      ...(email !== undefined ? { email } : {}),
      exp: Math.max(prev?.exp ?? 0, t.exp),
      hasOrgToken: (prev?.hasOrgToken ?? false) || t.kind === 'org',
    });
  }
  return [...byDomain.values()].sort((a, b) => a.authDomain.localeCompare(b.authDomain));
}

/** The host's app token: the latest-expiring one, live unless `includeExpired`. */
export function appTokenFor(tokens: readonly StoredToken[], host: string, now: number, includeExpired = false): StoredToken | undefined {
  let best: StoredToken | undefined;
  for (const t of tokens) {
    if (t.kind !== 'app' || t.appHostname !== host) continue;
    if (!includeExpired && t.exp <= now) continue;
    if (!best || t.exp > best.exp) best = t;
  }
  return best;
}

/** The team's live org token. */
export function orgTokenFor(tokens: readonly StoredToken[], authDomain: string | undefined, now: number): StoredToken | undefined {
  if (!authDomain) return undefined;
  return tokens.find((t) => t.kind === 'org' && t.authDomain === authDomain && t.exp > now);
}

/** The tokens a team's session may hand out, best first: its org token, then its app tokens, newest first. */
export function sessionTokenCandidates(tokens: readonly StoredToken[], authDomain: string, now: number): StoredToken[] {
  return tokens
    .filter((t) => t.authDomain === authDomain && t.exp > now)
    .sort((a, b) => (a.kind === b.kind ? b.exp - a.exp : a.kind === 'org' ? -1 : 1));
}

/**
 * The team to name in "You are signed in as …" for `host`: its own team when that is
 * signed in; without a host, the one team when there is exactly one.
 */
export function signedInTeam(teams: readonly Team[], hostTeam: string | undefined, host: string | undefined): Team | undefined {
  if (hostTeam) return teams.find((t) => t.authDomain === hostTeam);
  return teams.length === 1 && !host ? teams[0] : undefined;
}

/** Sessions as the Accounts menu knows them: auth domain → the account shown. */
export type SessionSnapshot = ReadonlyMap<string, string>;

export function sessionSnapshot(teams: readonly Team[]): Map<string, string> {
  return new Map(teams.map((t) => [t.authDomain, t.email ?? '']));
}

/** What changed between two snapshots: teams signed in, signed out, or now another account. */
export function sessionChanges(before: SessionSnapshot, after: SessionSnapshot): { added: string[]; removed: string[]; changed: string[] } {
  const added: string[] = [];
  const changed: string[] = [];
  const removed: string[] = [];
  for (const [domain, account] of after) {
    if (!before.has(domain)) added.push(domain);
    else if (before.get(domain) !== account) changed.push(domain);
  }
  for (const domain of before.keys()) if (!after.has(domain)) removed.push(domain);
  return { added, removed, changed };
}

/**
 * The team (auth domain) a session scope names: an auth domain as it is, a host
 * through its known team (`teamOf`); undefined for anything else.
 */
export function teamForScope(scope: string, teamOf: (host: string) => string | undefined): string | undefined {
  const s = scope.toLowerCase();
  if (s.endsWith(ACCESS_DOMAIN_SUFFIX)) return s;
  try {
    return teamOf(normaliseHostname(s));
  } catch {
    return undefined;
  }
}

/**
 * The host to sign in through for a createSession request: the first scope that is a
 * host, or a configured host of the first scope that is a known team. Undefined: the
 * user picks one.
 */
export function signInHostForScopes(
  scopes: readonly string[],
  hosts: readonly HostEntry[],
  teamOf: (host: string) => string | undefined,
): Hostname | undefined {
  for (const scope of scopes) {
    const s = scope.toLowerCase();
    if (s.endsWith(ACCESS_DOMAIN_SUFFIX)) {
      const match = hosts.find((h) => teamOf(h.hostname) === s);
      if (match) return match.hostname;
      continue;
    }
    try {
      return normaliseHostname(s);
    } catch {
      /* not a host */
    }
  }
  return undefined;
}

/** The hosts whose keys and certificates go with a team's sign-out: its configured hosts and those of its app tokens. */
export function signOutHosts(
  authDomain: string,
  hosts: readonly HostEntry[],
  teamOf: (host: Hostname) => string | undefined,
  appTokens: readonly StoredToken[],
): Set<Hostname> {
  const out = new Set(hosts.map((h) => h.hostname).filter((h) => teamOf(h) === authDomain));
  for (const t of appTokens) {
    // A token file's host (a wildcard app's name, with `-` for `*`, is no host: it has no certificate).
    const host = t.kind === 'app' && t.authDomain === authDomain ? parseHostname(t.appHostname) : undefined;
    if (host !== undefined) out.add(host);
  }
  return out;
}

/** Renew an app token this long before it expires (through the team's org token, no browser). */
const APP_TOKEN_RENEW_SECONDS = 5 * 60;
/** An app token expired longer ago than this is left for a sign-in. */
const APP_TOKEN_RENEW_AFTER_EXPIRY_SECONDS = 86400;

/**
 * The app tokens the background pass renews now: of a configured host, within
 * APP_TOKEN_RENEW_SECONDS of expiry (or expired less than a day ago), of a team (not a
 * foreign issuer) whose org token is live (`hasOrgToken`).
 */
export function appTokensToRenew<T extends { appHostname: string; authDomain?: string; expiresAt: Date }>(
  tokens: readonly T[],
  configured: ReadonlySet<string>,
  now: number,
  hasOrgToken: (authDomain: string) => boolean,
): (T & { authDomain: string })[] {
  return tokens.filter((t): t is T & { authDomain: string } => {
    if (!configured.has(t.appHostname)) return false;
    const left = t.expiresAt.getTime() / 1000 - now;
    if (left > APP_TOKEN_RENEW_SECONDS || left < -APP_TOKEN_RENEW_AFTER_EXPIRY_SECONDS) return false;
    return t.authDomain !== undefined && hasOrgToken(t.authDomain);
  });
}
