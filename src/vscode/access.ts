// The Access layer as the extension uses it: one AccessContext built from the
// settings (connect-to rules, extra CA, the shared token store), and the few
// flows the editor runs in process (login, logout, certificate, app token
// renewal). Rebuilt when the settings change.

import { ensureCertificate, type EnsureResult } from '../access/cert.js';
import { HttpClient } from '../access/http.js';
import { TokenStore } from '../access/token-store.js';
import { login, logout, renewAppToken, type AccessContext, type LoginOptions, type LoginResult } from '../access/token-flow.js';
import type { AppInfo } from '../access/types.js';
import type { ExtensionLog } from './log.js';
import { helperEnv, readSettings, type Settings } from './settings.js';

export class AccessService {
  private cached: { key: string; ctx: AccessContext } | undefined;

  constructor(private readonly log: ExtensionLog) {}

  settings(): Settings {
    return readSettings();
  }

  /** The context for the current settings (a bad extra CA file throws an AccessError with a hint). */
  context(): AccessContext {
    const env = helperEnv(this.settings());
    const key = JSON.stringify(env);
    if (this.cached?.key !== key) {
      const http = HttpClient.fromEnv({ ...env }, this.log);
      this.cached = { key, ctx: { http, store: new TokenStore(), log: this.log } };
    }
    return this.cached.ctx;
  }

  get storeDir(): string {
    return this.context().store.dir;
  }

  async login(host: string, opts: Omit<LoginOptions, 'interactive'>): Promise<LoginResult> {
    const s = this.settings();
    return await login(this.context(), new URL(`https://${host}/`), {
      interactive: true,
      timeoutMs: s.loginTimeoutSeconds * 1000,
      ...opts,
    });
  }

  async logout(authDomain: string): Promise<string[]> {
    return await logout(this.context(), authDomain);
  }

  /** A certificate valid beyond the renewal margin, without ever opening a browser. */
  async ensureCertificate(host: string, signal?: AbortSignal): Promise<EnsureResult> {
    const s = this.settings();
    return await ensureCertificate(this.context(), host, {
      marginSeconds: s.renewalMarginSeconds,
      login: { interactive: false, ...(signal ? { signal } : {}) },
    });
  }

  /** Exchange the team's org token for a new app token (no browser). */
  async renewAppToken(appInfo: AppInfo): Promise<boolean> {
    const token = await renewAppToken(this.context(), new URL(`https://${appInfo.appHostname}/`), appInfo);
    return token !== undefined;
  }

  async listAppTokens() {
    return await this.context().store.listAppTokens();
  }
}
