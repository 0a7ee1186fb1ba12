// `access-ssh config add|remove|list`: the extension's ssh config writer for every
// OpenSSH client (a terminal, JetBrains Gateway, rsync…). The same managed file,
// host list and Include line as the extension (src/ssh/managed-hosts.ts,
// src/ssh/include.ts): what one adds, the other keeps.

import type { Hostname } from '../../base/hostname.js';
import * as os from 'node:os';
import { join, resolve } from 'node:path';
import { AccessError } from '../../access/errors.js';
import { hostOptions, type RenderOptions } from '../../ssh/entries.js';
import { ensureInclude, removeInclude } from '../../ssh/include.js';
import {
  addCliHost,
  keyDirFor,
  managedConfigPath,
  readManagedHosts,
  removeCliHost,
  updateManagedHosts,
  type ManagedHost,
} from '../../ssh/managed-hosts.js';
import { SshConfigError, aliasFor, validateUser } from '../../ssh/validate.js';
import { boolFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import type { Runtime } from '../runtime.js';

/** The HOME the helper itself uses for ~/.cloudflared (and so our managed file). */
export function helperHome(rt: Runtime): string {
  return rt.env['HOME'] || rt.env['USERPROFILE'] || os.homedir();
}

/** The ssh config ssh reads by default: ~/.ssh/config of the passwd entry, not of $HOME. */
export function defaultSshConfig(rt: Runtime): string {
  let home: string;
  try {
    home = os.userInfo().homedir || helperHome(rt);
  } catch {
    home = helperHome(rt);
  }
  return join(home, '.ssh', 'config');
}

/** How the entries run this helper: this runtime and this script, by absolute path. */
export function cliRenderOptions(rt: Runtime): RenderOptions {
  const [program, ...rest] = rt.self.length > 0 ? rt.self : ['access-ssh'];
  return {
    helper: resolve(program!),
    helperArgs: rest.map((a) => resolve(a)),
    keyDir: keyDirFor(helperHome(rt)),
    platform: rt.platform,
    // As the extension's: no browser inside ssh (`access-ssh login` first).
    nonInteractive: true,
  };
}

/** `<managed file>.lock`, the same lock files as the extension (src/access/lock.ts). */
async function lock<T>(file: string, fn: () => Promise<T>): Promise<T> {
  const { withFileLock } = await import('../../access/lock.js');
  return await withFileLock(file, fn, { retryMs: 50, timeoutMs: 30_000 });
}

function configError(err: unknown): never {
  if (err instanceof SshConfigError) throw new AccessError('config', err.message, { hint: err.hint });
  throw err;
}

function describeHost(h: ManagedHost): string {
  const by = h.from.map((o) => (o === 'cli' ? 'access-ssh config' : 'VS Code')).join(' and ');
  return `${aliasFor(h.hostname)}  (${h.hostname}${h.user ? `, user ${h.user}` : ''}; added by ${by})`;
}

/** The account for a host when --user is not given: the cached certificate's principal, else the stored token's e-mail. */
async function derivedUser(rt: Runtime, host: Hostname): Promise<string | undefined> {
  const dir = keyDirFor(helperHome(rt));
  try {
    const { readCachedCertificate } = await import('../../access/cert-file.js');
    const { cert } = await readCachedCertificate(dir, host);
    const principal = cert?.principals[0];
    if (principal !== undefined) return validateUser(principal);
  } catch {
    // no usable certificate: try the token
  }
  try {
    const [{ TokenStore }, { emailLocalPart }] = await Promise.all([import('../../access/token-store.js'), import('../../access/jwt.js')]);
    const found = await new TokenStore(dir).findAppToken(host);
    const email = found?.claims.email;
    return email ? validateUser(emailLocalPart(email)) : undefined;
  } catch {
    return undefined;
  }
}

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const action = p.positionals[0];
  if (action !== 'add' && action !== 'remove' && action !== 'list' && action !== 'import') {
    throw new UsageError(
      action === undefined
        ? 'config needs an action: add, remove, list or import.'
        : `Unknown config action "${action}" (add, remove, list, import).`,
      'config',
    );
  }
  const file = managedConfigPath(helperHome(rt));
  const sshConfig = resolve(stringFlag(p, 'config') ?? defaultSshConfig(rt));
  const opts = cliRenderOptions(rt);

  if (action === 'list') {
    if (stringFlag(p, 'hostname') !== undefined || stringFlag(p, 'user') !== undefined)
      throw new UsageError('config list takes no --hostname or --user.', 'config');
    const hosts = await readManagedHosts(file).catch(configError);
    if (boolFlag(p, 'json')) {
      rt.stdout.write(JSON.stringify({ file, hosts: hosts.map((h) => ({ ...h, alias: aliasFor(h.hostname) })) }, null, 2) + '\n');
    } else if (hosts.length === 0) {
      rt.stdout.write(`No Access hosts in ${file}.\nAdd one with: access-ssh config add --hostname ssh.example.com\n`);
    } else {
      rt.stdout.write(
        `${hosts.length} Access host${hosts.length === 1 ? '' : 's'} in ${file}:\n${hosts.map((h) => `  ${describeHost(h)}\n`).join('')}`,
      );
    }
    return 0;
  }

  if (action === 'import') return await importHosts(rt, p, file, sshConfig, opts);

  const target = parseTarget(stringFlag(p, 'hostname'), 'config');
  const host = target.host;
  if (action === 'add') {
    const given = stringFlag(p, 'user');
    let user: string | undefined;
    try {
      user = given === undefined ? undefined : validateUser(given);
    } catch (err) {
      throw new UsageError((err as Error).message, 'config');
    }
    const derived = user === undefined ? await derivedUser(rt, host) : undefined;
    const result = await updateManagedHosts(
      file,
      (hosts) => {
        const seen = hosts.find((h) => h.hostname === host);
        return addCliHost(hosts, host, user ?? (seen?.user === undefined ? derived : undefined));
      },
      opts,
      lock,
    ).catch(configError);
    const inc = await ensureInclude(sshConfig, file, { platform: rt.platform }).catch(configError);
    const added = result.hosts.find((h) => h.hostname === host)!;
    rt.stderr.write(`${result.changed ? 'Wrote' : 'Kept'} ${file}: ${describeHost(added)}\n`);
    rt.stderr.write(inc.changed ? `Added the Include of ${file} at the top of ${sshConfig}\n` : `${sshConfig} already includes it\n`);
    if (added.user === undefined) {
      rt.stderr.write(
        `No User line for ${host} yet (no login or certificate to take it from): ssh would log in as your local user.\n` +
          `  Sign in (access-ssh login https://${host}) and run this again, or pass --user <account>.\n`,
      );
    }
    if (!boolFlag(p, 'no-check')) await check(rt, host, added, opts, sshConfig);
    rt.stderr.write(
      `Sign in once with:  access-ssh login https://${host}\nThen connect with:  ssh${sshConfig === resolve(defaultSshConfig(rt)) ? '' : ` -F ${sshConfig}`} ${aliasFor(host)}\n`,
    );
    return 0;
  }

  // remove
  const before = await readManagedHosts(file).catch(configError);
  const seen = before.find((h) => h.hostname === host);
  if (!seen) {
    rt.stderr.write(`${host} is not in ${file}; nothing to remove.\n`);
    return 0;
  }
  if (!seen.from.includes('cli')) {
    rt.stderr.write(
      `${host} was added in VS Code, not with access-ssh config: remove it there (Access: Remove Host), or it is written again.\n`,
    );
    return 1;
  }
  const result = await updateManagedHosts(file, (hosts) => removeCliHost(hosts, host), opts, lock).catch(configError);
  const left = result.hosts.find((h) => h.hostname === host);
  if (left) {
    rt.stderr.write(
      `Removed access-ssh config's mark on ${host}; it stays in ${file} because VS Code lists it too (remove it there with Access: Remove Host).\n`,
    );
  } else {
    rt.stderr.write(`Removed ${host} from ${file}.\n`);
  }
  if (result.hosts.length === 0) {
    const inc = await removeInclude(sshConfig).catch(configError);
    if (inc.changed) rt.stderr.write(`No Access hosts left: removed the Include from ${sshConfig}\n`);
  }
  return 0;
}

/** `ssh -G -F <config> cfpipe-<host>`: our options must be the ones in force. */
async function check(rt: Runtime, host: Hostname, h: ManagedHost, opts: RenderOptions, sshConfig: string): Promise<void> {
  const { checkSshConfig, describeMismatch } = await import('../../ssh/ssh-g.js');
  const expected = hostOptions({ hostname: host, ...(h.user === undefined ? {} : { user: h.user }) }, opts);
  let result;
  try {
    result = await checkSshConfig({
      alias: aliasFor(host),
      configFile: sshConfig,
      expected: {
        proxyCommand: expected.proxyCommand,
        identityFile: expected.identityFile,
        certificateFile: expected.certificateFile,
        ...(expected.user === undefined ? {} : { user: expected.user }),
      },
      timeoutMs: 15_000,
      env: { ...rt.env },
      homeDir: helperHome(rt),
    });
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
      rt.stderr.write('No ssh found on PATH: the result was not checked with ssh -G.\n');
      return;
    }
    rt.stderr.write(`warning: ssh -G could not check the result: ${(err as Error).message}\n`);
    return;
  }
  if (result.ok) {
    rt.stderr.write(`ssh -G ${aliasFor(host)}: the Access entries are in force\n`);
    return;
  }
  for (const m of result.mismatches) rt.stderr.write(`warning: ssh -G ${aliasFor(host)}: ${describeMismatch(m)}\n`);
  rt.stderr.write('  Move that line below the Access SSH Include block, or narrow its Host pattern.\n');
}

/**
 * `config import [--yes]`: the hosts of the ssh config (following Include) already set
 * up for cloudflared; listed, and with --yes added as hosts of ours (with the User of
 * their block). The user's lines are only read.
 */
async function importHosts(rt: Runtime, p: ParsedCommand, file: string, sshConfig: string, opts: RenderOptions): Promise<number> {
  if (stringFlag(p, 'hostname') !== undefined || stringFlag(p, 'user') !== undefined)
    throw new UsageError('config import takes no --hostname or --user.', 'config');
  const { nodeScanIo, scanForCloudflaredHosts } = await import('../../ssh/import.js');
  let home: string;
  try {
    home = os.userInfo().homedir || helperHome(rt);
  } catch {
    home = helperHome(rt);
  }
  const scan = await scanForCloudflaredHosts(sshConfig, nodeScanIo(home));
  const known = new Set((await readManagedHosts(file).catch(configError)).map((h) => h.hostname));
  const fresh = scan.hosts.filter((h) => !known.has(h.hostname));
  for (const e of scan.errors)
    rt.stderr.write(`warning: cannot read ${e.file}${e.line ? ` (Include on line ${e.line})` : ''}: ${e.message}\n`);
  for (const s of scan.skipped) rt.stderr.write(`skipped ${s.file}:${s.line}: ${s.reason}\n`);
  if (boolFlag(p, 'json')) {
    rt.stdout.write(JSON.stringify({ files: scan.files, hosts: fresh, skipped: scan.skipped }, null, 2) + '\n');
  } else if (fresh.length === 0) {
    rt.stdout.write(`No hosts set up for cloudflared in ${scan.files.join(', ') || sshConfig} that are not Access hosts already.\n`);
  } else {
    rt.stdout.write(`${fresh.length} host${fresh.length === 1 ? '' : 's'} set up for cloudflared:\n`);
    for (const h of fresh) {
      const f = h.found[0]!;
      rt.stdout.write(
        `  ${h.hostname}${h.user ? ` (user ${h.user})` : ''}  ${f.file}:${f.line} ${f.by}${f.alias ? ` Host ${f.alias}` : ''}\n`,
      );
    }
  }
  if (!boolFlag(p, 'yes') || fresh.length === 0) {
    if (fresh.length > 0 && !boolFlag(p, 'json'))
      rt.stdout.write('Add them with: access-ssh config import --yes (your lines stay as they are)\n');
    return 0;
  }
  await updateManagedHosts(file, (hosts) => fresh.reduce((acc, h) => addCliHost(acc, h.hostname, h.user), hosts), opts, lock).catch(
    configError,
  );
  const inc = await ensureInclude(sshConfig, file, { platform: rt.platform }).catch(configError);
  rt.stderr.write(
    `Added ${fresh.map((h) => h.hostname).join(', ')} to ${file}${inc.changed ? `; the Include is now at the top of ${sshConfig}` : ''}.\n`,
  );
  return 0;
}
