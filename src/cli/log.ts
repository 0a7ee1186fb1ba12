// The helper's logger: stderr only (stdout of `ssh` carries the SSH stream),
// every line through redact().

import { logLines } from '../access/redact.js';
import type { Logger } from '../access/types.js';

export type LogLevel = 'debug' | 'info' | 'warn' | 'error';

const ORDER: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 };

/** cloudflared's levels (trace and fatal folded into ours); undefined when unknown. */
export function parseLogLevel(value: string): LogLevel | undefined {
  const v = value.trim().toLowerCase();
  switch (v) {
    case 'trace':
    case 'debug':
      return 'debug';
    case 'info':
      return 'info';
    case 'warn':
    case 'warning':
      return 'warn';
    case 'error':
    case 'fatal':
    case 'panic':
      return 'error';
    default:
      return undefined;
  }
}

export interface CliLogger extends Logger {
  readonly level: LogLevel;
  enabled(level: LogLevel): boolean;
}

export function createLogger(level: LogLevel, write: (text: string) => void): CliLogger {
  const emit =
    (at: LogLevel, prefix: string) =>
    (message: string): void => {
      if (ORDER[at] < ORDER[level]) return;
      // Secrets masked; every line through the one safe display (logLines).
      const text = logLines(message).join('\n  ');
      write(`access-ssh: ${prefix}${text}\n`);
    };
  return {
    level,
    enabled: (at) => ORDER[at] >= ORDER[level],
    trace: emit('debug', 'debug: '),
    debug: emit('debug', 'debug: '),
    info: emit('info', ''),
    warn: emit('warn', 'warning: '),
    error: emit('error', 'error: '),
  };
}

/** One logger that writes to both (each at its own level). */
export function teeLogger(a: CliLogger, b: CliLogger): CliLogger {
  const both =
    (m: 'trace' | 'debug' | 'info' | 'warn' | 'error') =>
    (message: string): void => {
      a[m](message);
      b[m](message);
    };
  const level = ORDER[a.level] <= ORDER[b.level] ? a.level : b.level;
  return {
    level,
    enabled: (at) => a.enabled(at) || b.enabled(at),
    trace: both('trace'),
    debug: both('debug'),
    info: both('info'),
    warn: both('warn'),
    error: both('error'),
  };
}
