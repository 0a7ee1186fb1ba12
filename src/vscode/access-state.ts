// What is on disk in ~/.cloudflared (shared with the helper and any cloudflared
// install): org tokens per team, app tokens per application host, certificates
// per host. Read when the directory changes (fsWatch, debounced), never per
// view tick: the view computes countdowns from the cached validity windows.
// Files are re-read only when their size or mtime changed, so 1,000 hosts cost
// one readdir and a stat each on a change.

import { type FSWatcher, type Stats, existsSync, promises as fsp, watch as fsWatch } from 'node:fs';
import { join } from 'node:path';
import { type Disposable, EventEmitter, type Memento } from 'vscode';
import { readPrivateFile } from '../base/private-files.js';
import { readCachedCertificate } from '../access/cert-file.js';
import { decodeClaims } from '../access/jwt.js';
import { authDomainOfIssuer } from '../access/auth-domain.js';
import { certFileName, defaultConfigDir, parseCloudflaredFileName } from '../access/paths.js';
import { certInfoOf, type CertInfo, type HostError, type TokenInfo } from '../hosts/state.js';
import { accessModules } from './lazy.js';
import type { ExtensionLog } from './log.js';
import { displayText } from '../base/display.js';

/** The longest e-mail address (RFC 5321's path limit); a longer claim is cut when shown. */
const EMAIL_MAX = 254;

interface Cached<T> {
  readonly stamp: string;
  readonly value: T | undefined;
}

export interface StoredToken extends TokenInfo {
  readonly file: string;
  readonly kind: 'org' | 'app';
  /** For app tokens: the application host name of the file. */
  readonly appHostname?: string;
}

export interface Team {
  readonly authDomain: string;
  readonly email?: string;
  /** When the last token of this team expires. */
  readonly exp: number;
  readonly hasOrgToken: boolean;
}

export class AccessState implements Disposable {
  readonly dir: string;
  private readonly files = new Map<string, Cached<StoredToken | CertInfo>>();
  private readonly errors = new Map<string, HostError>();
  private readonly signingIn = new Set<string>();
  private readonly changed = new EventEmitter<void>();
  readonly onDidChange = this.changed.event;
  private watcher: FSWatcher | undefined;
  private pollTimer: NodeJS.Timeout | undefined;
  private debounce: NodeJS.Timeout | undefined;
  private loading: Promise<void> | undefined;
  private again = false;
  private disposed = false;

  constructor(
    private readonly log: ExtensionLog,
    private readonly memento: Memento,
    dir: string = defaultConfigDir(),
  ) {
    this.dir = dir;
  }

  /** Start watching the directory (or poll until it exists) and load once. */
  async start(): Promise<void> {
    this.watch();
    await this.reload();
  }

  private watch(): void {
    if (this.disposed || this.watcher) return;
    try {
      this.watcher = fsWatch(this.dir, { persistent: false }, () => this.schedule());
      this.watcher.on('error', (err) => {
        this.log.debug(`Watching ${this.dir} stopped: ${err.message}`);
        this.watcher?.close();
        this.watcher = undefined;
        this.pollUntilWatchable();
      });
      if (this.pollTimer) clearInterval(this.pollTimer);
      this.pollTimer = undefined;
    } catch {
      this.pollUntilWatchable();
    }
  }

  private pollUntilWatchable(): void {
    if (this.disposed || this.pollTimer) return;
    // The directory appears on the first login; until then look every 5 s.
    this.pollTimer = setInterval(() => {
      if (existsSync(this.dir)) {
        clearInterval(this.pollTimer);
        this.pollTimer = undefined;
        this.watch();
        this.schedule();
      }
    }, 5000);
    this.pollTimer.unref?.();
  }

  /** Reload soon (coalesces bursts of file events). */
  schedule(delayMs = 150): void {
    if (this.disposed) return;
    if (this.debounce) clearTimeout(this.debounce);
    this.debounce = setTimeout(() => {
      this.debounce = undefined;
      void this.reload();
    }, delayMs);
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
          if (await this.scan()) this.changed.fire();
        } while (this.again && !this.disposed);
      } catch (err) {
        this.log.warn(`Cannot read ${this.dir}: ${err instanceof Error ? err.message : String(err)}`);
      } finally {
        this.loading = undefined;
      }
    })();
    return this.loading;
  }

  /** One pass over the directory; true when anything changed. */
  private async scan(): Promise<boolean> {
    let names: string[];
    try {
      names = await fsp.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
      names = [];
    }
    const wanted = names.filter((n) => {
      const kind = parseCloudflaredFileName(n)?.kind;
      return kind === 'org-token' || kind === 'app-token' || kind === 'certificate';
    });
    let changed = false;
    const present = new Set(wanted);
    for (const name of [...this.files.keys()]) {
      if (!present.has(name)) {
        this.files.delete(name);
        changed = true;
      }
    }
    await Promise.all(
      wanted.map(async (name) => {
        const file = join(this.dir, name);
        let stat: Stats;
        try {
          stat = await fsp.stat(file);
        } catch {
          if (this.files.delete(name)) changed = true;
          return;
        }
        const stamp = `${stat.size}:${stat.mtimeMs}:${stat.ino}`;
        if (this.files.get(name)?.stamp === stamp) return;
        changed = true;
        this.files.set(name, { stamp, value: await this.read(name, file) });
      }),
    );
    return changed;
  }

  private async read(name: string, file: string): Promise<StoredToken | CertInfo | undefined> {
    try {
      const kind = parseCloudflaredFileName(name);
      if (kind?.kind === 'certificate') {
        const host = kind.host;
        // The light reader (no sshpk); only for a pair it cannot vouch for (no
        // .pub beside the key, say) the full check, loaded on demand.
        const cert = (await readCachedCertificate(this.dir, host)).cert ?? (await (await accessModules()).readCertificate(this.dir, host));
        if (!cert) return undefined;
        return certInfoOf(cert);
      }
      if (kind?.kind !== 'org-token' && kind?.kind !== 'app-token') return undefined;
      // Through the private file layer: no symlink followed, a regular file of ours.
      const text = (await readPrivateFile(file, { sensitivity: 'repair', maxBytes: 64 * 1024 }))?.toString('utf8');
      if (text === undefined) return undefined;
      const claims = decodeClaims(text);
      // A foreign issuer (not an Access team domain) is no team: the token flow refuses it too.
      const team = authDomainOfIssuer(claims.iss);
      const base = {
        file,
        exp: claims.exp,
        // Shown in rows, tooltips, the Accounts menu and notifications: made safe where it is read.
        ...(claims.email !== undefined ? { email: displayText(claims.email, EMAIL_MAX) } : {}),
        ...(team.ok ? { authDomain: team.authDomain } : {}),
      };
      if (kind.kind === 'org-token') {
        return { ...base, kind: 'org', authDomain: kind.authDomain };
      }
      const app = parseCloudflaredFileName(name, claims.aud);
      const appHostname = app?.kind === 'app-token' ? app.appHostname : undefined;
      return { ...base, kind: 'app', ...(appHostname ? { appHostname } : {}) };
    } catch (err) {
      this.log.debug(`Skipping ${name}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  private tokens(): StoredToken[] {
    const out: StoredToken[] = [];
    for (const c of this.files.values()) if (c.value && 'kind' in c.value) out.push(c.value);
    return out;
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
    const now = Date.now() / 1000;
    let best: StoredToken | undefined;
    for (const t of this.tokens()) {
      if (t.kind !== 'app' || t.appHostname !== host) continue;
      if (!includeExpired && t.exp <= now) continue;
      if (!best || t.exp > best.exp) best = t;
    }
    return best;
  }

  orgToken(authDomain: string | undefined): StoredToken | undefined {
    if (!authDomain) return undefined;
    const now = Date.now() / 1000;
    return this.tokens().find((t) => t.kind === 'org' && t.authDomain === authDomain && t.exp > now);
  }

  cert(host: string): CertInfo | undefined {
    const c = this.files.get(certFileName(host))?.value;
    return c && !('kind' in c) ? c : undefined;
  }

  /** Everything hostState() needs for `host`, from the cache. */
  input(host: string): { appToken?: TokenInfo; orgToken?: TokenInfo; cert?: CertInfo; error?: HostError; signingIn?: boolean } {
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
    const now = Date.now() / 1000;
    const byDomain = new Map<string, Team>();
    for (const t of this.tokens()) {
      if (!t.authDomain || t.exp <= now) continue;
      const prev = byDomain.get(t.authDomain);
      const email = prev?.email ?? t.email;
      byDomain.set(t.authDomain, {
        authDomain: t.authDomain,
        ...(email !== undefined ? { email } : {}),
        exp: Math.max(prev?.exp ?? 0, t.exp),
        hasOrgToken: (prev?.hasOrgToken ?? false) || t.kind === 'org',
      });
    }
    return [...byDomain.values()].sort((a, b) => a.authDomain.localeCompare(b.authDomain));
  }

  /** The token a session hands out: the team's org token, else its newest app token. */
  async sessionToken(authDomain: string): Promise<string> {
    const now = Date.now() / 1000;
    const candidates = this.tokens()
      .filter((t) => t.authDomain === authDomain && t.exp > now)
      .sort((a, b) => (a.kind === b.kind ? b.exp - a.exp : a.kind === 'org' ? -1 : 1));
    for (const t of candidates) {
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
    this.watcher?.close();
    if (this.pollTimer) clearInterval(this.pollTimer);
    if (this.debounce) clearTimeout(this.debounce);
    this.changed.dispose();
  }
}
