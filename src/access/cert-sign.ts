// The cert_sign contract (cloudflared's sshgen.go): `POST <iss>/cdn-cgi/access/cert_sign`
// with the public key and the app token; a certificate line back, or an error we name.
// Loaded only when a certificate is issued (cert-issue.ts, which cert.ts loads on demand).

import { displayText, showValue } from '../base/display.js';
import { AccessError } from './errors.js';
import { requestRetryOnce, type HttpClient } from './http.js';
import { decodeClaims } from './jwt.js';
import { redact } from './redact.js';
import type { AppToken, Logger } from './types.js';

export const CERT_SIGN_PATH = '/cdn-cgi/access/cert_sign';

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
  /** The host the certificate is for (a refused token's sign-in names it). */
  readonly host?: string;
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
      action: 'sign-in',
      ...(opts.host !== undefined ? { host: opts.host } : {}),
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
