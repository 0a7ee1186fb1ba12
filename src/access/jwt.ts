// Unverified reading of Access JWTs. The client never verifies app or org
// tokens (the edge does); it only needs their expiry, audience, issuer and
// e-mail to decide whether a stored token is still worth sending.

import type { AccessClaims, AppToken, OrgToken } from './types.js';
import { AccessError } from './errors.js';

/**
 * The payload of a compact JWS, unverified, with jose's decodeJwt rules and
 * messages. Here rather than jose's because the extension and the helper read
 * token files at start-up, and jose is only loaded for verifying metadata.
 */
function decodePayload(token: string): Record<string, unknown> {
  const parts = token.split('.');
  if (parts.length === 5) throw new Error('Only JWTs using Compact JWS serialization can be decoded');
  if (parts.length !== 3) throw new Error('Invalid JWT');
  const payload = parts[1] ?? '';
  if (payload === '') throw new Error('JWTs must contain a payload');
  if (!/^[A-Za-z0-9_-]+$/.test(payload)) throw new Error('Failed to base64url decode the payload');
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
  } catch {
    throw new Error('Failed to parse the decoded payload as JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error('Invalid JWT Claims Set');
  return value as Record<string, unknown>;
}

/**
 * Decode a JWT's claims without verifying its signature. `aud` may be a string
 * or an array of strings (app tokens use both) and is returned as an array.
 * Throws AccessError('jwt') for anything that is not a usable Access JWT.
 */
export function decodeClaims(token: string): AccessClaims {
  let payload: Record<string, unknown>;
  try {
    payload = decodePayload(token.trim());
  } catch (err) {
    // The message describes the structure, never the token itself.
    throw new AccessError('jwt', `Not a valid JWT: ${err instanceof Error ? err.message : 'decode failed'}`);
  }
  const aud = normaliseAud(payload['aud']);
  const exp = payload['exp'];
  if (typeof exp !== 'number' || !Number.isFinite(exp)) throw new AccessError('jwt', 'JWT has no numeric "exp" claim');
  const iss = payload['iss'];
  if (typeof iss !== 'string' || iss === '') throw new AccessError('jwt', 'JWT has no "iss" claim');

  const claims: { -readonly [K in keyof AccessClaims]: AccessClaims[K] } = { aud, exp, iss };
  const email = optionalString(payload, 'email');
  if (email !== undefined) claims.email = email;
  const sub = optionalString(payload, 'sub');
  if (sub !== undefined) claims.sub = sub;
  const type = optionalString(payload, 'type');
  if (type !== undefined) claims.type = type;
  const iat = optionalNumber(payload, 'iat');
  if (iat !== undefined) claims.iat = iat;
  const nbf = optionalNumber(payload, 'nbf');
  if (nbf !== undefined) claims.nbf = nbf;
  return claims;
}

function normaliseAud(aud: unknown): string[] {
  if (typeof aud === 'string') return [aud];
  if (Array.isArray(aud)) {
    if (!aud.every((a): a is string => typeof a === 'string')) {
      throw new AccessError('jwt', 'JWT "aud" array contains non-string elements');
    }
    return [...aud];
  }
  throw new AccessError('jwt', 'JWT "aud" is not a string or an array of strings');
}

function optionalString(payload: Record<string, unknown>, name: string): string | undefined {
  const v = payload[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'string') throw new AccessError('jwt', `JWT "${name}" claim is not a string`);
  return v;
}

function optionalNumber(payload: Record<string, unknown>, name: string): number | undefined {
  const v = payload[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== 'number' || !Number.isFinite(v)) throw new AccessError('jwt', `JWT "${name}" claim is not a number`);
  return v;
}

/** cloudflared's rule: expired once now is past `exp` (a token is good through its exp second). */
export function isExpired(claims: Pick<AccessClaims, 'exp'>, nowSeconds: number = Date.now() / 1000): boolean {
  return Math.floor(nowSeconds) > claims.exp;
}

/** `jdoe@example.com` → `jdoe`: the Unix user name Access certificates are issued for. */
export function emailLocalPart(email: string): string {
  const at = email.lastIndexOf('@');
  return at < 0 ? email : email.slice(0, at);
}

/**
 * A token's text as an `AppToken`, with its claims: the one maker of the brand (no
 * `as AppToken` elsewhere). The text must decode as an Access JWT (decodeClaims);
 * throws AccessError('jwt') otherwise. Unverified, as every client-side read.
 */
export function parseAppToken(text: string): { readonly token: AppToken; readonly claims: AccessClaims } {
  const token = text.trim();
  return { token: token as AppToken, claims: decodeClaims(token) };
}

/** The same for an organisation token: the one maker of `OrgToken`. */
export function parseOrgToken(text: string): { readonly token: OrgToken; readonly claims: AccessClaims } {
  const token = text.trim();
  return { token: token as OrgToken, claims: decodeClaims(token) };
}
