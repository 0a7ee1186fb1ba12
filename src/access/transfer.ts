// The browser login ("transfer"), as cloudflared's RunTransfer: an ephemeral
// NaCl box key pair; the user logs in at the app's /cdn-cgi/access/cli page,
// which hands the tokens, sealed to our public key, to the transfer service;
// we long-poll the service for them. The public key is the only handle on
// the sealed tokens, so a fresh key pair is made for every login.

import nacl from 'tweetnacl';
import { onAbnormalExit } from '../base/cleanup.js';
import { displayText } from '../base/display.js';
import { removePrivateFile, removePrivateFileSync, writePrivateFile } from '../base/private-files.js';
import { AccessError, describeError } from './errors.js';
import type { HttpClient } from './http.js';
import { parseAppToken, parseOrgToken } from './jwt.js';
import { redact } from './redact.js';
import { silentLogger, type AccessClaims, type AppInfo, type AppToken, type Logger, type OrgToken } from './types.js';
import { sleep } from '../base/sleep.js';

export const TRANSFER_SERVICE = 'https://login.cloudflareaccess.org/';
/** cloudflared's `--fedramp` transfer service (token/transfer.go fedStoreURL). */
export const FEDRAMP_TRANSFER_SERVICE = 'https://login.fed.cloudflareaccess.org/';
/** FedRAMP teams' auth domains end with this. */
export const FEDRAMP_DOMAIN_SUFFIX = '.fed.cloudflareaccess.com';
/**
 * How long a browser login may take: cloudflared polls 10 times with a 60 s
 * client timeout each (token/transfer.go), so it waits up to 10 minutes.
 */
export const DEFAULT_LOGIN_TIMEOUT_MS = 10 * 60 * 1000;

/**
 * The transfer service for a login: the FedRAMP one when asked (`--fedramp`)
 * or when the app's team is a FedRAMP team (its auth domain is under
 * `.fed.cloudflareaccess.com`: its logins are only ever handed to that service).
 */
export function transferServiceFor(authDomain: string | undefined, fedramp: boolean | undefined): string {
  return fedramp === true || (authDomain !== undefined && isFedrampTeam(authDomain)) ? FEDRAMP_TRANSFER_SERVICE : TRANSFER_SERVICE;
}

/** Whether a team's auth domain is a FedRAMP team's (under `.fed.cloudflareaccess.com`). */
export function isFedrampTeam(authDomain: string): boolean {
  return authDomain.toLowerCase().replace(/\.$/, '').endsWith(FEDRAMP_DOMAIN_SUFFIX);
}
const DEFAULT_POLL_DELAY_MS = 1000;
/** The service holds a poll open while it waits; cloudflared allows 60 s. */
const POLL_REQUEST_TIMEOUT_MS = 60_000;
const MAX_NETWORK_FAILURES = 3;
const NONCE_LENGTH = nacl.box.nonceLength; // 24

export interface TransferKeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
  /** base64url with padding, as Go's base64.URLEncoding. */
  readonly publicKeyB64: string;
}

export function newTransferKeyPair(): TransferKeyPair {
  const { publicKey, secretKey } = nacl.box.keyPair();
  return { publicKey, secretKey, publicKeyB64: goUrlBase64(publicKey) };
}

/** Go's base64.URLEncoding: the URL alphabet, padded. */
export function goUrlBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

/** Strict decoding of Go's base64.URLEncoding (padded). */
function decodeGoUrlBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !/^[A-Za-z0-9_-]*={0,2}$/.test(text)) return undefined;
  return Buffer.from(text.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
}

/** Strict decoding of Go's base64.StdEncoding (padded); surrounding whitespace ignored. */
function decodeStdBase64(text: string): Buffer | undefined {
  const t = text.trim();
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

/** Go's url.QueryEscape: only A-Z a-z 0-9 - _ . ~ are kept, space is '+'. */
export function goQueryEscape(s: string): string {
  let out = '';
  for (const byte of Buffer.from(s, 'utf8')) {
    const c = String.fromCharCode(byte);
    if (/[A-Za-z0-9\-_.~]/.test(c)) out += c;
    else if (c === ' ') out += '+';
    else out += '%' + byte.toString(16).toUpperCase().padStart(2, '0');
  }
  return out;
}

/** Go's url.Values.Encode: keys sorted, values in insertion order. */
function goEncode(values: Map<string, string[]>): string {
  return [...values.keys()]
    .sort()
    .flatMap((k) => (values.get(k) ?? []).map((v) => `${goQueryEscape(k)}=${goQueryEscape(v)}`))
    .join('&');
}

/**
 * The login page, as cloudflared's buildRequestURL(appURL, aud, "token", key,
 * cli=true, useHostOnly=false, autoClose=false): the app URL with token and
 * aud added becomes redirect_url; the page is /cdn-cgi/access/cli on the app
 * host with aud, edge_token_transfer, redirect_url, send_org_token, token
 * (plus the app URL's own query), sorted by name.
 */
export function loginUrl(appUrl: URL, aud: string, publicKeyB64: string): string {
  const q = new Map<string, string[]>();
  for (const [k, v] of new URLSearchParams(appUrl.search)) q.set(k, [...(q.get(k) ?? []), v]);
  q.set('token', [publicKeyB64]);
  q.set('aud', [aud]);
  const prefix = `${appUrl.protocol}//${appUrl.host}`;
  const query = goEncode(q);
  const redirect = `${prefix}${appUrl.pathname}${query ? `?${query}` : ''}${appUrl.hash}`;
  q.set('redirect_url', [redirect]);
  q.set('send_org_token', ['true']);
  q.set('edge_token_transfer', ['true']);
  return `${prefix}/cdn-cgi/access/cli?${goEncode(q)}${appUrl.hash}`;
}

/** Open the sealed 200 body of the transfer service: std base64 of nonce(24) || box. */
export function openTransferPayload(body: string, servicePublicKeyB64: string | undefined, keyPair: TransferKeyPair): Uint8Array {
  if (!servicePublicKeyB64) throw new AccessError('transfer', 'The login service answered without its service-public-key header');
  const peer = decodeGoUrlBase64(servicePublicKeyB64.trim());
  if (!peer || peer.length !== nacl.box.publicKeyLength) {
    throw new AccessError('transfer', 'The login service sent a malformed service-public-key header');
  }
  const data = decodeStdBase64(body);
  if (!data) throw new AccessError('transfer', 'The login service answer is not base64');
  if (data.length < NONCE_LENGTH + nacl.box.overheadLength) {
    throw new AccessError('transfer', `The login service answer is too short (${data.length} bytes) to hold a sealed message`);
  }
  const opened = nacl.box.open(data.subarray(NONCE_LENGTH), data.subarray(0, NONCE_LENGTH), peer, keyPair.secretKey);
  if (!opened) throw new AccessError('transfer', "The login service answer could not be decrypted with this login's key");
  return opened;
}

/**
 * The opened payload: JSON `{"app_token", "org_token"}`. The org token may be
 * missing or empty (cloudflared's transferServiceResponse takes what is there):
 * the login then gives an app token alone.
 */
export function parseTransferTokens(plain: Uint8Array): { appToken: string; orgToken?: string } {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(plain).toString('utf8'));
  } catch {
    throw new AccessError('transfer', 'The login service answer is not JSON');
  }
  const obj = (parsed && typeof parsed === 'object' ? parsed : {}) as Record<string, unknown>;
  const app = obj['app_token'];
  const org = obj['org_token'];
  if (typeof app !== 'string' || app === '') throw new AccessError('transfer', 'The login service answer has no app_token');
  if (org !== undefined && org !== null && typeof org !== 'string')
    throw new AccessError('transfer', 'The login service answer has an org_token that is not a string');
  return typeof org === 'string' && org !== '' ? { appToken: app, orgToken: org } : { appToken: app };
}

export interface PollOptions {
  readonly service?: string;
  /** The application the login is for: the host of the sign-in step a timeout names. */
  readonly host?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly pollDelayMs?: number;
  readonly log?: Logger;
}

/**
 * Long-poll `<service>transfer/<key>` until the tokens arrive. Below 500 and
 * not 200 means "not yet"; 5xx aborts. Returns the opened plaintext.
 */
export async function pollTransfer(http: HttpClient, keyPair: TransferKeyPair, opts: PollOptions = {}): Promise<Uint8Array> {
  const service = opts.service ?? TRANSFER_SERVICE;
  const url = new URL(`transfer/${keyPair.publicKeyB64}`, service.endsWith('/') ? service : `${service}/`);
  const timeoutMs = opts.timeoutMs ?? DEFAULT_LOGIN_TIMEOUT_MS;
  const delayMs = opts.pollDelayMs ?? DEFAULT_POLL_DELAY_MS;
  const log = opts.log ?? silentLogger;
  const deadline = Date.now() + timeoutMs;
  let failures = 0;

  const stopped = (): AccessError | undefined => {
    if (opts.signal?.aborted) return new AccessError('login-cancelled', 'The login was cancelled');
    if (Date.now() >= deadline) {
      return new AccessError('timeout', `The browser login did not finish within ${Math.round(timeoutMs / 1000)}s`, {
        action: 'sign-in',
        ...(opts.host !== undefined ? { host: opts.host } : {}),
        hint: 'Complete the login page in the browser before it times out.',
      });
    }
    return undefined;
  };

  for (;;) {
    const stop = stopped();
    if (stop) throw stop;
    let res;
    try {
      const req = { method: 'GET' as const, url, timeoutMs: Math.max(1, Math.min(POLL_REQUEST_TIMEOUT_MS, deadline - Date.now())) };
      res = await http.request(opts.signal ? { ...req, signal: opts.signal } : req);
      failures = 0;
    } catch (err) {
      const stop = stopped();
      if (stop) throw stop;
      // An answer over the size cap (or anything but a broken connection) is not
      // "not yet": asking again gets the same answer until the login times out.
      if (!(err instanceof AccessError) || (err.code !== 'timeout' && err.code !== 'network')) {
        throw new AccessError(
          'transfer',
          `The login service answered something unusable: ${err instanceof Error ? err.message : String(err)}`,
          {
            hint: 'Try signing in again; if it persists, check ACCESS_SSH_CONNECT_TO and any proxy between you and Cloudflare.',
            cause: err,
          },
        );
      }
      // A long poll that runs out of time just means "not yet".
      if (err.code !== 'timeout') {
        failures += 1;
        if (failures >= MAX_NETWORK_FAILURES) throw err;
        log.debug(`login poll failed (${describeError(err)}), retrying`);
      }
      await sleep(delayMs, opts.signal);
      continue;
    }
    if (res.status >= 500) {
      const excerpt = displayText(redact(res.body.toString('utf8').slice(0, 4096)).replace(/\s+/g, ' ').trim(), 200);
      throw new AccessError('transfer', `The login service failed with HTTP ${res.status}${excerpt ? `: ${excerpt}` : ''}`, {
        action: 'retry',
        hint: 'Try signing in again in a moment.',
      });
    }
    // cloudflared's transferRequest: a 200 with an empty body is "not yet" too.
    if (res.status === 200 && res.body.toString('utf8').trim() !== '') {
      const key = res.headers['service-public-key'];
      return openTransferPayload(res.body.toString('utf8'), Array.isArray(key) ? key[0] : key, keyPair);
    }
    log.debug(`waiting for the browser login (HTTP ${res.status}${res.status === 200 ? ', empty' : ''})`);
    await sleep(delayMs, opts.signal);
  }
}

export interface BrowserLoginOptions {
  readonly appUrl: URL;
  readonly appInfo: AppInfo;
  openBrowser(url: string): Promise<void> | void;
  onLoginUrl?(url: string): void;
  /** cloudflared's `<app token path>.url` companion, for processes waiting on the lock. */
  readonly urlFile?: string;
  readonly signal?: AbortSignal;
  readonly timeoutMs?: number;
  readonly transferService?: string;
  readonly pollDelayMs?: number;
  readonly log?: Logger;
}

export interface BrowserLoginResult {
  readonly appToken: AppToken;
  /** Absent when the login service handed over an app token alone. */
  readonly orgToken?: OrgToken;
  readonly appClaims: AccessClaims;
  readonly orgClaims?: AccessClaims;
}

export async function runBrowserLogin(http: HttpClient, opts: BrowserLoginOptions): Promise<BrowserLoginResult> {
  const log = opts.log ?? silentLogger;
  const keyPair = newTransferKeyPair();
  const url = loginUrl(opts.appUrl, opts.appInfo.appAud, keyPair.publicKeyB64);
  const urlFile = opts.urlFile;
  // SIGTERM/SIGINT/SIGHUP: the CLI removes it on its way out.
  const unregister = urlFile ? onAbnormalExit(() => removePrivateFileSync(urlFile)) : () => undefined;
  if (urlFile) {
    try {
      // The file layer: never written through a symlink planted at the path.
      await writePrivateFile(urlFile, url, 0o600);
    } catch (err) {
      log.debug(`could not write the login URL file: ${describeError(err)}`);
    }
  }
  try {
    opts.onLoginUrl?.(url);
    // Poll while the browser opens: an opener that never returns must not stall the login.
    Promise.resolve()
      .then(() => opts.openBrowser(url))
      .catch((err: unknown) => log.warn(`could not open a browser (${describeError(err)}); open the login URL by hand`));

    const pollOpts: PollOptions = {
      log,
      host: opts.appUrl.hostname,
      ...(opts.signal ? { signal: opts.signal } : {}),
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.transferService !== undefined ? { service: opts.transferService } : {}),
      ...(opts.pollDelayMs !== undefined ? { pollDelayMs: opts.pollDelayMs } : {}),
    };
    const plain = await pollTransfer(http, keyPair, pollOpts);
    const tokens = parseTransferTokens(plain);
    const app = loginToken(() => parseAppToken(tokens.appToken), 'app');
    if (!app.claims.aud.includes(opts.appInfo.appAud)) {
      throw new AccessError('transfer', `The app token from the login is not for ${opts.appInfo.appHostname} (audience mismatch)`);
    }
    if (tokens.orgToken === undefined) {
      log.info('The login service handed over an app token without an org token; other apps of the team will need their own login');
      return { appToken: app.token, appClaims: app.claims };
    }
    const orgText = tokens.orgToken;
    const org = loginToken(() => parseOrgToken(orgText), 'org');
    return { appToken: app.token, orgToken: org.token, appClaims: app.claims, orgClaims: org.claims };
  } finally {
    if (urlFile) await removePrivateFile(urlFile).catch(() => undefined);
    unregister();
  }
}

function loginToken<T>(parse: () => T, kind: 'app' | 'org'): T {
  try {
    return parse();
  } catch (err) {
    throw new AccessError('transfer', `The ${kind} token from the login is unusable: ${describeError(err)}`, { cause: err });
  }
}
