// The error of the file layer (src/base): what happened to which file, and the
// next step. src/access turns it into an AccessError ('store'), src/ssh into its
// own messages; the CLI and the extension render them as any AppError.

import { AppError, type NextStep } from './app-error.js';

export type FileErrorCode =
  | 'unsafe-dir' // a directory others may write to, or that is not ours
  | 'unsafe-file' // a symlink, not a regular file, another owner, too open
  | 'read-only' // the user made the file read-only: we do not replace it
  | 'io'; // the system refused (ENOSPC, EACCES, EISDIR, ...): the path is named

export class FileError extends AppError<FileErrorCode> {
  override readonly name = 'FileError';
  constructor(
    code: FileErrorCode,
    /** The file or directory concerned. */
    readonly path: string,
    message: string,
    /** More about the next step (the command that fixes it, the file to move). */
    hint?: string,
    options?: { cause?: unknown; action?: NextStep },
  ) {
    super(code, message, { hint, action: options?.action ?? actionOf(code), cause: options?.cause });
  }
}

function actionOf(code: FileErrorCode): NextStep | undefined {
  return code === 'io' ? undefined : 'fix-permissions';
}

export function isFileError(value: unknown, code?: FileErrorCode): value is FileError {
  return value instanceof FileError && (code === undefined || value.code === code);
}

/** `ENOSPC: no space left on device` without Node's "open '/path'" tail, for a message that names the path itself. */
export function errnoText(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  if (e && typeof e === 'object' && typeof e.code === 'string') {
    const plain = String(e.message ?? '')
      .replace(/^[A-Z0-9_]+:\s*/, '')
      .replace(/,\s*\w+(?:\s+'[^']*'(?:\s*->\s*'[^']*')?)?$/, '');
    return `${e.code}: ${plain || e.code}`;
  }
  return err instanceof Error ? err.message : String(err);
}

/** The next step of an I/O failure, when there is an obvious one. */
export function errnoAction(err: unknown): NextStep | undefined {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return 'free-space';
    case 'EACCES':
    case 'EPERM':
    case 'EROFS':
    case 'EISDIR':
    case 'ENOTDIR':
      return 'fix-permissions';
    default:
      return undefined;
  }
}

/** More about that next step, naming the path. */
export function errnoHint(err: unknown, path: string): string | undefined {
  switch ((err as NodeJS.ErrnoException | undefined)?.code) {
    case 'ENOSPC':
    case 'EDQUOT':
      return `Free some space on the disk that holds ${path}, then try again.`;
    case 'EACCES':
    case 'EPERM':
      return `Check the owner and permissions of ${path} and its folder.`;
    case 'EROFS':
      return `${path} is on a read-only file system.`;
    case 'EISDIR':
      return `${path} is a folder; move it away (a file is expected there).`;
    case 'ENOTDIR':
      return `A part of ${path} is a file where a folder is expected.`;
    default:
      return undefined;
  }
}

/** An I/O failure on `path` as a FileError that names the path and says what to do. */
export function ioError(action: string, path: string, err: unknown): FileError {
  if (err instanceof FileError) return err;
  const step = errnoAction(err);
  return new FileError('io', path, `Cannot ${action} ${path}: ${errnoText(err)}`, errnoHint(err, path), {
    cause: err,
    ...(step !== undefined ? { action: step } : {}),
  });
}
