/**
 * The ssh_config entries of our managed file (e.g. `~/.ssh/access-ssh/config`).
 *
 * Per host, in this order:
 *
 * 1. `Match originalhost cfpipe-<host>,<host> exec "<helper> ssh-gen --hostname <host>"`
 *    renews the certificate while ssh reads its configuration, before it loads any
 *    identity or certificate file. (A certificate written by the ProxyCommand may be
 *    read too late: ssh starts the ProxyCommand and loads its files without waiting.)
 *    The host is written literally, not as `%h`: HostName has not been applied yet.
 *    `originalhost` is the name as typed on the command line; `host` would be the
 *    HostName if one was already set (by `-o HostName=…`, or in a final
 *    `CanonicalizeHostname` pass), so `originalhost` is the one that always means
 *    "the user asked for this alias or host". The body is empty: the line is there
 *    for its side effect. A failing exec only makes the Match false, so ssh goes on
 *    (and the ProxyCommand reports the problem).
 * 2. `Host cfpipe-<host>`: the alias Remote-SSH connects to.
 * 3. `Host <host>`: the same options, so a terminal `ssh <host>` works like
 *    `cloudflared access ssh-config --short-lived-cert`.
 *
 * `IdentitiesOnly yes`: without it ssh offers every key of the agent first, and a
 * server with the default `MaxAuthTries 6` can cut the connection before the
 * certificate is tried ("Too many authentication failures").
 */
import { proxyCommandValue, matchExecValue, quoteConfigPath, type CommandArg } from './quote.js';
import { showValue } from '../base/display.js';
import { aliasFor, validateHostname, validateUser, SshConfigError, type Hostname } from './validate.js';

/**
 * The one host entry: what every host list holds of a host. The managed file's list
 * (ManagedHost) and the extension's (src/hosts/hosts.ts HostEntry) extend it with their own fields.
 */
export interface HostEntry {
  /** The Access application host name, parsed where the list is read (settings, the managed file, argv). */
  readonly hostname: Hostname;
  /** The account ssh logs in as (the certificate's principal, or the user's choice), when known. */
  readonly user?: string;
  /**
   * A FedRAMP team: `--fedramp` goes before the subcommand of every helper call,
   * where `cloudflared access --fedramp <subcommand>` takes it too.
   */
  readonly fedramp?: boolean;
}

export interface RenderOptions {
  /** Absolute path of the launcher that runs the access-ssh helper. */
  helper: string;
  /** Words between the helper and its subcommand (e.g. the script when `helper` is a node runtime). */
  helperArgs?: readonly string[];
  /** Where the cloudflared-style key files live. Default `~/.cloudflared`. */
  keyDir?: string;
  /** The platform whose OpenSSH reads the file. */
  platform: NodeJS.Platform;
  /** Adds `--non-interactive` to helper calls: the helper must never wait on a browser (Remote-SSH). */
  nonInteractive: boolean;
  /** Appended to every helper call, after its own arguments. */
  extraArgs?: readonly string[];
}

export const DEFAULT_KEY_DIR = '~/.cloudflared';
export const MANAGED_HEADER = '# managed by Access SSH; edits are overwritten';

/** The options of one host, exactly as they are written (config syntax). */
export interface HostOptions {
  alias: string;
  hostname: string;
  user?: string;
  /** `Match exec` argument (the double-quoted command). */
  matchExec: string;
  proxyCommand: string;
  identityFile: string;
  certificateFile: string;
}

function joinKeyPath(dir: string, name: string, platform: NodeJS.Platform): string {
  const sep = platform === 'win32' && dir.includes('\\') && !dir.includes('/') ? '\\' : '/';
  const trimmed = dir.replace(/[\\/]+$/, '');
  return (trimmed === '' && dir !== '' ? dir.slice(0, 1) : trimmed + sep) + name;
}

/** Key file names, as cloudflared writes them. */
export function keyPaths(host: string, keyDir: string, platform: NodeJS.Platform): { key: string; certificate: string } {
  validateHostname(host);
  if (keyDir === '') throw new SshConfigError('The key directory is empty.', 'Leave it unset for ~/.cloudflared, or give a folder.');
  return {
    key: joinKeyPath(keyDir, `${host}-cf_key`, platform),
    certificate: joinKeyPath(keyDir, `${host}-cf_key-cert.pub`, platform),
  };
}

/** All the values written for one host; validates everything. */
export function hostOptions(entry: HostEntry, opts: RenderOptions): HostOptions {
  const hostname = validateHostname(entry.hostname);
  const user = entry.user === undefined ? undefined : validateUser(entry.user);
  const tail: CommandArg[] = [...(opts.nonInteractive ? ['--non-interactive'] : []), ...(opts.extraArgs ?? [])];
  // --fedramp goes before the subcommand (after the helper's own leading words).
  const head: CommandArg[] = [...(opts.helperArgs ?? []), ...(entry.fedramp === true ? ['--fedramp'] : [])];
  const keys = keyPaths(hostname, opts.keyDir ?? DEFAULT_KEY_DIR, opts.platform);
  return {
    alias: aliasFor(hostname),
    hostname,
    ...(user === undefined ? {} : { user }),
    // Our helper stays quiet in the Match when signed out: the ProxyCommand says it, once.
    matchExec: matchExecValue(
      opts.helper,
      [...head, 'ssh-gen', '--hostname', hostname, ...tail, ...(opts.nonInteractive ? ['--quiet-signed-out'] : [])],
      opts.platform,
    ),
    proxyCommand: proxyCommandValue(opts.helper, [...head, 'ssh', '--hostname', { sshToken: 'h' }, ...tail], opts.platform),
    identityFile: quoteConfigPath(keys.key, opts.platform),
    certificateFile: quoteConfigPath(keys.certificate, opts.platform),
  };
}

/**
 * The whole managed file. Deterministic: hosts are sorted by name (so the file
 * doesn't change when the caller's order does); the same host twice with the same
 * user is written once, with different users it is an error.
 */
export function renderEntries(hosts: readonly HostEntry[], opts: RenderOptions): string {
  const byName = new Map<string, HostEntry>();
  for (const h of hosts) {
    const name = validateHostname(h.hostname);
    const seen = byName.get(name);
    if (seen && (seen.user !== h.user || (seen.fedramp === true) !== (h.fedramp === true))) {
      throw new SshConfigError(
        seen.user !== h.user
          ? `The host ${showValue(name)} is listed twice with different users (${showValue(seen.user ?? '')} and ${showValue(h.user ?? '')}).`
          : `The host ${showValue(name)} is listed twice, once with fedramp and once without.`,
        'Keep one entry per host.',
      );
    }
    byName.set(name, h);
  }
  const all = [...byName.values()].map((h) => hostOptions(h, opts));
  all.sort((a, b) => (a.hostname < b.hostname ? -1 : a.hostname > b.hostname ? 1 : 0));

  const lines: string[] = [MANAGED_HEADER];
  for (const o of all) {
    const body = [
      ...(o.user === undefined ? [] : [`  User ${o.user}`]),
      `  ProxyCommand ${o.proxyCommand}`,
      `  IdentityFile ${o.identityFile}`,
      `  CertificateFile ${o.certificateFile}`,
      '  IdentitiesOnly yes',
    ];
    lines.push(
      '',
      `# ${o.hostname}: renew the certificate before ssh loads it`,
      ...(opts.nonInteractive
        ? [
            // When the renewal fails, the helper's message is the one the user reads: ssh's
            // own "kex_exchange_identification: Connection closed" after it says nothing more.
            `Match originalhost ${o.alias},${o.hostname} !exec ${o.matchExec}`,
            '  LogLevel FATAL',
          ]
        : [`Match originalhost ${o.alias},${o.hostname} exec ${o.matchExec}`]),
      '',
      `Host ${o.alias}`,
      `  HostName ${o.hostname}`,
      ...body,
      '',
      `Host ${o.hostname}`,
      ...body,
    );
  }
  return lines.join('\n') + '\n';
}
