// Value types of the Access protocol. Brands keep one kind of secret from being
// passed where another is expected: an app token is not any string.

import type { AppHostname } from '../base/hostname.js';

/** A Cloudflare Access application token (a JWT; `CF_Authorization` for one app). */
export type AppToken = string & { readonly __brand: 'AppToken' };
/** A Cloudflare Access organisation token (a JWT for the whole team's auth domain). */
export type OrgToken = string & { readonly __brand: 'OrgToken' };

/** A service token: `Cf-Access-Client-Id` / `Cf-Access-Client-Secret`. */
export interface ServiceToken {
  readonly clientId: string;
  readonly clientSecret: string;
}

/** What app discovery learns from the signed `cf-access-metadata` JWT. */
export interface AppInfo {
  /** The team domain, e.g. `example.cloudflareaccess.com`. */
  readonly authDomain: string;
  /** The application audience tag. */
  readonly appAud: string;
  /** The application host name tokens are stored under (may differ from the host asked for; may be a wildcard or have a path). */
  readonly appHostname: AppHostname;
}

/** The claims of an Access JWT we read; `aud` is normalised to an array. */
export interface AccessClaims {
  readonly aud: readonly string[];
  readonly email?: string;
  readonly exp: number;
  readonly iat?: number;
  readonly nbf?: number;
  readonly iss: string;
  readonly sub?: string;
  readonly type?: string;
}

/** Levelled logging; sinks redact secrets (see src/access/redact.ts). */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export const silentLogger: Logger = {
  trace() {},
  debug() {},
  info() {},
  warn() {},
  error() {},
};

/** Every Access team's auth domain ends with this. */
export const ACCESS_DOMAIN_SUFFIX = '.cloudflareaccess.com';
