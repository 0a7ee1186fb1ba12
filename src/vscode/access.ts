// The Access layer as the extension uses it: one AccessContext built from the
// settings (connect-to rules, extra CA, the shared token store), and the few
// flows the editor runs in process (login, logout, certificate, app token
// renewal). Rebuilt when the settings change.

import type { Hostname } from '../ssh/validate.js';
import type { EnsureResult } from '../access/cert.js';
import { TokenStore } from '../access/token-store.js';
import type { AccessContext, LoginOptions, LoginResult } from '../access/token-flow.js';
import type { AppInfo } from '../access/types.js';
import { accessModules } from './lazy.js';
import type { ExtensionLog } from './log.js';
import { inProcessEnv, readSettings, type Settings } from './settings.js';

export class AccessService {
  private cached: { key: string; ctx: AccessContext } | undefined;

  /** `version`: the extension's, for the User-Agent (`access-ssh/<version> vscode`). */
  constructor(
    private readonly log: ExtensionLog,
    private readonly version = 'dev',
  ) {}

  settings(): Settings {
    return readSettings();
  }

  /** The context for the current settings (a bad extra CA file throws an AccessError with a hint). */
  async context(): Promise<AccessContext> {
    const { HttpClient } = await accessModules();
    const env = inProcessEnv(this.settings());
    const key = JSON.stringify(env);
    if (this.cached?.key !== key) {
      const http = HttpClient.fromEnv({ ...env }, this.log, { userAgent: `access-ssh/${this.version} vscode` });
      // A token others could read is made 0600 (the rule: repair and say so).
      const store = new TokenStore(undefined, (file, mode) => {
        this.log.warn(
          `${file} could be read by others (mode ${mode.toString(8).padStart(4, '0')}); it was made 0600. If others may have read it, sign in again.`,
        );
      });
      this.cached = { key, ctx: { http, store, log: this.log } };
    }
    return this.cached.ctx;
  }

  /** A browser login through `host`; `opts.fedramp` for a host of a FedRAMP account (its `fedramp` entry field). */
  async login(host: Hostname, opts: Omit<LoginOptions, 'interactive'>): Promise<LoginResult> {
    const s = this.settings();
    const { login } = await accessModules();
    return await login(await this.context(), new URL(`https://${host}/`), {
      interactive: true,
      timeoutMs: s.loginTimeoutSeconds * 1000,
      ...opts,
    });
  }

  /** Is `host` an Access application, and of which team? (HEAD with the metadata header; no token, no browser.) */
  async discover(host: Hostname): Promise<AppInfo> {
    const { discoverApp } = await accessModules();
    return await discoverApp((await this.context()).http, new URL(`https://${host}/`));
  }

  async logout(authDomain: string): Promise<string[]> {
    const { logout } = await accessModules();
    return await logout(await this.context(), authDomain);
  }

  /** A certificate valid beyond the renewal margin, without ever opening a browser. */
  async ensureCertificate(host: Hostname, signal?: AbortSignal, fedramp = false): Promise<EnsureResult> {
    const s = this.settings();
    const { ensureCertificate } = await accessModules();
    return await ensureCertificate(await this.context(), host, {
      marginSeconds: s.renewalMarginSeconds,
      login: { interactive: false, ...(fedramp ? { fedramp } : {}), ...(signal ? { signal } : {}) },
    });
  }

  /** Exchange the team's org token for a new app token (no browser). */
  async renewAppToken(appInfo: AppInfo): Promise<boolean> {
    const { renewAppToken } = await accessModules();
    const token = await renewAppToken(await this.context(), new URL(`https://${appInfo.appHostname}/`), appInfo);
    return token !== undefined;
  }

  async listAppTokens() {
    return await new TokenStore().listAppTokens();
  }
}
