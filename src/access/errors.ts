// One error type for the whole Access protocol layer, so that the CLI and the
// extension can show a message (what happened) and a hint (what to do next)
// without parsing strings. Messages never carry secrets: callers pass host
// names and statuses, never tokens.

import { FileError } from '../base/file-error.js';

export type AccessErrorCode =
  | 'network'
  | 'timeout'
  | 'http'
  | 'metadata'
  | 'jwt'
  | 'transfer'
  | 'login-required'
  | 'login-cancelled'
  | 'token-refused'
  | 'cert-sign'
  | 'cert-invalid'
  | 'lock'
  | 'config'
  | 'carrier'
  | 'store'
  | 'proxy';

export interface AccessErrorOptions {
  readonly hint?: string | undefined;
  readonly cause?: unknown;
}

export class AccessError extends Error {
  readonly code: AccessErrorCode;
  readonly hint?: string;

  constructor(code: AccessErrorCode, message: string, options: AccessErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AccessError';
    this.code = code;
    if (options.hint !== undefined) this.hint = options.hint;
  }
}

export function isAccessError(value: unknown, code?: AccessErrorCode): value is AccessError {
  return value instanceof AccessError && (code === undefined || value.code === code);
}

/** A short description of any thrown value, for wrapping in an AccessError. */
export function describeError(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as NodeJS.ErrnoException).code;
    return code && !err.message.includes(code) ? `${code}: ${err.message}` : err.message;
  }
  return String(err);
}

/**
 * A failure of the file layer (src/base) as an AccessError('store') with the
 * same message and next step; anything else unchanged.
 */
export function fromFileError(err: unknown): unknown {
  if (err instanceof FileError)
    return new AccessError('store', err.message, { ...(err.hint !== undefined ? { hint: err.hint } : {}), cause: err });
  return err;
}
