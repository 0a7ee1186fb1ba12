// --logfile F and --log-directory D (cloudflared's logger flags): the helper's log
// appended to a file as well as stderr. Unlike cloudflared (0644 files in a 0744
// directory) the file is 0600 and a directory we create 0700: the log names hosts,
// users and paths. Every line goes through redact(), as on stderr.

import * as fs from 'node:fs';
import * as path from 'node:path';
import { AccessError, describeError } from '../access/errors.js';
import { redact } from '../access/redact.js';
import { UsageError } from './args.js';
import { createLogger, type CliLogger, type LogLevel } from './log.js';

/** The file name under --log-directory (cloudflared writes cloudflared.log there). */
export const LOG_FILE_NAME = 'access-ssh.log';
/** Past this size, --log-directory's file is moved to `access-ssh.log.1` when a helper starts. */
export const ROTATE_BYTES = 5 * 1024 * 1024;

export interface LogFile {
  readonly path: string;
  readonly logger: CliLogger;
  close(): void;
}

export interface LogFileFlags {
  readonly logfile?: string | undefined;
  readonly logDirectory?: string | undefined;
}

/** The file the flags name, or undefined when neither is given. */
export function logFilePath(flags: LogFileFlags, command?: string): string | undefined {
  const file = flags.logfile?.trim();
  const dir = flags.logDirectory?.trim();
  if (file !== undefined && dir !== undefined) {
    throw new UsageError('--logfile and --log-directory do not go together (cloudflared lets --logfile win); give one.', command);
  }
  if (file === '') throw new UsageError('--logfile is empty.', command);
  if (dir === '') throw new UsageError('--log-directory is empty.', command);
  if (file !== undefined) return path.resolve(file);
  if (dir !== undefined) return path.join(path.resolve(dir), LOG_FILE_NAME);
  return undefined;
}

/**
 * Opens (creates 0600, appends) the log file the flags name. Throws
 * AccessError('config') when it cannot be opened.
 */
export function openLogFile(flags: LogFileFlags, level: LogLevel, command?: string): LogFile | undefined {
  const file = logFilePath(flags, command);
  if (file === undefined) return undefined;
  let fd: number;
  try {
    if (flags.logDirectory !== undefined) {
      fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
      rotate(file);
    }
    fd = fs.openSync(file, fs.constants.O_WRONLY | fs.constants.O_APPEND | fs.constants.O_CREAT, 0o600);
  } catch (err) {
    throw new AccessError('config', `Cannot open the log file ${file}: ${describeError(err)}`, {
      hint: 'Check the path given to --logfile / --log-directory, or leave the flag out.',
      cause: err,
    });
  }
  try {
    // An existing log file that others can read is made private (only a regular file of ours).
    const st = fs.fstatSync(fd);
    if (st.isFile() && (st.mode & 0o077) !== 0 && (process.getuid === undefined || st.uid === process.getuid())) fs.fchmodSync(fd, 0o600);
  } catch {
    // not ours to change; the lines are redacted all the same
  }
  const pid = process.pid;
  let open = true;
  const logger = createLogger(level, (text) => {
    if (!open) return;
    // createLogger has redacted the message; the prefix is "access-ssh: [level: ]".
    const stamp = new Date().toISOString();
    const lines = redact(text)
      .replace(/\n$/, '')
      .split('\n')
      .map((l) => `${stamp} [${pid}] ${l}\n`)
      .join('');
    try {
      fs.writeSync(fd, lines);
    } catch {
      // a full disk does not end the connection
    }
  });
  return {
    path: file,
    logger,
    close() {
      if (!open) return;
      open = false;
      try {
        fs.closeSync(fd);
      } catch {
        // already closed
      }
    },
  };
}

/** One backup: access-ssh.log → access-ssh.log.1 once it passed ROTATE_BYTES. */
function rotate(file: string): void {
  try {
    if (fs.statSync(file).size < ROTATE_BYTES) return;
    fs.renameSync(file, `${file}.1`);
  } catch {
    // missing (fine), or another helper rotated it just now
  }
}
