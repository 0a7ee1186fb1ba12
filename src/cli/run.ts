// The helper without the process: parse, dispatch, turn errors into exit codes
// (0 ok, 1 runtime error, 2 usage error) and one or two lines on stderr.
// Tests call runCli with their own streams; main.ts wires the process.

import * as fs from 'node:fs';
import * as path from 'node:path';
import type { Readable, Writable } from 'node:stream';
import { displayText } from '../base/display.js';
import { isAppError } from '../base/app-error.js';
import { isAccessError } from '../access/errors.js';
import { cliNextStep } from './next-step.js';
import { redact } from '../access/redact.js';
import { helpText, parseArgs, stringFlag, UsageError, type ParsedCommand } from './args.js';
import { createLogger, parseLogLevel, teeLogger, type LogLevel } from './log.js';
import { openLogFile, type LogFile } from './log-file.js';
import type { Env, Runtime } from './runtime.js';
import { COMMANDS, PROGRAM } from './spec.js';

export interface CliIo {
  readonly env: Env;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly platform?: NodeJS.Platform;
  readonly self?: readonly string[];
  readonly openUrl?: (url: string) => Promise<void>;
  /** Aborted to stop a long-running command (the --url listener); default SIGINT/SIGTERM of this process. */
  readonly shutdown?: AbortSignal;
}

type CommandModule = { run(rt: Runtime, p: ParsedCommand): Promise<number> };

/** Each command is its own module, loaded only when it runs (start-up stays light). */
async function loadCommand(name: string): Promise<CommandModule> {
  switch (name) {
    case 'login':
      return await import('./commands/login.js');
    case 'token':
      return await import('./commands/token.js');
    case 'ssh':
      return await import('./commands/ssh.js');
    case 'ssh-gen':
      return await import('./commands/ssh-gen.js');
    case 'ssh-config':
      return await import('./commands/ssh-config.js');
    case 'config':
      return await import('./commands/config.js');
    case 'server-config':
      return await import('./commands/server-config.js');
    case 'doctor':
      return await import('./commands/doctor.js');
    default:
      throw new UsageError(`Unknown command "${name}".`);
  }
}

/** Commands whose stderr lands in the user's ssh session: quiet unless asked. */
const QUIET_BY_DEFAULT = new Set(['ssh', 'ssh-gen']);

/** `ssh --url` (or with the address as argument) is a listener in a terminal, not a ProxyCommand. */
function quietByDefault(p: ParsedCommand): boolean {
  if (p.command.name === 'ssh' && (stringFlag(p, 'url') !== undefined || p.positionals.length > 0)) return false;
  return QUIET_BY_DEFAULT.has(p.command.name);
}

export function version(): string {
  // dist/access-ssh.js → ../package.json; out/src/cli/run.js → ../../../package.json.
  for (const rel of ['../package.json', '../../../package.json', '../../package.json']) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(__dirname, rel), 'utf8')) as { name?: unknown; version?: unknown };
      if (pkg.name === 'access-ssh' && typeof pkg.version === 'string') return pkg.version;
    } catch {
      // try the next
    }
  }
  return 'dev';
}

/** The User-Agent of every request and websocket handshake: `access-ssh/<version>`. */
export function userAgent(): string {
  return `${PROGRAM}/${version()}`;
}

const UNIT_MS: Readonly<Record<string, number>> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * A duration as Go writes them (`30s`, `1m30s`, `1500ms`), or a bare number of
 * seconds; undefined when malformed or outside 1 s to 1 h.
 */
export function parseTimeout(text: string): number | undefined {
  const t = text.trim();
  let ms: number;
  if (/^[0-9]+(\.[0-9]+)?$/.test(t)) {
    ms = Number(t) * 1000;
  } else {
    if (!/^([0-9]+(\.[0-9]+)?(ms|s|m|h))+$/.test(t)) return undefined;
    ms = 0;
    for (const m of t.matchAll(/([0-9]+(?:\.[0-9]+)?)(ms|s|m|h)/g)) ms += Number(m[1]) * UNIT_MS[m[2]!]!;
  }
  ms = Math.round(ms);
  return ms >= 1000 && ms <= 3_600_000 ? ms : undefined;
}

/** A message line for the terminal: secrets masked, nothing that could move the cursor or forge a line. */
function line(text: string): string {
  return displayText(redact(text), 2000);
}

function usageFailure(io: CliIo, err: UsageError): number {
  const more = err.command ? `${PROGRAM} help ${err.command}` : `${PROGRAM} --help`;
  io.stderr.write(`${PROGRAM}: ${line(err.message)}\nRun "${more}" for usage.\n`);
  return 2;
}

export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  let level: LogLevel = 'info';
  let logFile: LogFile | undefined;
  try {
    const inv = parseArgs(argv, COMMANDS, io.env);
    if (inv.kind === 'version') {
      io.stdout.write(`${PROGRAM} version ${version()}\n`);
      return 0;
    }
    if (inv.kind === 'help') {
      io.stdout.write(helpText(PROGRAM, COMMANDS, inv.command));
      return 0;
    }
    const levelFlag = stringFlag(inv, 'loglevel');
    let fileLevel: LogLevel = 'info';
    if (levelFlag !== undefined) {
      const parsed = parseLogLevel(levelFlag);
      if (!parsed) throw new UsageError(`Unknown log level "${levelFlag}" (debug, info, warn, error).`, inv.command.name);
      level = parsed;
      fileLevel = parsed;
    } else if (quietByDefault(inv)) {
      level = 'warn';
    }
    const timeoutFlag = stringFlag(inv, 'timeout');
    let timeoutMs: number | undefined;
    if (timeoutFlag !== undefined) {
      timeoutMs = parseTimeout(timeoutFlag);
      if (timeoutMs === undefined) {
        throw new UsageError(
          `--timeout (or ACCESS_SSH_TIMEOUT) must be a duration from 1s to 1h such as 30s, 2m or 1500ms, not "${timeoutFlag}".`,
          inv.command.name,
        );
      }
    }
    logFile = openLogFile(
      { logfile: stringFlag(inv, 'logfile'), logDirectory: stringFlag(inv, 'log-directory') },
      fileLevel,
      inv.command.name,
    );
    const stderrLog = createLogger(level, (text) => io.stderr.write(text));
    const rt: Runtime = {
      env: io.env,
      stdin: io.stdin,
      stdout: io.stdout,
      stderr: io.stderr,
      log: logFile ? teeLogger(stderrLog, logFile.logger) : stderrLog,
      platform: io.platform ?? process.platform,
      self: io.self ?? [PROGRAM],
      ...(io.openUrl ? { openUrl: io.openUrl } : {}),
      ...(timeoutMs !== undefined ? { timeoutMs } : {}),
      userAgent: userAgent(),
      ...(io.shutdown ? { shutdown: io.shutdown } : {}),
    };
    logFile?.logger.debug(`${PROGRAM} ${version()} ${inv.command.name} (pid ${process.pid})`);
    const mod = await loadCommand(inv.command.name);
    return await mod.run(rt, inv);
  } catch (err) {
    if (err instanceof UsageError) {
      logFile?.logger.error(`usage: ${err.message}`);
      return usageFailure(io, err);
    }
    logFile?.logger.error(err instanceof Error ? err.message : String(err));
    if (isAccessError(err)) {
      const next = cliNextStep(err, io);
      io.stderr.write(`${PROGRAM}: ${line(err.message)}\n${next ? `  ${line(next)}\n` : ''}`);
    } else if (isAppError(err)) {
      const next = cliNextStep(err, io);
      io.stderr.write(`${PROGRAM}: error: ${line(err.message)}\n${next ? `  ${line(next)}\n` : ''}`);
    } else {
      const message = err instanceof Error ? err.message : String(err);
      io.stderr.write(`${PROGRAM}: error: ${line(message)}\n`);
    }
    if (level === 'debug' && err instanceof Error && err.stack) io.stderr.write(`${redact(err.stack)}\n`);
    return 1;
  } finally {
    logFile?.close();
  }
}
