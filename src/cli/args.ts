// Command-line parsing for the access-ssh helper, with no dependencies so that
// it costs nothing at start-up. The subcommands and flags are those of
// `cloudflared access` (urfave/cli style: `--flag value`, `--flag=value`,
// `-flag value`, flags before or after positionals), so that `access-ssh` can
// replace `cloudflared` in an ssh_config; an optional leading `access` (or
// `forward`) word is accepted so that `cloudflared access ssh …` becomes
// `access-ssh access ssh …` by renaming the binary alone.

import { AppError } from '../base/app-error.js';

/** A command line the helper refuses (exit 2): an AppError whose next step is the usage. */
export class UsageError extends AppError<'usage'> {
  /** The command whose usage to point at, if any. */
  readonly command?: string;
  constructor(message: string, command?: string) {
    super('usage', message, { action: 'fix-input' });
    this.name = 'UsageError';
    if (command !== undefined) this.command = command;
  }
}

export interface FlagSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly type: 'string' | 'boolean';
  /** Environment variables read when the flag is not given (first set wins). */
  readonly env?: readonly string[];
  readonly description: string;
  /** Accepted for compatibility, not shown in help. */
  readonly hidden?: boolean;
  /** Shown in help as `--name <valueName>`. */
  readonly valueName?: string;
  /** May be given more than once (a string flag whose value is the list, in order). */
  readonly repeatable?: boolean;
  /** A cloudflared flag we do not support: giving it is a usage error with this text (why, and what to use instead). */
  readonly unsupported?: string;
}

export interface CommandSpec {
  readonly name: string;
  readonly aliases?: readonly string[];
  readonly summary: string;
  /** `login <url>` etc., without the program name. */
  readonly usage: string;
  readonly description?: string;
  readonly flags: readonly FlagSpec[];
  /** How many positional arguments are allowed. */
  readonly maxPositionals: number;
  /** A cloudflared command we do not have: running it is a usage error with this text (what to use instead). */
  readonly unsupported?: string;
}

export type FlagValue = string | boolean | readonly string[];

/** Array.isArray narrows a readonly array to any[]; this keeps the element type. */
function isList(v: FlagValue | undefined): v is readonly string[] {
  return v !== undefined && typeof v !== 'string' && typeof v !== 'boolean';
}

export interface ParsedCommand {
  readonly kind: 'run';
  readonly command: CommandSpec;
  /** By canonical flag name; only flags given (on the command line or by env). */
  readonly flags: ReadonlyMap<string, FlagValue>;
  readonly positionals: readonly string[];
}

export type Invocation = ParsedCommand | { readonly kind: 'help'; readonly command?: CommandSpec } | { readonly kind: 'version' };

/**
 * Flags every command accepts, after the command or (as cloudflared's global
 * flags) before it: `access-ssh --loglevel debug access ssh --hostname H`.
 */
export const GLOBAL_FLAGS: readonly FlagSpec[] = [
  {
    name: 'loglevel',
    aliases: ['log-level-ssh', 'log-level'],
    type: 'string',
    env: ['ACCESS_SSH_LOGLEVEL'],
    valueName: 'level',
    description: 'log level: debug, info, warn, error (env ACCESS_SSH_LOGLEVEL)',
  },
  { name: 'logfile', type: 'string', valueName: 'file', description: 'also append the log to this file (created 0600; secrets redacted)' },
  {
    name: 'log-directory',
    type: 'string',
    valueName: 'dir',
    description: 'also append the log to <dir>/access-ssh.log (directory 0700, file 0600)',
  },
  { name: 'no-autoupdate', type: 'boolean', hidden: true, description: 'accepted: access-ssh never updates itself' },
  {
    name: 'output',
    type: 'string',
    hidden: true,
    description: '',
    unsupported: 'the log is plain text lines only (no JSON); leave --output out',
  },
  {
    name: 'transport-loglevel',
    aliases: ['proto-loglevel'],
    type: 'string',
    hidden: true,
    description: '',
    unsupported: "it sets the level of cloudflared tunnel's transport log, which access-ssh does not have; use --loglevel",
  },
  {
    name: 'config',
    type: 'string',
    hidden: true,
    description: '',
    unsupported:
      'access-ssh reads no configuration file; give the flags on the command line (the environment variables TUNNEL_SERVICE_HOSTNAME, TUNNEL_SERVICE_TOKEN_ID/_SECRET, TUNNEL_SERVICE_URL, TUNNEL_SERVICE_DESTINATION work too)',
  },
  {
    name: 'timeout',
    type: 'string',
    env: ['ACCESS_SSH_TIMEOUT'],
    valueName: 'duration',
    description: 'limit for each HTTPS request and websocket handshake: 30s, 2m, 1500ms, or seconds (default 10s; env ACCESS_SSH_TIMEOUT)',
  },
  { name: 'help', aliases: ['h'], type: 'boolean', description: 'show help' },
];

const TRUE = new Set(['true', '1', 't', 'yes']);
const FALSE = new Set(['false', '0', 'f', 'no']);

function findCommand(commands: readonly CommandSpec[], word: string): CommandSpec | undefined {
  return commands.find((c) => c.name === word || (c.aliases ?? []).includes(word));
}

function findFlag(flags: readonly FlagSpec[], name: string): FlagSpec | undefined {
  return flags.find((f) => f.name === name || (f.aliases ?? []).includes(name));
}

/**
 * Parse `argv` (without node and the script). Throws UsageError for anything
 * that is not a valid invocation.
 */
export function parseArgs(
  argv: readonly string[],
  commands: readonly CommandSpec[],
  env: Readonly<Record<string, string | undefined>> = {},
): Invocation {
  const args = [...argv];
  // Before the command: `access`/`forward`, --version, --help, and flags (cloudflared's
  // global flags, and `access --fedramp`), which are parsed with the command's own.
  const early: string[] = [];
  const everyFlag = [...GLOBAL_FLAGS, ...commands.flatMap((c) => c.flags)];
  while (args.length > 0) {
    const a = args[0]!;
    if (a === '--version' || a === '-v' || a === '-V' || a === 'version') return { kind: 'version' };
    if (a === '--help' || a === '-h' || a === '-help') return { kind: 'help' };
    if (a === 'access' || a === 'forward') {
      args.shift();
      continue;
    }
    if (a.startsWith('-') && a !== '-' && a !== '--') {
      const { name, inline } = splitFlag(a);
      const spec = findFlag(everyFlag, name);
      if (!spec) throw new UsageError(`Unknown option "${a.split('=')[0]}".`);
      early.push(args.shift()!);
      if (spec.type === 'string' && inline === undefined) {
        if (args.length === 0) throw new UsageError(`Option --${spec.name} needs a value.`);
        early.push(args.shift()!);
      }
      continue;
    }
    break;
  }
  const word = args.shift();
  if (word === undefined) throw new UsageError('No command given.');
  if (word === 'help') {
    const topic = args.find((a) => a !== 'access' && a !== 'forward');
    if (topic === undefined) return { kind: 'help' };
    const cmd = findCommand(commands, topic);
    if (!cmd) throw new UsageError(`No help for unknown command "${topic}".`);
    return { kind: 'help', command: cmd };
  }
  if (word.startsWith('-')) throw new UsageError(`Unknown option "${word}".`);
  const command = findCommand(commands, word);
  if (!command) throw new UsageError(`Unknown command "${word}".`);
  if (command.unsupported) throw new UsageError(`"${word}" is not supported by access-ssh: ${command.unsupported}`);

  const specs = [...command.flags, ...GLOBAL_FLAGS];
  const flags = new Map<string, FlagValue>();
  const positionals: string[] = [];
  const rest = [...early, ...args];
  for (let i = 0; i < rest.length; i++) {
    const a = rest[i]!;
    if (a === '--') {
      positionals.push(...rest.slice(i + 1));
      break;
    }
    if (!a.startsWith('-') || a === '-') {
      positionals.push(a);
      continue;
    }
    const { name, inline } = splitFlag(a);
    const spec = findFlag(specs, name);
    if (!spec) {
      const where = i < early.length ? ' (given before the command)' : '';
      throw new UsageError(`Unknown option "${a.split('=')[0]}" for "${command.name}"${where}.`, command.name);
    }
    if (spec.unsupported) throw new UsageError(`Option --${spec.name} is not supported by access-ssh: ${spec.unsupported}`, command.name);
    if (spec.type === 'boolean') {
      if (inline === undefined) flags.set(spec.name, true);
      else if (TRUE.has(inline.toLowerCase())) flags.set(spec.name, true);
      else if (FALSE.has(inline.toLowerCase())) flags.set(spec.name, false);
      else throw new UsageError(`Option --${spec.name} takes true or false, not "${inline}".`, command.name);
      continue;
    }
    let value = inline;
    if (value === undefined) {
      value = rest[i + 1];
      if (value === undefined) throw new UsageError(`Option --${spec.name} needs a value.`, command.name);
      i++;
    }
    if (spec.repeatable) {
      const list = flags.get(spec.name);
      flags.set(spec.name, [...(isList(list) ? list : []), value]);
      continue;
    }
    if (flags.has(spec.name)) throw new UsageError(`Option --${spec.name} is given twice.`, command.name);
    flags.set(spec.name, value);
  }
  if (flags.get('help') === true) return { kind: 'help', command };
  if (positionals.length > command.maxPositionals) {
    throw new UsageError(`Too many arguments for "${command.name}": ${positionals.slice(command.maxPositionals).join(' ')}`, command.name);
  }
  // Environment defaults, as urfave/cli's EnvVars.
  for (const spec of specs) {
    if (flags.has(spec.name) || !spec.env) continue;
    for (const name of spec.env) {
      const v = env[name];
      if (v !== undefined && v !== '') {
        if (spec.type === 'boolean') flags.set(spec.name, TRUE.has(v.toLowerCase()));
        else flags.set(spec.name, spec.repeatable ? [v] : v);
        break;
      }
    }
  }
  return { kind: 'run', command, flags, positionals };
}

/** `--name=value`, `-name value` → the name and the inline value, if any. */
function splitFlag(a: string): { name: string; inline: string | undefined } {
  const body = a.replace(/^--?/, '');
  const eq = body.indexOf('=');
  return eq < 0 ? { name: body, inline: undefined } : { name: body.slice(0, eq), inline: body.slice(eq + 1) };
}

export function stringFlag(p: ParsedCommand, name: string): string | undefined {
  const v = p.flags.get(name);
  return typeof v === 'string' ? v : undefined;
}

export function boolFlag(p: ParsedCommand, name: string): boolean {
  return p.flags.get(name) === true;
}

/** The values of a repeatable flag, in the order given (empty when not given). */
export function listFlag(p: ParsedCommand, name: string): readonly string[] {
  const v = p.flags.get(name);
  return isList(v) ? v : typeof v === 'string' ? [v] : [];
}

/** The help text of one command, or of the whole program. */
export function helpText(program: string, commands: readonly CommandSpec[], command?: CommandSpec): string {
  const flagLeft = (f: FlagSpec): string => {
    const names = [f.name, ...(f.aliases ?? [])].map((n) => (n.length === 1 ? `-${n}` : `--${n}`)).join(', ');
    const value = f.type === 'string' ? ` <${f.valueName ?? 'value'}>` : '';
    return `${names}${value}${f.repeatable ? ' …' : ''}`;
  };
  const flagLines = (flags: readonly FlagSpec[], width: number): string[] =>
    flags
      .filter((f) => !f.hidden)
      .map((f) => {
        const env = f.env && f.env.length > 0 && !f.description.includes('env ') ? ` [env ${f.env.join(', ')}]` : '';
        return `  ${flagLeft(f).padEnd(width)}  ${f.description}${env}`;
      });
  if (command) {
    const lines = [`Usage: ${program} ${command.usage}`, '', command.summary];
    if (command.description) lines.push('', command.description);
    const all = [...command.flags, ...GLOBAL_FLAGS].filter((f) => !f.hidden);
    lines.push('', 'Options:', ...flagLines(all, Math.max(...all.map((f) => flagLeft(f).length))));
    return lines.join('\n') + '\n';
  }
  const width = Math.max(
    ...commands.filter((c) => !c.unsupported).map((c) => c.usage.length),
    ...GLOBAL_FLAGS.filter((f) => !f.hidden).map((f) => flagLeft(f).length),
  );
  return (
    [
      `Usage: ${program} <command> [options]`,
      '',
      'SSH to servers behind Cloudflare Access with short-lived certificates.',
      `Commands and flags match "cloudflared access"; "${program} access <command>" works too.`,
      '',
      'Commands:',
      ...commands.filter((c) => !c.unsupported).map((c) => `  ${c.usage.padEnd(width)}  ${c.summary}`),
      `  ${'help [command]'.padEnd(width)}  show help`,
      '',
      'Options (before or after the command):',
      `  ${'--version'.padEnd(width)}  print the version`,
      ...flagLines(GLOBAL_FLAGS, width),
      '',
      'Environment:',
      '  ACCESS_SSH_CONNECT_TO       HOST:PORT:TO_HOST:TO_PORT[,…] like curl --connect-to (TLS name and Host stay)',
      "  NODE_EXTRA_CA_CERTS         a PEM file of CAs to trust besides the system's",
      '  HTTPS_PROXY, ALL_PROXY      the HTTP proxy to reach Access through: http://[user:password@]host:port',
      '  NO_PROXY                    hosts reached directly: name, .domain, IP, CIDR, :port; * for all',
      '  ACCESS_SSH_RENEW_MARGIN     ssh-gen renews certificates valid for less than this many seconds (60)',
      '  BROWSER                     the command that opens the login page',
      '',
      'Exit status: 0 success, 1 error, 2 usage error.',
    ].join('\n') + '\n'
  );
}
