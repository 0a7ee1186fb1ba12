// The editor's view of ~/.cloudflared and of its own memory per host, in one place that
// fires onDidChange: the token and certificate files (src/hosts/token-files.ts, re-read
// when the directory changes, src/hosts/dir-watch.ts, never per view tick: the view
// computes countdowns from the cached validity windows), each host's team as learned
// (kept in the extension's globalState), the last failure per host and the sign-ins
// under way (kept in memory).

import type { Hostname } from '../base/hostname.js';
import { type Disposable, EventEmitter, type Memento } from 'vscode';
import { readPrivateFile } from '../base/private-files.js';
import { defaultConfigDir } from '../access/paths.js';
import { DirWatch } from '../hosts/dir-watch.js';
import type { CertInfo, HostError, TokenInfo } from '../hosts/state.js';
import { appTokenFor, orgTokenFor, sessionTokenCandidates, teamsOf, type StoredToken, type Team } from '../hosts/teams.js';
import { TokenFiles } from '../hosts/token-files.js';
import { accessModules } from './lazy.js';
import type { ExtensionLog } from './log.js';

export class AccessState implements Disposable {
  readonly dir: string;
  private readonly files: TokenFiles;
  private readonly watch: DirWatch;
  private readonly errors = new Map<string, HostError>();
  private readonly signingIn = new Set<string>();
  private readonly changed = new EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private loading: Promise<void> | undefined;
  private again = false;
  private disposed = false;

  constructor(
    private readonly log: ExtensionLog,
    private readonly memento: Memento,
    dir: string = defaultConfigDir(),
  ) {
    this.dir = dir;
    this.files = new TokenFiles(dir, {
      readFullCertificate: async (d, host) => await (await accessModules()).readCertificate(d, host),
      log,
    });
    this.watch = new DirWatch(dir, () => void this.reload(), log);
  }

  /** Start watching the directory (or poll until it exists) and load once. */
  async start(): Promise<void> {
    this.watch.start();
    await this.reload();
  }

  /** Reload soon (coalesces bursts of file events). */
  schedule(delayMs?: number): void {
    this.watch.schedule(delayMs);
  }

  /** Re-read what changed; concurrent calls share one pass (plus one more if asked meanwhile). */
  reload(): Promise<void> {
    if (this.loading) {
      this.again = true;
      return this.loading;
    }
    this.loading = (async () => {
      try {
        do {
          this.again = false;
          if (await this.files.scan()) this.changed.fire();
        } while (this.again && !this.disposed);
      } catch (err) {
        this.log.warn(`Cannot read ${this.dir}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  private tokens(): StoredToken[] {
    return this.files.tokens();
  }

  /** A team's auth domain learned for a host (from its app token, or remembered from earlier). */
  teamOf(host: string): string | undefined {
    const app = this.appToken(host, true);
    if (app?.authDomain) return app.authDomain;
    const remembered = this.memento.get<Record<string, string>>('hostTeams', {});
    return Object.prototype.hasOwnProperty.call(remembered, host) ? remembered[host] : undefined;
  }

  async rememberTeam(host: string, authDomain: string): Promise<void> {
    const remembered = { ...this.memento.get<Record<string, string>>('hostTeams', {}) };
    if (remembered[host] === authDomain) return;
    remembered[host] = authDomain;
    await this.memento.update('hostTeams', remembered);
    // The host's team decides whether its row is signed in.
    if (!this.disposed) this.changed.fire();
  }

  /** The host's app token (the latest-expiring), live unless `includeExpired`. */
  appToken(host: string, includeExpired = false): StoredToken | undefined {
    return appTokenFor(this.tokens(), host, Date.now() / 1000, includeExpired);
  }

  orgToken(authDomain: string | undefined): StoredToken | undefined {
    return orgTokenFor(this.tokens(), authDomain, Date.now() / 1000);
  }

  cert(host: Hostname): CertInfo | undefined {
    return this.files.cert(host);
  }

  /** Everything hostState() needs for `host`, from the cache. */
  input(host: Hostname): { appToken?: TokenInfo; orgToken?: TokenInfo; cert?: CertInfo; error?: HostError; signingIn?: boolean } {
    const appToken = this.appToken(host);
    const orgToken = this.orgToken(appToken?.authDomain ?? this.teamOf(host));
    const cert = this.cert(host);
    const error = this.errors.get(host);
    return {
      ...(appToken ? { appToken } : {}),
      ...(orgToken ? { orgToken } : {}),
      ...(cert ? { cert } : {}),
      ...(error !== undefined ? { error } : {}),
      ...(this.signingIn.has(host) ? { signingIn: true } : {}),
    };
  }

  /** Teams with a live token: the authentication sessions. */
  teams(): Team[] {
    return teamsOf(this.tokens(), Date.now() / 1000);
  }

  /** The token a session hands out: the team's org token, else its newest app token. */
  async sessionToken(authDomain: string): Promise<string> {
    for (const t of sessionTokenCandidates(this.tokens(), authDomain, Date.now() / 1000)) {
      try {
        const text = (await readPrivateFile(t.file, { sensitivity: 'repair', maxBytes: 64 * 1024 }))?.toString('utf8').trim();
        if (text) return text;
      } catch {
        /* gone meanwhile */
      }
    }
    return '';
  }

  /** App tokens of a team (their hosts), for background renewal. */
  appTokensOf(authDomain: string): StoredToken[] {
    return this.tokens().filter((t) => t.kind === 'app' && t.authDomain === authDomain);
  }

  setError(host: string, error: HostError | undefined): void {
    if (error === undefined) {
      if (this.errors.delete(host)) this.changed.fire();
    } else {
      const prev = this.errors.get(host);
      if (prev && prev.reason === error.reason && prev.detail === error.detail && prev.action === error.action) return;
      this.errors.set(host, error);
      this.changed.fire();
    }
  }

  error(host: string): HostError | undefined {
    return this.errors.get(host);
  }

  /** Marks a browser sign-in through `host` as under way (the row says so). */
  setSigningIn(host: string, on: boolean): void {
    if (on ? this.signingIn.has(host) : !this.signingIn.has(host)) return;
    if (on) this.signingIn.add(host);
    else this.signingIn.delete(host);
    this.changed.fire();
  }

  dispose(): void {
    this.disposed = true;
    this.watch.dispose();
    this.changed.dispose();
  }
}
