// The cached certificate as the fast path reads it, without sshpk: a small
// OpenSSH certificate reader (PROTOCOL.certkeys: type, validity window,
// principals, the certified key and the CA key) and the check that the
// certificate certifies the key of `<host>-cf_key.pub`, the public half we
// write beside the private key. `ssh-gen` runs before every ssh connection and
// the extension reads every host's certificate when its view loads, so this
// path reads three small files (one stat) and loads nothing else.
//
// The certificate's signature is not checked here (ssh's server does that); it
// was verified with sshpk, against our new key, before the files were written
// (cert.ts, issueCertificate). Anything this reader cannot vouch for (no .pub,
// an unknown key type) is "not usable" and the caller takes the slow path.

import { createHash } from 'node:crypto';
import type { Stats } from 'node:fs';
import { rm } from 'node:fs/promises';
import { showValue } from '../base/display.js';
import type { Hostname } from '../base/hostname.js';
import { writeFilesAtomically } from '../base/atomic-write.js';
import { checkPrivateDir, readPrivateFile, statPrivateFile } from '../base/private-files.js';
import { AccessError, fromFileError } from './errors.js';
import { certFile, certKeyFile, certPubFile } from './paths.js';

/** How far in the future a certificate's `valid_after` may be (clock skew between us and the CA). */
export const CLOCK_SKEW_SECONDS = 120;

/**
 * The one clock-skew rule: a certificate whose window starts no later than
 * CLOCK_SKEW_SECONDS from `now` counts as started (the CA's clock may run ahead of
 * ours). Used by the cache check, the check of a new certificate and the editor's rows.
 */
export function hasStarted(validAfter: number, nowSeconds: number): boolean {
  return validAfter <= nowSeconds + CLOCK_SKEW_SECONDS;
}

/** A certificate time (seconds since the epoch) as ISO 8601, for messages: the edge where the unit changes. */
export function isoTime(seconds: number): string {
  return new Date(seconds * 1000).toISOString();
}
/** Default renewal margin: a certificate valid for less than this is renewed. */
export const DEFAULT_RENEW_MARGIN_SECONDS = 60;
/**
 * The longest validity window we accept (valid_before - valid_after), by default.
 * Access issues minutes (3 in cloudflared's sample); a certificate valid for
 * days or "forever" would never be renewed, so Access would never be asked again
 * for that host. `ACCESS_SSH_MAX_CERT_HOURS` changes it.
 */
export const DEFAULT_MAX_VALIDITY_SECONDS = 24 * 3600;

export interface CertificateInfo {
  /** The `-cert.pub` file. */
  readonly path: string;
  /** The private key file the certificate belongs to (`<host>-cf_key`). */
  readonly keyPath: string;
  readonly keyId: string;
  /** Decimal. */
  readonly serial: string;
  /** `user` or `host` certificate. */
  readonly type: 'user' | 'host';
  /** The principal list as written in the certificate (empty when it has none). */
  readonly principals: string[];
  /**
   * Seconds since the epoch, as in the certificate (the one unit of certificate times,
   * docs/ARCHITECTURE.md); at most MAX_TIME_SECONDS ("forever" is that).
   */
  readonly validAfter: number;
  readonly validBefore: number;
  /** `SHA256:…` of the certified (subject) key. */
  readonly keyFingerprint: string;
  /** `SHA256:…` of the signing CA key. */
  readonly caFingerprint: string;
  /** Extension names (`permit-port-forwarding`, `permit-pty`, …), as listed. */
  readonly extensions: readonly string[];
  /** Critical option names (`force-command`, `source-address`, …). */
  readonly criticalOptions: readonly string[];
}

/** A parsed certificate line: the fields and the wire blobs of the two keys. */
export interface OpenSshCertificate {
  readonly serial: bigint;
  readonly type: 'user' | 'host';
  readonly keyId: string;
  readonly principals: string[];
  /** Seconds since the epoch (capped at MAX_TIME_SECONDS). */
  readonly validAfter: number;
  readonly validBefore: number;
  /** The certified key in SSH wire format (what a `.pub` line's base64 decodes to). */
  readonly subjectKey: Buffer;
  /** The CA key in SSH wire format. */
  readonly caKey: Buffer;
  /** Extension names, in the certificate's order. */
  readonly extensions: string[];
  /** Critical option names, in the certificate's order. */
  readonly criticalOptions: string[];
}

/** Certificate type name → plain key type and the number of key fields in the certificate. */
const KEY_TYPES: Readonly<Record<string, readonly [string, number]>> = {
  'ecdsa-sha2-nistp256-cert-v01@openssh.com': ['ecdsa-sha2-nistp256', 2],
  'ecdsa-sha2-nistp384-cert-v01@openssh.com': ['ecdsa-sha2-nistp384', 2],
  'ecdsa-sha2-nistp521-cert-v01@openssh.com': ['ecdsa-sha2-nistp521', 2],
  'ssh-ed25519-cert-v01@openssh.com': ['ssh-ed25519', 1],
  'ssh-rsa-cert-v01@openssh.com': ['ssh-rsa', 2],
  'ssh-dss-cert-v01@openssh.com': ['ssh-dss', 4],
  'sk-ecdsa-sha2-nistp256-cert-v01@openssh.com': ['sk-ecdsa-sha2-nistp256@openssh.com', 3],
  'sk-ssh-ed25519-cert-v01@openssh.com': ['sk-ssh-ed25519@openssh.com', 2],
};

/** The latest time a Date can show (8.64e15 ms): certificate times are capped there ("forever"). */
export const MAX_TIME_SECONDS = 8.64e12;

function cappedSeconds(seconds: bigint): number {
  return seconds > BigInt(MAX_TIME_SECONDS) ? MAX_TIME_SECONDS : Number(seconds);
}

function sshString(s: string): Buffer {
  const b = Buffer.from(s, 'utf8');
  const len = Buffer.alloc(4);
  len.writeUInt32BE(b.length);
  return Buffer.concat([len, b]);
}

/**
 * Parse one OpenSSH certificate line (`<type>-cert-v01@openssh.com <base64> [comment]`).
 * An empty principal list stays empty and "forever" is the largest Date (sshpk
 * reports `*` and an invalid date). Throws AccessError('cert-invalid').
 */
export function parseOpenSshCertificate(line: string): OpenSshCertificate {
  const bad = (why: string): AccessError => new AccessError('cert-invalid', `not an OpenSSH certificate: ${why}`);
  const fields = line.trim().split(/\s+/);
  const known = KEY_TYPES[fields[0] ?? ''];
  if (!known) throw bad(`unknown type ${showValue(fields[0] ?? '', 60)}`);
  const [plainType, keyParts] = known;
  const blob = Buffer.from(fields[1] ?? '', 'base64');
  let off = 0;
  const need = (n: number): void => {
    if (off + n > blob.length) throw bad('truncated');
  };
  const u32 = (): number => {
    need(4);
    const v = blob.readUInt32BE(off);
    off += 4;
    return v;
  };
  const u64 = (): bigint => {
    need(8);
    const v = blob.readBigUInt64BE(off);
    off += 8;
    return v;
  };
  const str = (): Buffer => {
    const n = u32();
    need(n);
    const v = blob.subarray(off, off + n);
    off += n;
    return v;
  };
  if (str().toString('latin1') !== fields[0]) throw bad('the type inside differs from the type outside');
  str(); // nonce
  const keyStart = off;
  for (let i = 0; i < keyParts; i++) str();
  const subjectKey = Buffer.concat([sshString(plainType), blob.subarray(keyStart, off)]);
  const serial = u64();
  const typeNum = u32();
  if (typeNum !== 1 && typeNum !== 2) throw bad(`unknown certificate type ${typeNum}`);
  const keyId = str().toString('utf8');
  const pbuf = str();
  const principals = stringList(pbuf, 'principal list', bad);
  const validAfter = cappedSeconds(u64());
  const validBefore = cappedSeconds(u64());
  // Critical options and extensions: (name, data) pairs; only the names are kept.
  const criticalOptions = stringList(str(), 'critical options', bad).filter((_, i) => i % 2 === 0);
  const extensions = stringList(str(), 'extensions', bad).filter((_, i) => i % 2 === 0);
  str(); // reserved
  const caKey = Buffer.from(str());
  if (caKey.length === 0) throw bad('no signing key');
  str(); // signature
  return {
    serial,
    type: typeNum === 1 ? 'user' : 'host',
    keyId,
    principals,
    validAfter,
    validBefore,
    subjectKey,
    caKey,
    extensions,
    criticalOptions,
  };
}

/** A buffer of consecutive SSH strings, decoded as UTF-8. */
function stringList(buf: Buffer, what: string, bad: (why: string) => AccessError): string[] {
  const out: string[] = [];
  for (let p = 0; p < buf.length;) {
    if (p + 4 > buf.length) throw bad(`truncated ${what}`);
    const n = buf.readUInt32BE(p);
    if (p + 4 + n > buf.length) throw bad(`truncated ${what}`);
    out.push(buf.subarray(p + 4, p + 4 + n).toString('utf8'));
    p += 4 + n;
  }
  return out;
}

/** `SHA256:<base64, unpadded>` of a key in SSH wire format, as ssh-keygen -l prints it. */
export function keyFingerprint(wireKey: Buffer): string {
  return `SHA256:${createHash('sha256').update(wireKey).digest('base64').replace(/=+$/, '')}`;
}

/** The certificate's fields as CertificateInfo, for the files `crtPath` / `keyPath`. */
export function certificateInfo(cert: OpenSshCertificate, crtPath: string, keyPath: string): CertificateInfo {
  return {
    path: crtPath,
    keyPath,
    keyId: cert.keyId,
    serial: cert.serial.toString(),
    type: cert.type,
    principals: cert.principals,
    validAfter: cert.validAfter,
    validBefore: cert.validBefore,
    keyFingerprint: keyFingerprint(cert.subjectKey),
    caFingerprint: keyFingerprint(cert.caKey),
    extensions: cert.extensions,
    criticalOptions: cert.criticalOptions,
  };
}

/**
 * Refuse a private key file that group or others may read, or that belongs to
 * another user (ssh refuses both). Throws AccessError('cert-invalid').
 */
export function checkPrivateKeyFile(keyPath: string, st: Stats): void {
  if (process.platform === 'win32') return;
  if ((st.mode & 0o077) !== 0) {
    throw new AccessError(
      'cert-invalid',
      `Permissions ${(st.mode & 0o777).toString(8).padStart(4, '0')} for ${keyPath} are too open: ssh refuses a private key others can read`,
      {
        hint: `Run: chmod 600 "${keyPath}"`,
      },
    );
  }
  const uid = process.getuid?.();
  if (uid !== undefined && st.uid !== uid) {
    throw new AccessError('cert-invalid', `${keyPath} belongs to another user (uid ${st.uid})`, {
      hint: `Remove it or give it to your user, then run: chmod 600 "${keyPath}"`,
    });
  }
}

/**
 * The cached certificate for `host` when the private key file is there (and
 * private), and the certificate parses and certifies the key of the `.pub`
 * file beside it; else undefined with the reason. Throws AccessError('cert-invalid')
 * for a private key that others can read.
 */
export async function readCachedCertificate(dir: string, host: Hostname): Promise<{ cert?: CertificateInfo; reason?: string }> {
  const keyPath = certKeyFile(dir, host);
  const crtPath = certFile(dir, host);
  // Through the private file layer: no symlink followed, regular files of ours,
  // the key 0600 (a key others can read, a link, a file of another user: refused).
  const pubPath = certPubFile(dir, host);
  let found: [Stats | undefined, Buffer | undefined, Buffer | undefined];
  try {
    found = await Promise.all([
      statPrivateFile(keyPath, { sensitivity: 'secret' }),
      readPrivateFile(crtPath, { sensitivity: 'public', maxBytes: 64 * 1024 }),
      readPrivateFile(pubPath, { sensitivity: 'public', maxBytes: 64 * 1024 }),
    ]);
  } catch (err) {
    const e = fromFileError(err);
    if (e instanceof AccessError) throw new AccessError('cert-invalid', e.message, { action: e.action, hint: e.hint, cause: err });
    throw e;
  }
  const [st, certBuf, pubBuf] = found;
  const missing = !st ? keyPath : !certBuf ? crtPath : !pubBuf ? pubPath : undefined;
  if (missing !== undefined || !st || !certBuf || !pubBuf) return { reason: `${missing ?? crtPath} does not exist` };
  checkPrivateKeyFile(keyPath, st);
  const certText = certBuf.toString('utf8');
  const pubText = pubBuf.toString('utf8');
  let cert: OpenSshCertificate;
  try {
    cert = parseOpenSshCertificate(certText);
  } catch (err) {
    return { reason: `${crtPath}: ${(err as Error).message}` };
  }
  const pubBlob = Buffer.from(pubText.trim().split(/\s+/)[1] ?? '', 'base64');
  if (!pubBlob.equals(cert.subjectKey)) return { reason: `${crtPath} certifies another key than ${keyPath}.pub` };
  return { cert: certificateInfo(cert, crtPath, keyPath) };
}

/**
 * What we would not issue ourselves, whether it comes from cert_sign (refused,
 * nothing written) or is found cached (not used, renewed): critical options
 * (Access sets none; `force-command` or `source-address` would change what the
 * session is), or a validity window longer than `maxValiditySeconds` (a
 * certificate for years or "forever" would never meet the renewal rule).
 */
export function policyProblem(
  cert: Pick<CertificateInfo, 'criticalOptions' | 'validAfter' | 'validBefore'>,
  maxValiditySeconds: number = DEFAULT_MAX_VALIDITY_SECONDS,
): string | undefined {
  if (cert.criticalOptions.length > 0) {
    return `it carries critical options (${cert.criticalOptions
      .slice(0, 4)
      .map((o) => showValue(o, 40))
      .join(', ')}) that Access does not set`;
  }
  const window = cert.validBefore - cert.validAfter;
  if (window > maxValiditySeconds) {
    const forever = cert.validBefore >= MAX_TIME_SECONDS - 1;
    return `it is valid for ${forever ? 'ever' : formatSpan(window)}, more than the ${formatSpan(maxValiditySeconds)} accepted (ACCESS_SSH_MAX_CERT_HOURS)`;
  }
  return undefined;
}

function formatSpan(seconds: number): string {
  if (seconds >= 2 * 86400) return `${Math.round(seconds / 86400)} days`;
  if (seconds >= 3600) return `${Math.round(seconds / 360) / 10} h`;
  return `${Math.round(seconds)} s`;
}

/**
 * Why the certificate is not usable for a connection at `now` with `marginSeconds`
 * of validity left, or undefined when it is. A certificate that fails the policy
 * (policyProblem) is never usable: it is renewed like an expired one.
 */
export function unusableReason(
  cert: CertificateInfo,
  now: Date,
  marginSeconds: number,
  maxValiditySeconds: number = DEFAULT_MAX_VALIDITY_SECONDS,
): string | undefined {
  if (cert.type !== 'user') return 'it is not a user certificate';
  if (cert.principals.length === 0) return 'it names no principal';
  const policy = policyProblem(cert, maxValiditySeconds);
  if (policy !== undefined) return policy;
  const t = now.getTime() / 1000;
  if (!hasStarted(cert.validAfter, t)) return `it is not valid before ${isoTime(cert.validAfter)}`;
  if (cert.validBefore <= t) return `it expired at ${isoTime(cert.validBefore)}`;
  if (cert.validBefore <= t + marginSeconds) {
    return `it expires at ${isoTime(cert.validBefore)}, within the ${marginSeconds}s renewal margin`;
  }
  return undefined;
}

export interface FreshnessOptions {
  readonly now: Date;
  /** Renew when the certificate is valid for less than this. */
  readonly marginSeconds: number;
  /** The longest validity window accepted; default DEFAULT_MAX_VALIDITY_SECONDS (24 h). */
  readonly maxValiditySeconds?: number;
}

/**
 * The fast path of every connection, in one place (`ensureCertificate` and the
 * helper's `ssh-gen` before it loads anything else): the cached certificate when it
 * is usable at `now` with `marginSeconds` left (readCachedCertificate, then
 * unusableReason), else why not. Three small files, no sshpk, no network.
 */
export async function usableCachedCertificate(
  dir: string,
  host: Hostname,
  opts: FreshnessOptions,
): Promise<{ readonly cert: CertificateInfo } | { readonly cert?: undefined; readonly reason: string }> {
  const cached = await readCachedCertificate(dir, host);
  if (!cached.cert) return { reason: cached.reason ?? 'unknown' };
  const why = unusableReason(cached.cert, opts.now, opts.marginSeconds, opts.maxValiditySeconds);
  return why === undefined ? { cert: cached.cert } : { reason: why };
}

/**
 * The one write of a host's key files (`<host>-cf_key` 0600, `.pub` 0644, `-cert.pub`
 * 0600): everything is staged (fsynced, unpredictable temp names, no symlink followed)
 * before the first rename, so that the key and its certificate replace the old pair
 * within microseconds of each other; a failure (ENOSPC) leaves no temp file, the new
 * private key's included, and names the file (AccessError('store')).
 */
export async function writeCertificateFiles(
  dir: string,
  host: Hostname,
  files: { readonly publicKey: string; readonly privateKey: string; readonly certificate: string },
): Promise<void> {
  try {
    await checkPrivateDir(dir);
    await writeFilesAtomically([
      { target: certPubFile(dir, host), data: files.publicKey + '\n', mode: 0o644 },
      { target: certKeyFile(dir, host), data: files.privateKey, mode: 0o600 },
      { target: certFile(dir, host), data: files.certificate + '\n', mode: 0o600 },
    ]);
  } catch (err) {
    throw fromFileError(err);
  }
}

/**
 * Removes a host's key, public key and certificate (sign-out, Remove Host): what is not
 * there is not an error. Resolves with how many files were removed.
 */
export async function removeCertificateFiles(dir: string, host: Hostname): Promise<number> {
  let removed = 0;
  for (const file of [certFile(dir, host), certKeyFile(dir, host), certPubFile(dir, host)]) {
    try {
      await rm(file);
      removed++;
    } catch {
      /* not there */
    }
  }
  return removed;
}
