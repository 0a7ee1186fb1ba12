// One error type for the whole Access protocol layer, an AppError (src/base/app-error.ts):
// the CLI and the extension show the message (what happened) and render the next step
// (`action`, plus a `hint` without UI words) each in its own words, without parsing
// strings. Messages never carry secrets: callers pass host names and statuses, never tokens.

import { AppError, type AppErrorOptions } from '../base/app-error.js';
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

export type AccessErrorOptions = AppErrorOptions;

export class AccessError extends AppError<AccessErrorCode> {
  constructor(code: AccessErrorCode, message: string, options: AccessErrorOptions = {}) {
    super(code, message, options);
    this.name = 'AccessError';
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
  if (err instanceof FileError) return new AccessError('store', err.message, { action: err.action, hint: err.hint, cause: err });
  return err;
}
