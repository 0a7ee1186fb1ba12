// The full check of a host's key and certificate with sshpk: the certificate parses and
// certifies the public key of the private key file (`inspectCertificate`), and the
// parser `issueCertificate` checks a new certificate with. sshpk is loaded with this
// module: the fast path (cert-file.ts) never imports it; cert.ts loads it on demand.

import * as sshpk from 'sshpk';
import { isFileError } from '../base/file-error.js';
import type { Hostname } from '../base/hostname.js';
import { readPrivateFile } from '../base/private-files.js';
import { certificateInfo, parseOpenSshCertificate, type CertificateInfo, type OpenSshCertificate } from './cert-file.js';
import { AccessError, describeError, fromFileError, isAccessError } from './errors.js';
import { certFile, certKeyFile } from './paths.js';

export type CertificateState =
  | { readonly status: 'ok'; readonly cert: CertificateInfo }
  | { readonly status: 'missing'; readonly reason: string }
  | { readonly status: 'mismatch'; readonly reason: string }
  | { readonly status: 'invalid'; readonly reason: string };

/**
 * What is on disk for `host`: `ok` when the certificate parses and certifies
 * the public key of the private key file. Throws AccessError('cert-invalid')
 * for a private key that group or others can read (ssh would refuse it too).
 */
export async function inspectCertificate(dir: string, host: Hostname): Promise<CertificateState> {
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
      throw new AccessError('cert-invalid', e.message, { action: e.action, hint: e.hint, cause: err });
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
export async function readCertificate(dir: string, host: Hostname): Promise<CertificateInfo | undefined> {
  const state = await inspectCertificate(dir, host);
  return state.status === 'ok' ? state.cert : undefined;
}

export interface ParsedCertificate {
  readonly info: CertificateInfo;
  readonly subjectKey: sshpk.Key;
  readonly signedByOwnIssuer: boolean;
}

/** Parse one OpenSSH certificate line. Throws AccessError('cert-invalid'). */
export function parseCertificateText(text: Buffer | string, crtPath: string, keyPath: string): ParsedCertificate {
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

export function sameKey(a: sshpk.Key, b: sshpk.Key): boolean {
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
    if (isAccessError(e)) throw new AccessError('cert-invalid', e.message, { action: e.action, hint: e.hint, cause: err });
    throw e;
  }
}
