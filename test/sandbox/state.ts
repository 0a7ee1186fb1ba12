// The sandbox's mutable state: options (switchable at run time), counters, faults, the
// tokens it issued (for revocation), and the short-lived records of the login flows.
import { createHash, randomBytes } from 'node:crypto';

export const TEAM_DOMAIN = 'sandbox.cloudflareaccess.com';
export const ISSUER = `https://${TEAM_DOMAIN}`;
export const TRANSFER_HOST = 'login.cloudflareaccess.org';
/** The FedRAMP team (apps in `fedrampHosts`) and its transfer service (cloudflared --fedramp). */
export const FED_TEAM_DOMAIN = 'sandbox.fed.cloudflareaccess.com';
export const FED_ISSUER = `https://${FED_TEAM_DOMAIN}`;
export const FED_TRANSFER_HOST = 'login.fed.cloudflareaccess.org';
export const APP_SUFFIX = '.sandbox.test';
export const DEFAULT_APP = 'ssh.sandbox.test';
/** An app whose origin is a plain TCP service (a second sshd), for `access-ssh tcp --url`. */
export const TCP_APP = 'tcp.sandbox.test';
/** An app whose origin is a real PostgreSQL server (option database). */
export const DB_APP = 'db.sandbox.test';
/**
 * An app behind a bastion (cloudflared's `bastion` origin mode): the origin is the
 * `Cf-Access-Jump-Destination` the client sends (`--destination`), loopback only here.
 */
export const BASTION_APP = 'bastion.sandbox.test';
export const JUMP_DESTINATION_HEADER = 'cf-access-jump-destination';
export const ADMIN_HOST = 'admin.sandbox.test';
export const DEFAULT_EMAIL = 'jdoe@example.com';

/** Every endpoint a fault can be attached to (also the names used in the counters). */
export type Endpoint =
  | 'metadata' // HEAD https://<app>/ with cf-access-metadata-request
  | 'jwks' // GET https://<team>/cdn-cgi/access/certs
  | 'loginPage' // GET https://<app>/cdn-cgi/access/cli
  | 'approve' // POST https://<app>/cdn-cgi/access/cli (or the auto-approval)
  | 'transfer' // GET https://login.cloudflareaccess.org/transfer/<key>
  | 'appRedirect' // https://<app>/ without credentials: 302 to the team login
  | 'teamLogin' // https://<team>/cdn-cgi/access/login/<app>
  | 'authorized' // https://<app>/cdn-cgi/access/authorized
  | 'certSign' // POST https://<team>/cdn-cgi/access/cert_sign
  | 'carrier'; // websocket upgrade on wss://<app>/

/**
 * One switchable fault. All faults live in `options.faults`, keyed by endpoint; the
 * edge consults them in one place (`takeFault`) before serving an endpoint.
 */
export interface Fault {
  /** Answer with this HTTP status instead of serving the endpoint. */
  status?: number;
  /** Raw body for `status` (default: JSON `{"status","message"}`). Use any text for non-JSON errors. */
  body?: string;
  contentType?: string;
  /** Stall this long before answering (alone: a slow but correct answer). */
  delayMs?: number;
  /** Never answer (the socket stays open until the client gives up or the sandbox stops). */
  hang?: boolean;
  /** Destroy the connection without an answer. */
  reset?: boolean;
  /**
   * certSign only: answer 200 with a certificate we must not accept: for another key,
   * expired, for another principal, with a critical option (force-command,
   * source-address), or valid for years or "forever" (never renewed); or one that grants
   * no port forwarding (`no-port-forwarding`, for doctor).
   */
  certificate?:
    | 'wrong-key'
    | 'expired'
    | 'other-principal'
    | 'no-principal'
    | 'no-port-forwarding'
    | 'force-command'
    | 'source-address'
    | 'years'
    | 'forever';
  /**
   * appRedirect only: send the unauthenticated app request to a login page on another
   * host (`https://collector.sandbox.test/cdn-cgi/access/login/…`), as a hostile or
   * misconfigured app would; the edge counts org tokens that reach it (`orgTokenLeaks`).
   */
  redirectTo?: 'foreign-login';
  /** approve only: mint the tokens for this e-mail, unchecked (escape sequences, bidi, line breaks). */
  email?: string;
  /**
   * metadata only: a `cf-access-metadata` JWT signed by a key the team's JWKS does not
   * hold (`foreign-key`), or naming an auth domain outside .cloudflareaccess.com
   * (`foreign-auth-domain`, signed by the team key).
   */
  metadataJwt?: 'foreign-key' | 'foreign-auth-domain';
  /** jwks only: a well-formed JWKS of another key (nothing verifies), or a JWKS that is not one. */
  jwks?: 'other-key' | 'not-a-jwks';
  /** carrier only: accept, carry this many bytes from the origin, then drop the connection (no close frame). */
  dropAfterBytes?: number;
  // ---- faults added for `access-ssh doctor` (issue 10): see the "doctor" section of README.md.
  /** metadata only: the answer's `Date` header is this many seconds off the edge's clock (a client clock that is wrong by the opposite amount looks the same). */
  dateOffsetSeconds?: number;
  /** Apply this many times, then clear the fault (default: until changed). */
  times?: number;
}

export type Faults = Partial<Record<Endpoint, Fault>>;

export interface ServiceToken {
  clientId: string;
  clientSecret: string;
  /** Identity the service token stands for (only for logs). */
  name?: string;
}

export interface SandboxOptions {
  /** Approve logins on GET of the login page: true = the default e-mail, or a given e-mail; false = show the form. */
  autoApprove: boolean | string;
  /** E-mail prefilled in the login form and used by autoApprove: true. */
  defaultEmail: string;
  appTokenTtlSeconds: number;
  orgTokenTtlSeconds: number;
  certTtlSeconds: number;
  /** How long a transfer poll waits for the approval before answering 404. */
  transferWaitMs: number;
  serviceTokens: ServiceToken[];
  /**
   * How the transfer service says "not yet" once a long poll's wait is over: 404 (the
   * default) or a 200 with an empty body (cloudflared reads both as "not yet").
   */
  transferPending: 'status-404' | 'empty-200';
  /** Hand the org token over with the app token after a login (false: the app token alone). */
  sendOrgToken: boolean;
  /**
   * The principal cert_sign puts in certificates: null for the e-mail's local part (the
   * default), else this account (an edge that maps identities to other accounts).
   */
  certPrincipal: string | null;
  /** Apps under a Bypass policy (or reached through WARP): the carrier lets anyone in, with or without a token. */
  bypassHosts: string[];
  /**
   * Apps of the FedRAMP team (`sandbox.fed.cloudflareaccess.com`); their logins are handed
   * over only by the FedRAMP transfer service (`login.fed.cloudflareaccess.org`).
   */
  fedrampHosts: string[];
  faults: Faults;
}

export const DEFAULT_OPTIONS: SandboxOptions = {
  autoApprove: true,
  defaultEmail: DEFAULT_EMAIL,
  appTokenTtlSeconds: 3600,
  orgTokenTtlSeconds: 86400,
  certTtlSeconds: 180,
  transferWaitMs: 8000,
  serviceTokens: [],
  transferPending: 'status-404',
  sendOrgToken: true,
  certPrincipal: null,
  bypassHosts: [],
  fedrampHosts: [],
  faults: {},
};

export interface Counters {
  metadata: number;
  jwks: number;
  loginPage: number;
  approvals: number;
  transferPolls: number;
  transferDeliveries: number;
  appRedirects: number;
  teamLogins: number;
  exchanges: number;
  certSigns: number;
  certSignErrors: number;
  carrierAccepted: number;
  carrierServiceToken: number;
  carrierRefused: number;
  /** Org tokens (CF_Authorization) that reached a login path on a host other than the team domain. */
  orgTokenLeaks: number;
  /** Carrier connections let in by a Bypass policy, without a token. */
  carrierBypass: number;
  /** Polls of the FedRAMP transfer service (also counted in transferPolls). */
  fedTransferPolls: number;
  /** Serial of the last certificate issued (0: none yet). */
  lastSerial: number;
  faultsApplied: number;
}

export function zeroCounters(): Counters {
  return {
    metadata: 0,
    jwks: 0,
    loginPage: 0,
    approvals: 0,
    transferPolls: 0,
    transferDeliveries: 0,
    appRedirects: 0,
    teamLogins: 0,
    exchanges: 0,
    certSigns: 0,
    certSignErrors: 0,
    carrierAccepted: 0,
    carrierServiceToken: 0,
    carrierRefused: 0,
    orgTokenLeaks: 0,
    carrierBypass: 0,
    fedTransferPolls: 0,
    lastSerial: 0,
    faultsApplied: 0,
  };
}

/** Per-app audience tag: like Access's, a 64-hex-digit string, one per application. */
export function appAud(hostname: string): string {
  return createHash('sha256').update(`access-app:${hostname.toLowerCase()}`).digest('hex');
}

export const TEAM_AUD = createHash('sha256').update(`access-org:${TEAM_DOMAIN}`).digest('hex');
export const FED_TEAM_AUD = createHash('sha256').update(`access-org:${FED_TEAM_DOMAIN}`).digest('hex');

/** One Access team: its auth domain, issuer, org audience and transfer service. */
export interface Team {
  readonly domain: string;
  readonly issuer: string;
  readonly aud: string;
  readonly transferHost: string;
}

export const COMMERCIAL_TEAM: Team = { domain: TEAM_DOMAIN, issuer: ISSUER, aud: TEAM_AUD, transferHost: TRANSFER_HOST };
export const FEDRAMP_TEAM: Team = { domain: FED_TEAM_DOMAIN, issuer: FED_ISSUER, aud: FED_TEAM_AUD, transferHost: FED_TRANSFER_HOST };

export function teamByDomain(domain: string): Team | undefined {
  return domain === TEAM_DOMAIN ? COMMERCIAL_TEAM : domain === FED_TEAM_DOMAIN ? FEDRAMP_TEAM : undefined;
}

export function isAppHost(host: string): boolean {
  return host.endsWith(APP_SUFFIX) && host !== ADMIN_HOST && /^[a-z0-9]([a-z0-9-]*[a-z0-9])?\.sandbox\.test$/.test(host);
}

export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex');
}

export function randomId(bytes = 16): string {
  return randomBytes(bytes).toString('hex');
}

/** What the edge saw of one carrier handshake (credential headers left out). */
export interface CarrierRequest {
  host: string;
  /** The request's headers, lower-case names, minus Cf-Access-Token, the service token secret and cookies. */
  headers: Record<string, string>;
  /** Cf-Access-Jump-Destination, if any. */
  destination?: string;
  /** 'accepted' (101), 'refused' (302 to the login) or the status answered. */
  outcome: string;
}

export interface Delivery {
  body: string;
  servicePublicKey: string;
  /** The transfer service that hands it over (the team's). */
  transferHost: string;
}

export interface AppSession {
  host: string;
  aud: string;
  redirectUrl: string;
  expires: number;
}

export interface AuthCode {
  session: string;
  email: string;
  host: string;
  expires: number;
}

/** Merges a partial options object; in `faults`, a null/undefined value clears that fault. */
export function mergeOptions(current: SandboxOptions, patch: Partial<SandboxOptions> | Record<string, unknown>): SandboxOptions {
  const next: SandboxOptions = { ...current, faults: { ...current.faults } };
  for (const [key, value] of Object.entries(patch)) {
    if (key === 'faults') {
      if (value === null) {
        next.faults = {};
        continue;
      }
      for (const [ep, f] of Object.entries((value ?? {}) as Record<string, Fault | null | undefined>)) {
        if (f === null || f === undefined) delete next.faults[ep as Endpoint];
        else next.faults[ep as Endpoint] = { ...f };
      }
      continue;
    }
    if (!(key in DEFAULT_OPTIONS)) throw new Error(`unknown sandbox option ${key}`);
    if (value === undefined) continue;
    (next as unknown as Record<string, unknown>)[key] = value;
  }
  return next;
}

export class SandboxState {
  options: SandboxOptions;
  counters: Counters = zeroCounters();
  lastCertificate: string | undefined;
  private serial = 0;
  /** Hashes of tokens this edge issued, by kind, and those revoked. */
  readonly issued = { app: new Set<string>(), org: new Set<string>() };
  readonly revoked = new Set<string>();
  /** Transfer service: sealed token pairs waiting for the CLI, by box public key. */
  readonly deliveries = new Map<string, Delivery>();
  readonly transferWaiters = new Map<string, Set<() => void>>();
  readonly appSessions = new Map<string, AppSession>();
  readonly loginRefs = new Map<string, string>();
  readonly authCodes = new Map<string, AuthCode>();
  /** The last carrier handshakes (at most 200), oldest first. */
  readonly carrierRequests: CarrierRequest[] = [];

  constructor(options: Partial<SandboxOptions> = {}) {
    this.options = mergeOptions(DEFAULT_OPTIONS, options);
  }

  /** The team an app belongs to. */
  teamOf(host: string): Team {
    return this.options.fedrampHosts.includes(host) ? FEDRAMP_TEAM : COMMERCIAL_TEAM;
  }

  nextSerial(): number {
    this.serial += 1;
    this.counters.lastSerial = this.serial;
    return this.serial;
  }

  setOptions(patch: Partial<SandboxOptions> | Record<string, unknown>): SandboxOptions {
    this.options = mergeOptions(this.options, patch);
    return this.options;
  }

  resetCounters(): void {
    const lastSerial = this.counters.lastSerial;
    this.counters = Object.assign(this.counters, zeroCounters(), { lastSerial });
  }

  /** Returns the fault to apply now (and counts it down), or undefined. */
  takeFault(endpoint: Endpoint): Fault | undefined {
    const f = this.options.faults[endpoint];
    if (!f) return undefined;
    if (f.times !== undefined) {
      if (f.times <= 0) {
        delete this.options.faults[endpoint];
        return undefined;
      }
      f.times -= 1;
      if (f.times === 0) delete this.options.faults[endpoint];
    }
    this.counters.faultsApplied += 1;
    return f;
  }

  recordCarrier(r: CarrierRequest): void {
    this.carrierRequests.push(r);
    if (this.carrierRequests.length > 200) this.carrierRequests.splice(0, this.carrierRequests.length - 200);
  }

  recordIssued(kind: 'app' | 'org', token: string): void {
    this.issued[kind].add(tokenHash(token));
  }

  isRevoked(token: string): boolean {
    return this.revoked.has(tokenHash(token));
  }

  /** Revokes every token issued so far (app, org or both); tokens issued later are valid. */
  revokeAll(kind: 'app' | 'org' | 'all' = 'all'): number {
    let n = 0;
    for (const k of ['app', 'org'] as const) {
      if (kind !== 'all' && kind !== k) continue;
      for (const h of this.issued[k]) {
        this.revoked.add(h);
        n += 1;
      }
      this.issued[k].clear();
    }
    return n;
  }

  /** Drops expired login-flow records. */
  prune(now = Date.now()): void {
    for (const [k, v] of this.appSessions) if (v.expires < now) this.appSessions.delete(k);
    for (const [k, v] of this.authCodes) if (v.expires < now) this.authCodes.delete(k);
  }
}
