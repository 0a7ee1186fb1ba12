// Our ssh_config file (~/.ssh/access-ssh/config) with the cfpipe- entries of all
// hosts, the one Include line at the top of the ssh config Remote-SSH reads, and
// the launcher the entries run. After writing, `ssh -G <alias>` shows whether
// our options are the ones in force; if another line wins, the user is told
// which one and where.

import { promises as fsp } from 'node:fs';
import { homedir } from 'node:os';
import { join, resolve } from 'node:path';
import { type ExtensionContext, Range, Uri, commands, window, workspace } from 'vscode';
import { renderLauncher } from '../ssh/launcher.js';
import { atomicWrite } from '../base/atomic-write.js';
import { hostOptions, type HostEntry as SshHostEntry, type RenderOptions } from '../ssh/entries.js';
import { ensureInclude } from '../ssh/include.js';
import { keyDirFor, managedConfigPath, removeCliHost, syncExtensionHosts, updateManagedHosts } from '../ssh/managed-hosts.js';
import { checkSshConfig, describeMismatch } from '../ssh/ssh-g.js';
import { aliasFor, type Hostname } from '../ssh/validate.js';
import { sshUserFor, type HostEntry, type SshUser } from '../hosts/hosts.js';
import type { AccessState } from './access-state.js';
import type { ExtensionLog } from './log.js';
import { helperEnv, readSettings, type Settings } from './settings.js';

/** Shared with `access-ssh config` (src/ssh/managed-hosts.ts): its host list is the source of truth. */
const OUR_CONFIG = managedConfigPath(homedir());

export class SshConfigSync {
  private launcher: string | undefined;
  private writing: Promise<unknown> = Promise.resolve();
  /** The User written per host by the last sync. */
  private writtenUsers = new Map<string, string | undefined>();

  constructor(
    private readonly context: ExtensionContext,
    private readonly log: ExtensionLog,
    private readonly state: AccessState,
  ) {}

  get ourConfigFile(): string {
    return OUR_CONFIG;
  }

  /** The bundled helper of this extension version. */
  get helperScript(): string {
    return join(this.context.extensionPath, 'dist', 'access-ssh.js');
  }

  /**
   * (Re)write the launcher in global storage: it names this version's helper
   * and the routing settings, so it is rewritten on every activation and on
   * settings changes. 0700 in a 0700 directory.
   */
  async writeLauncher(settings: Settings = readSettings()): Promise<string> {
    const dir = join(this.context.globalStorageUri.fsPath, 'bin');
    const launcher = renderLauncher({
      platform: process.platform,
      execPath: process.execPath,
      script: this.helperScript,
      env: helperEnv(settings),
      ...(settings.useCloudflared ? { cloudflared: settings.cloudflaredPath } : {}),
    });
    const file = join(dir, launcher.fileName);
    let current: string | undefined;
    try {
      current = await fsp.readFile(file, 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== launcher.content) {
      await atomicWrite(file, launcher.content, { mode: 0o700 });
      this.log.info(`Wrote the helper launcher ${file}`);
    }
    this.launcher = file;
    return file;
  }

  private renderOptions(settings: Settings, helper: string): RenderOptions {
    return {
      helper,
      platform: process.platform,
      // Absolute: ssh expands `~` from the passwd entry, the helper uses $HOME.
      keyDir: keyDirFor(homedir()),
      // cloudflared has no --non-interactive (the launcher drops it anyway).
      nonInteractive: !settings.useCloudflared,
    };
  }

  /**
   * The account the entries log in as for `entry` (src/hosts sshUserFor): the
   * host's own `user`, else the principal of its certificate (the edge decides),
   * else the local part of the login's e-mail. The `User` of other hosts, in the
   * user's own ssh config, is never touched: our entries name only our hosts.
   */
  userFor(entry: HostEntry): SshUser {
    const host = entry.hostname;
    const email = this.state.appToken(host, true)?.email ?? this.state.orgToken(this.state.teamOf(host))?.email;
    return sshUserFor({
      ...(entry.user !== undefined ? { configured: entry.user } : {}),
      principals: this.state.cert(host)?.principals ?? [],
      ...(email !== undefined ? { email } : {}),
    });
  }

  /** Once per host and account: the certificate is for another account than the e-mail suggests. */
  private tellPrincipal(host: string, chosen: SshUser): void {
    if (chosen.source !== 'certificate' || chosen.differsFromEmail === undefined || chosen.user === undefined) return;
    const key = 'principalNotices';
    const told = this.context.globalState.get<Record<string, string>>(key, {});
    if (told[host] === chosen.user) return;
    void this.context.globalState.update(key, { ...told, [host]: chosen.user });
    this.log.info(`${host}: the certificate is for ${chosen.user}, not ${chosen.differsFromEmail}; the entries log in as ${chosen.user}`);
    void window
      .showInformationMessage(
        `Access issues certificates for ${host} to the account "${chosen.user}", not "${chosen.differsFromEmail}": ssh logs in as ${chosen.user}. To use another account there, set "user" for this host in accessSSH.hosts.`,
        'Open Settings',
      )
      .then((choice) => {
        if (choice === 'Open Settings') void commands.executeCommand('workbench.action.openSettingsJson');
      });
  }

  /**
   * Write our file for `hosts` and the Include line; then, for `check`, verify
   * with ssh -G that our options win. Serialised: one write at a time.
   */
  sync(hosts: readonly HostEntry[], check?: Hostname): Promise<void> {
    const run = this.writing.then(() => this.doSync(hosts, check));
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** Would a sync now write another User for any of `hosts` (a new certificate for another principal)? */
  usersChanged(hosts: readonly HostEntry[]): boolean {
    return hosts.some((h) => !this.writtenUsers.has(h.hostname) || this.writtenUsers.get(h.hostname) !== this.userFor(h).user);
  }

  private async doSync(hosts: readonly HostEntry[], check?: Hostname): Promise<void> {
    // The certificates on disk decide the User: read what a renewal just wrote.
    await this.state.reload();
    const settings = readSettings();
    const helper = this.launcher ?? (await this.writeLauncher(settings));
    const entries: SshHostEntry[] = hosts.map((h) => {
      const chosen = this.userFor(h);
      this.tellPrincipal(h.hostname, chosen);
      return {
        hostname: h.hostname,
        ...(chosen.user !== undefined ? { user: chosen.user } : {}),
        ...(h.fedramp === true ? { fedramp: true } : {}),
      };
    });
    const opts = this.renderOptions(settings, helper);
    // The file's own host list keeps the hosts of `access-ssh config add`; ours are replaced.
    const { withFileLock } = await import('../access/lock.js');
    const wrote = await updateManagedHosts(
      OUR_CONFIG,
      (current) => syncExtensionHosts(current, entries),
      opts,
      (file, fn) => withFileLock(file, fn, { retryMs: 50, timeoutMs: 30_000 }),
    );
    this.writtenUsers = new Map(entries.map((e) => [e.hostname, e.user]));
    const n = wrote.hosts.length;
    if (wrote.changed)
      this.log.info(`Wrote ${OUR_CONFIG} (${n} host${n === 1 ? '' : 's'}, ${n - entries.length} of them from access-ssh config)`);
    const inc = await ensureInclude(settings.sshConfigFile, OUR_CONFIG);
    if (inc.changed) this.log.info(`Added the Include of ${OUR_CONFIG} at the top of ${settings.sshConfigFile}`);
    if (check !== undefined) {
      const written = wrote.hosts.find((h) => h.hostname === check);
      await this.check(check, { hostname: check, ...(written?.user === undefined ? {} : { user: written.user }) }, opts, settings);
    }
  }

  /**
   * Takes the command line's mark off `host` (what `access-ssh config remove` does):
   * its entries go unless the extension lists it too. Serialised with the syncs.
   */
  removeCliHost(host: Hostname): Promise<void> {
    const run = this.writing.then(async () => {
      const settings = readSettings();
      const helper = this.launcher ?? (await this.writeLauncher(settings));
      const { withFileLock } = await import('../access/lock.js');
      await updateManagedHosts(
        OUR_CONFIG,
        (current) => removeCliHost(current, host),
        this.renderOptions(settings, helper),
        (file, fn) => withFileLock(file, fn, { retryMs: 50, timeoutMs: 30_000 }),
      );
      this.log.info(`Removed ${host} (added with access-ssh config add) from ${OUR_CONFIG}`);
    });
    this.writing = run.catch(() => undefined);
    return run;
  }

  /** `ssh -G cfpipe-<host>`: are our ProxyCommand, IdentityFile, CertificateFile in force? */
  private async check(host: string, entry: SshHostEntry, opts: RenderOptions, settings: Settings): Promise<void> {
    const expected = hostOptions(entry, opts);
    const defaultConfig = join(homedir(), '.ssh', 'config');
    let result;
    try {
      result = await checkSshConfig({
        alias: aliasFor(host),
        ...(resolve(settings.sshConfigFile) !== defaultConfig ? { configFile: settings.sshConfigFile } : {}),
        expected: {
          proxyCommand: expected.proxyCommand,
          identityFile: expected.identityFile,
          certificateFile: expected.certificateFile,
          ...(expected.user !== undefined ? { user: expected.user } : {}),
        },
        timeoutMs: 10_000,
      });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') {
        this.log.warn('No ssh client found on PATH; skipped the ssh -G check');
        return;
      }
      throw err;
    }
    if (result.ok) {
      this.log.debug(`ssh -G ${aliasFor(host)}: our options are in force`);
      return;
    }
    const lines = result.mismatches.map(describeMismatch);
    for (const l of lines) this.log.warn(`ssh -G ${aliasFor(host)}: ${l}`);
    const source = result.mismatches.find((m) => m.source)?.source;
    const actions = source ? ['Open File', 'Show Log'] : ['Show Log'];
    void window
      .showWarningMessage(
        `Another line of your ssh config overrides the Access entry for ${host}: ${lines[0]} Move it below the Access SSH Include block, or restrict its Host pattern.`,
        ...actions,
      )
      .then(async (choice) => {
        if (choice === 'Open File' && source) {
          const doc = await workspace.openTextDocument(Uri.file(source.file));
          const line = Math.max(0, source.line - 1);
          await window.showTextDocument(doc, { selection: new Range(line, 0, line, 0) });
        } else if (choice === 'Show Log') this.log.show();
      });
  }

  /** The ssh command a user can run in a terminal (with -F for a non-default config). */
  sshCommand(host: string): string[] {
    const settings = readSettings();
    const defaultConfig = join(homedir(), '.ssh', 'config');
    const args = resolve(settings.sshConfigFile) !== defaultConfig ? ['-F', settings.sshConfigFile] : [];
    return ['ssh', ...args, aliasFor(host)];
  }
}
