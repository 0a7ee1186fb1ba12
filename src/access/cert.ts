// Short-lived SSH certificates: the cached `<host>-cf_key` / `-cert.pub` pair
// (cloudflared's files, sshgen/sshgen.go), renewal through Access's cert_sign
// endpoint, and the checks a certificate passes before it is trusted.
//
// `ensureCertificate` runs on every ssh connection (the `Match exec` of the
// ssh_config entries), so its fast path is cert-file.ts: the certificate and the
// `.pub` beside the key, read without sshpk, no network, no key generation.
// Only when that finds nothing usable does the slow path check the pair with
// sshpk (against the private key) and renew; the modules that pull in jose or
// ws are imported lazily there.

import * as sshpk from 'sshpk';
import { writeFilesAtomically } from '../base/atomic-write.js';
import { displayText, hasControlOrLineBreak, showValue } from '../base/display.js';
import { onAbnormalExit } from '../base/cleanup.js';
import { isFileError } from '../base/file-error.js';
import { checkPrivateDir, readPrivateFile, removePrivateFile, removePrivateFileSync, writePrivateFile } from '../base/private-files.js';
import { AccessError, describeError, fromFileError, isAccessError } from './errors.js';
import type { HttpClient } from './http.js';
import {
  certificateInfo,
  DEFAULT_MAX_VALIDITY_SECONDS,
  hasStarted,
  parseOpenSshCertificate,
  policyProblem,
  unusableReason,
  usableCachedCertificate,
  type CertificateInfo,
  type OpenSshCertificate,
} from './cert-file.js';
import { certFile, certKeyFile, certPubFile, defaultConfigDir } from './paths.js';
import { redact } from './redact.js';
import type { AppToken, Logger } from './types.js';
import type { AccessContext, LoginOptions } from './token-flow.js';
import type { LockHolder } from './lock.js';

export const CERT_SIGN_PATH = '/cdn-cgi/access/cert_sign';
export {
  CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_VALIDITY_SECONDS,
  DEFAULT_RENEW_MARGIN_SECONDS,
  policyProblem,
  unusableReason,
  type CertificateInfo,
} from './cert-file.js';

export type CertificateState =
  | { readonly status: 'ok'; readonly cert: CertificateInfo }
  | { readonly status: 'missing'; readonly reason: string }
  | { readonly status: 'mismatch'; readonly reason: string }
  | { readonly status: 'invalid'; readonly reason: string };

// ---------------------------------------------------------------------------
// Reading and checking

/**
 * What is on disk for `host`: `ok` when the certificate parses and certifies
 * the public key of the private key file. Throws AccessError('cert-invalid')
 * for a private key that group or others can read (ssh would refuse it too).
 */
export async function inspectCertificate(dir: string, host: string): Promise<CertificateState> {
  const keyPath = certKeyFile(dir, host);
  const crtPath = certFile(dir, host);
  let keyText: Buffer | undefined;
  let certText: Buffer | undefined;
  try {
    [keyText, certText] = await Promise.all([
      readSecureKey(keyPath),
      readPrivateFile(crtPath, { sensitivity: 'public', maxBytes: 64 * 1024 }),
    ]);
  } catch (err) {
    if (isAccessError(err)) throw err;
    const e = fromFileError(err);
    if (isAccessError(e) && isFileError(e.cause) && e.cause.code !== 'io') {
      throw new AccessError('cert-invalid', e.message, { ...(e.hint !== undefined ? { hint: e.hint } : {}), cause: err });
    }
    return { status: 'invalid', reason: `cannot read ${crtPath}: ${describeError(e)}` };
  }
  if (!keyText) return { status: 'missing', reason: `${keyPath} does not exist` };
  if (!certText) return { status: 'missing', reason: `${crtPath} does not exist` };
  let parsed: ParsedCertificate;
  try {
    parsed = parseCertificateText(certText, crtPath, keyPath);
  } catch (err) {
    return { status: 'invalid', reason: describeError(err) };
  }
  let ourKey: sshpk.Key;
  try {
    ourKey = sshpk.parsePrivateKey(keyText, 'auto', { filename: keyPath }).toPublic();
  } catch (err) {
    return { status: 'invalid', reason: `cannot parse the private key ${keyPath}: ${describeError(err)}` };
  }
  if (!sameKey(ourKey, parsed.subjectKey)) {
    return { status: 'mismatch', reason: `${crtPath} certifies another key than ${keyPath}` };
  }
  return { status: 'ok', cert: parsed.info };
}

/**
 * The cached certificate for `host` when it exists and certifies our private
 * key; undefined when either file is missing, unreadable or does not match.
 */
export async function readCertificate(dir: string, host: string): Promise<CertificateInfo | undefined> {
  const state = await inspectCertificate(dir, host);
  return state.status === 'ok' ? state.cert : undefined;
}

interface ParsedCertificate {
  readonly info: CertificateInfo;
  readonly subjectKey: sshpk.Key;
  readonly signedByOwnIssuer: boolean;
}

/** Parse one OpenSSH certificate line. Throws AccessError('cert-invalid'). */
function parseCertificateText(text: Buffer | string, crtPath: string, keyPath: string): ParsedCertificate {
  const line = (typeof text === 'string' ? text : text.toString('utf8')).trim();
  let cert: sshpk.Certificate;
  try {
    cert = sshpk.parseCertificate(line, 'openssh');
  } catch (err) {
    throw new AccessError('cert-invalid', `${crtPath} is not an OpenSSH certificate: ${describeError(err)}`);
  }
  let fields: OpenSshCertificate;
  try {
    fields = parseOpenSshCertificate(line);
  } catch (err) {
    throw new AccessError('cert-invalid', `${crtPath}: ${describeError(err)}`);
  }
  const issuerKey = cert.issuerKey;
  if (!issuerKey) throw new AccessError('cert-invalid', `${crtPath} has no signing key`);
  let signedByOwnIssuer: boolean;
  try {
    signedByOwnIssuer = cert.isSignedByKey(issuerKey);
  } catch {
    signedByOwnIssuer = false;
  }
  const info = certificateInfo(fields, crtPath, keyPath);
  return { info, subjectKey: cert.subjectKey, signedByOwnIssuer };
}

function sameKey(a: sshpk.Key, b: sshpk.Key): boolean {
  return a.fingerprint('sha256').matches(b);
}

/**
 * Read a private key file through the private file layer: refused when it is a
 * symlink, not ours, or readable by group or others (as ssh refuses it).
 */
async function readSecureKey(keyPath: string): Promise<Buffer | undefined> {
  try {
    return await readPrivateFile(keyPath, { sensitivity: 'secret', maxBytes: 64 * 1024 });
  } catch (err) {
    const e = fromFileError(err);
    if (isAccessError(e))
      throw new AccessError('cert-invalid', e.message, { ...(e.hint !== undefined ? { hint: e.hint } : {}), cause: err });
    throw e;
  }
}

// ---------------------------------------------------------------------------
// cert_sign

export interface SignedCertificate {
  readonly id: string;
  /** The certificate line (`ecdsa-sha2-nistp256-cert-v01@openssh.com AAAA…`). */
  readonly certificate: string;
  readonly expiresAt?: Date;
}

export interface SignOptions {
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
  readonly log?: Logger;
  /** The app's auth domain; a token issued elsewhere is reported (the edge decides). */
  readonly authDomain?: string;
}

/**
 * `POST <iss>/cdn-cgi/access/cert_sign` with `{public_key, jwt, issuer}`.
 * Throws AccessError('token-refused') on 401/403 (the token is no good; get a
 * new one), AccessError('cert-sign') for anything else that is not a certificate.
 */
export async function signCertificate(
  http: HttpClient,
  token: AppToken,
  publicKeyLine: string,
  opts: SignOptions = {},
): Promise<SignedCertificate> {
  const { decodeClaims } = await import('./jwt.js');
  const claims = decodeClaims(token);
  const endpoint = certSignUrl(claims.iss);
  if (opts.authDomain !== undefined && endpoint.hostname !== opts.authDomain.toLowerCase()) {
    opts.log?.warn(`The app token was issued by ${endpoint.host}, not by the app's auth domain ${opts.authDomain}`);
  }
  const body = JSON.stringify({ public_key: publicKeyLine.trim(), jwt: token, issuer: claims.iss });
  const req: Parameters<HttpClient['request']>[0] = {
    method: 'POST',
    url: endpoint,
    headers: { 'content-type': 'application/json', accept: 'application/json' },
    body,
    ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
    ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
  };
  opts.log?.debug(`Requesting a certificate from ${endpoint.host}`);
  const { requestRetryOnce } = await import('./http.js');
  const res = await requestRetryOnce(http, req, opts.log);
  const where = endpoint.host;
  const text = res.body.toString('utf8');

  if (res.status === 200) {
    const json = tryJson(text);
    const certificate = isRecord(json) ? json['certificate'] : undefined;
    if (!isRecord(json) || typeof certificate !== 'string' || certificate.trim() === '') {
      throw new AccessError('cert-sign', `Certificate signing at ${where} answered HTTP 200 without a certificate: ${excerpt(text)}`, {
        hint: 'The Access edge answered something unexpected; try again, and check ACCESS_SSH_CONNECT_TO / proxies if it persists.',
      });
    }
    // One line, `<type> <base64> [comment]`, nothing else: it is written to a file
    // ssh reads, and what is written must be exactly what was verified.
    if (!/^[a-z0-9@.-]+ [A-Za-z0-9+/]+={0,2}(?: [^\u0000-\u001f\u007f]*)?$/.test(certificate.trim()) || certificate.length > 64 * 1024) {
      throw new AccessError(
        'cert-sign',
        `Certificate signing at ${where} answered HTTP 200 with a certificate that is not one line of OpenSSH certificate text: ${excerpt(certificate)}`,
        {
          hint: 'The Access edge answered something unexpected; nothing was written. Try again, and check ACCESS_SSH_CONNECT_TO / proxies if it persists.',
        },
      );
    }
    const id = typeof json['id'] === 'string' ? json['id'] : '';
    const out: { -readonly [K in keyof SignedCertificate]: SignedCertificate[K] } = { id, certificate: certificate.trim() };
    const exp = json['expires_at'];
    if (typeof exp === 'string' && !Number.isNaN(Date.parse(exp))) out.expiresAt = new Date(exp);
    return out;
  }

  const json = tryJson(text);
  let detail: string;
  if (isRecord(json) && (typeof json['message'] === 'string' || typeof json['status'] === 'number')) {
    const msg = typeof json['message'] === 'string' ? json['message'] : '';
    // The edge's words reach a terminal and the editor: no line breaks, no escape sequences.
    detail = msg ? displayText(redact(msg).trim(), 200) : `status ${String(json['status'])}`;
  } else {
    // cloudflared #1271: an HTML error page made it print "invalid character '<'".
    detail = `the body is not JSON: ${excerpt(text)}`;
  }
  if (res.status === 401 || res.status === 403) {
    throw new AccessError('token-refused', `Certificate signing at ${where} refused the app token (HTTP ${res.status}): ${detail}`, {
      hint: 'Sign in again (VS Code "Access: Sign In", or access-ssh login https://<host>).',
    });
  }
  throw new AccessError('cert-sign', `Certificate signing at ${where} failed (HTTP ${res.status}): ${detail}`, {
    hint:
      res.status >= 500
        ? 'The Access edge had a problem; try again in a moment.'
        : 'Check that the application has short-lived certificates enabled in Cloudflare Zero Trust.',
  });
}

/** `<iss>/cdn-cgi/access/cert_sign`; the token is sent there, so only https. */
export function certSignUrl(iss: string): URL {
  let url: URL;
  try {
    url = new URL(iss);
  } catch {
    throw new AccessError('cert-sign', 'The app token\'s issuer ("iss") is not a URL', { hint: 'Sign in again to get a fresh token.' });
  }
  if (url.protocol !== 'https:' || url.username !== '' || url.password !== '' || url.search !== '' || url.hash !== '') {
    throw new AccessError(
      'cert-sign',
      `Refusing to send the app token to its issuer ${showValue(redact(iss), 100)}: not a plain https URL`,
      {
        hint: 'Sign in again to get a fresh token.',
      },
    );
  }
  const base = url.href.replace(/\/+$/, '');
  return new URL(base + CERT_SIGN_PATH);
}

function tryJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A short, printable, redacted quote of a response body. */
function excerpt(text: string): string {
  if (text.trim() === '') return '(empty body)';
  return showValue(redact(text.replace(/\s+/g, ' ').trim()), 120);
}

// ---------------------------------------------------------------------------
// Issuing: new key, cert_sign, verify, write

/** Where app tokens come from for a renewal: the token flow, or a test's fake. */
export interface TokenSource {
  get(): Promise<AppToken>;
  /** Drop the token `get` returned (it was refused), so that the next `get` makes a new one. */
  forget(): Promise<void>;
  /** The app's auth domain once known (a token issued elsewhere is reported). */
  authDomain?(): string | undefined;
}

export interface IssueOptions {
  readonly now?: () => Date;
  /** The longest validity window accepted; default DEFAULT_MAX_VALIDITY_SECONDS (24 h). */
  readonly maxValiditySeconds?: number;
  readonly log?: Logger;
  readonly authDomain?: string;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

/**
 * Generate a fresh P-256 key, have it signed, verify the certificate and write
 * `<host>-cf_key` (PEM, 0600), `.pub` and `-cert.pub` (0600). A token refused by
 * cert_sign (401/403) is forgotten and replaced once.
 */
export async function issueCertificate(
  http: HttpClient,
  dir: string,
  host: string,
  tokens: TokenSource,
  opts: IssueOptions = {},
): Promise<CertificateInfo> {
  const now = opts.now ?? (() => new Date());
  const log = opts.log;
  const key = sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' });
  const pub = key.toPublic();
  const pubLine = pub.toString('ssh');
  const signOpts = (): SignOptions => {
    const authDomain = opts.authDomain ?? tokens.authDomain?.();
    return {
      ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      ...(opts.signal !== undefined ? { signal: opts.signal } : {}),
      ...(log !== undefined ? { log } : {}),
      ...(authDomain !== undefined ? { authDomain } : {}),
    };
  };

  let token = await tokens.get();
  let signed: SignedCertificate;
  try {
    signed = await signCertificate(http, token, pubLine, signOpts());
  } catch (err) {
    if (!isAccessError(err, 'token-refused')) throw err;
    log?.info(`The stored app token for ${host} was refused; getting a new one`);
    await tokens.forget();
    token = await tokens.get();
    signed = await signCertificate(http, token, pubLine, signOpts());
  }

  const keyPath = certKeyFile(dir, host);
  const crtPath = certFile(dir, host);
  const parsed = parseCertificateText(signed.certificate, crtPath, keyPath);
  verifyIssued(parsed, pub, now(), opts.maxValiditySeconds ?? DEFAULT_MAX_VALIDITY_SECONDS);
  // The edge decides the principal (cloudflared writes whatever cert_sign returns):
  // one that is not the e-mail's local part is kept; ssh then logs in as it.
  const { decodeClaims, emailLocalPart } = await import('./jwt.js');
  const email = decodeClaims(token).email;
  if (email !== undefined && !parsed.info.principals.includes(emailLocalPart(email))) {
    log?.info(
      `The certificate for ${host} is for ${parsed.info.principals.join(', ')}, not ${emailLocalPart(email)} (the local part of ${email}): Access maps this login to that account`,
    );
  }

  // The one atomic write: everything is staged (fsynced, unpredictable temp names,
  // no symlink followed) before the first rename, so that the key and its
  // certificate replace the old pair within microseconds of each other; a failure
  // (ENOSPC) leaves no temp file, the new private key's included, and names the file.
  try {
    await checkPrivateDir(dir);
    await writeFilesAtomically([
      { target: certPubFile(dir, host), data: pubLine + '\n', mode: 0o644 },
      { target: keyPath, data: key.toString('pem'), mode: 0o600 },
      { target: crtPath, data: signed.certificate + '\n', mode: 0o600 },
    ]);
  } catch (err) {
    throw fromFileError(err);
  }
  log?.debug(`New certificate for ${host}: ${parsed.info.principals.join(',')} valid until ${parsed.info.validBefore.toISOString()}`);
  return parsed.info;
}

/**
 * What a certificate from cert_sign must be before it is written: for our key,
 * signed by the key it names, a user certificate, at least one principal (any:
 * the edge decides which account this login maps to), a live validity window,
 * and nothing we would not issue ourselves (policyProblem: no critical option,
 * a validity window within `maxValiditySeconds`).
 */
function verifyIssued(parsed: ParsedCertificate, ourKey: sshpk.Key, now: Date, maxValiditySeconds: number): void {
  const bad = (why: string): AccessError =>
    new AccessError('cert-invalid', `The certificate from Access was refused: ${why}`, {
      hint: "Nothing was written. Try again; if it persists, check the Access application's short-lived certificate settings.",
    });
  const info = parsed.info;
  if (!sameKey(parsed.subjectKey, ourKey)) throw bad(`it certifies another key (${info.keyFingerprint})`);
  if (!parsed.signedByOwnIssuer) throw bad('its signature does not verify');
  if (info.type !== 'user') throw bad('it is not a user certificate');
  if (info.principals.length === 0) throw bad('it names no principal');
  // Principals and key id are shown in the editor and the log: no line breaks or controls.
  const unsafe = [...info.principals, info.keyId].find((v) => hasControlOrLineBreak(v));
  if (unsafe !== undefined) throw bad(`its principals or key id hold a line break or control character (${showValue(unsafe)})`);
  const policy = policyProblem(info, maxValiditySeconds);
  if (policy !== undefined) throw bad(policy);
  const t = now.getTime();
  if (info.validBefore.getTime() <= info.validAfter.getTime()) throw bad('its validity window is empty');
  if (info.validBefore.getTime() <= t) throw bad(`it already expired at ${info.validBefore.toISOString()}`);
  if (!hasStarted(info.validAfter, now)) {
    throw bad(`it only becomes valid at ${info.validAfter.toISOString()} (check the system clock)`);
  }
}

// ---------------------------------------------------------------------------
// The whole flow

export interface EnsureOptions {
  /** Renew when the certificate is valid for less than this. */
  readonly marginSeconds: number;
  readonly login: LoginOptions;
  /** The application URL; default `https://<host>/`. */
  readonly appUrl?: URL;
  readonly now?: () => Date;
  /** Where the key and certificate live; default the token store's directory, else `~/.cloudflared`. */
  readonly dir?: string;
  /** The longest validity window accepted, new or cached; default 24 h (DEFAULT_MAX_VALIDITY_SECONDS). */
  readonly maxValiditySeconds?: number;
}

export interface EnsureResult {
  readonly cert: CertificateInfo;
  readonly renewed: boolean;
}

/**
 * A certificate for `host` valid for more than `marginSeconds`: the cached one
 * when it is (no network at all), else a new key and certificate made under a
 * lock that concurrent processes share (one renewal, one login).
 */
export async function ensureCertificate(ctx: AccessContext, host: string, opts: EnsureOptions): Promise<EnsureResult> {
  const now = opts.now ?? (() => new Date());
  const dir = opts.dir ?? ctx.store.dir ?? defaultConfigDir();
  const log = ctx.log;

  const maxValidity = opts.maxValiditySeconds ?? DEFAULT_MAX_VALIDITY_SECONDS;
  const cached = await usableCachedCertificate(dir, host, {
    now: now(),
    marginSeconds: opts.marginSeconds,
    maxValiditySeconds: maxValidity,
  });
  if (cached.cert) return { cert: cached.cert, renewed: false };
  log.debug(`No usable certificate for ${host} (${cached.reason}); checking under the lock`);

  const keyPath = certKeyFile(dir, host);
  try {
    await checkPrivateDir(dir);
  } catch (err) {
    throw fromFileError(err);
  }
  const { withFileLock } = await import('./lock.js');
  const loginBudget = opts.login.timeoutMs ?? 10 * 60_000; // transfer.ts DEFAULT_LOGIN_TIMEOUT_MS
  let saidWaiting = false;
  // Processes waiting on this lock read the login URL of the holder from here (as
  // cloudflared's `<token>.url`), so that they can show it instead of a bare "waiting".
  const urlFile = `${keyPath}.url`;
  let publishing: Promise<void> = Promise.resolve();
  const publishUrl = (url: string): void => {
    // Through the file layer: a symlink planted at the path is replaced, never written through.
    publishing = publishing
      .then(() => writePrivateFile(urlFile, url, 0o600))
      .catch((err: unknown) => {
        log.debug(`could not write ${urlFile}: ${describeError(err)}`);
      });
  };
  const login: LoginOptions = {
    ...opts.login,
    onLoginUrl: (url: string) => {
      publishUrl(url);
      opts.login.onLoginUrl?.(url);
    },
    onWaiting: (holder: LockHolder) => {
      // We wait on another process's login ourselves: pass its URL on to our waiters.
      if (holder.url) publishUrl(holder.url);
      if (opts.login.onWaiting) opts.login.onWaiting(holder);
      else if (holder.url) opts.login.onLoginUrl?.(holder.url);
    },
  };
  return await withFileLock(
    keyPath,
    async () => {
      const unregister = onAbnormalExit(() => removePrivateFileSync(urlFile));
      try {
        return await renewLocked();
      } finally {
        await publishing;
        await removePrivateFile(urlFile).catch(() => undefined);
        unregister();
      }
    },
    {
      timeoutMs: loginBudget + 60_000,
      retryMs: 200,
      ...(opts.login.signal !== undefined ? { signal: opts.login.signal } : {}),
      onWaiting: (holder) => {
        if (holder.url) {
          // The holder is in a browser login: show its URL, as cloudflared does.
          if (opts.login.onWaiting) opts.login.onWaiting(holder);
          else opts.login.onLoginUrl?.(holder.url);
          return;
        }
        // Waiters take the lock in turn to re-check: say it once, whoever holds it.
        if (saidWaiting) return;
        saidWaiting = true;
        log.info(`Waiting for another access-ssh process that is renewing the certificate for ${host}`);
      },
    },
  );

  async function renewLocked(): Promise<EnsureResult> {
    // Another process may have renewed while we waited.
    const again = await usableCertificate(dir, host, now(), opts.marginSeconds, maxValidity, undefined);
    if (again) {
      log.debug(`Certificate for ${host} was renewed by another process`);
      return { cert: again, renewed: false };
    }
    const { appTokens } = await import('./token-flow.js');
    const appUrl = opts.appUrl ?? new URL(`https://${host}/`);
    // The app is discovered only when no live app token for the host is stored,
    // or the stored one is refused (token-flow.ts, appTokens).
    const tokens = appTokens(ctx, appUrl, login);
    const cert = await issueCertificate(
      ctx.http,
      dir,
      host,
      {
        get: () => tokens.get(),
        forget: () => tokens.forget(),
        authDomain: () => tokens.appInfo()?.authDomain,
      },
      {
        now,
        log,
        maxValiditySeconds: maxValidity,
        ...(opts.login.signal !== undefined ? { signal: opts.login.signal } : {}),
      },
    );
    return { cert, renewed: true };
  }
}

async function usableCertificate(
  dir: string,
  host: string,
  now: Date,
  marginSeconds: number,
  maxValiditySeconds: number,
  log: Logger | undefined,
): Promise<CertificateInfo | undefined> {
  const state = await inspectCertificate(dir, host);
  if (state.status !== 'ok') {
    log?.debug(`No usable certificate for ${host}: ${state.reason}`);
    return undefined;
  }
  const why = unusableReason(state.cert, now, marginSeconds, maxValiditySeconds);
  if (why !== undefined) {
    log?.debug(`Renewing the certificate for ${host}: ${why}`);
    return undefined;
  }
  return state.cert;
}
