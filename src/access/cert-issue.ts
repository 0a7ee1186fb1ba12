// Issuing a certificate: a new P-256 key, cert_sign (cert-sign.ts), the checks a new
// certificate passes before it is trusted, then the files written in one step
// (writeCertificateFiles in cert-file.ts). sshpk (key generation, the signature
// check) is loaded with this module, which cert.ts imports only to renew.

import * as sshpk from 'sshpk';
import { hasControlOrLineBreak, showValue } from '../base/display.js';
import type { Hostname } from '../base/hostname.js';
import { parseCertificateText, sameKey, type ParsedCertificate } from './cert-check.js';
import {
  DEFAULT_MAX_VALIDITY_SECONDS,
  hasStarted,
  isoTime,
  policyProblem,
  writeCertificateFiles,
  type CertificateInfo,
} from './cert-file.js';
import { signCertificate, type SignedCertificate, type SignOptions } from './cert-sign.js';
import { AccessError, isAccessError } from './errors.js';
import type { HttpClient } from './http.js';
import { decodeClaims, emailLocalPart } from './jwt.js';
import { certFile, certKeyFile } from './paths.js';
import type { AppToken, Logger } from './types.js';

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
  host: Hostname,
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
      host,
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
  const email = decodeClaims(token).email;
  if (email !== undefined && !parsed.info.principals.includes(emailLocalPart(email))) {
    log?.info(
      `The certificate for ${host} is for ${parsed.info.principals.join(', ')}, not ${emailLocalPart(email)} (the local part of ${email}): Access maps this login to that account`,
    );
  }

  await writeCertificateFiles(dir, host, { publicKey: pubLine, privateKey: key.toString('pem'), certificate: signed.certificate });
  log?.debug(`New certificate for ${host}: ${parsed.info.principals.join(',')} valid until ${isoTime(parsed.info.validBefore)}`);
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
  const t = now.getTime() / 1000;
  if (info.validBefore <= info.validAfter) throw bad('its validity window is empty');
  if (info.validBefore <= t) throw bad(`it already expired at ${isoTime(info.validBefore)}`);
  if (!hasStarted(info.validAfter, t)) {
    throw bad(`it only becomes valid at ${isoTime(info.validAfter)} (check the system clock)`);
  }
}
