// Tokens on disk, in cloudflared's files and with its rules: a token whose
// exp passed, whose audience lacks the app's, or that cannot be read is
// deleted on read, so that it is never sent and never shown as valid.

import { chmod, mkdir, readFile, readdir, rename, rm, writeFile } from 'node:fs/promises';
import { basename, join } from 'node:path';
import { AccessError, describeError } from './errors.js';
import { decodeClaims, isExpired } from './jwt.js';
import { appTokenFile, appTokenFileName, defaultConfigDir, orgTokenFile } from './paths.js';
import type { AccessClaims, AppInfo, AppToken, OrgToken } from './types.js';

const ORG_SUFFIX = '-org-token';
const APP_SUFFIX = '-token';

export interface StoredOrgToken {
  readonly authDomain: string;
  readonly email?: string;
  readonly expiresAt: Date;
  readonly file: string;
}

export interface StoredAppToken {
  readonly appHostname: string;
  readonly aud: string;
  readonly email?: string;
  readonly issuer: string;
  readonly expiresAt: Date;
  readonly file: string;
}

export class TokenStore {
  constructor(readonly dir: string = defaultConfigDir()) {}

  appTokenPath(app: AppInfo): string {
    return appTokenFile(this.dir, app.appHostname, app.appAud);
  }

  orgTokenPath(authDomain: string): string {
    return orgTokenFile(this.dir, authDomain);
  }

  /** The stored app token, if it is still usable for `app`; otherwise the file is removed. */
  async readAppToken(app: AppInfo, nowSeconds?: number): Promise<AppToken | undefined> {
    const file = this.appTokenPath(app);
    const found = await this.readValid(file, nowSeconds);
    if (!found) return undefined;
    if (!found.claims.aud.includes(app.appAud)) {
      await this.remove(file);
      return undefined;
    }
    return found.token as AppToken;
  }

  /**
   * The live app token stored for `appHostname` under any audience, with the
   * audience its file is named for (the latest-expiring when there are several).
   * Files that fail the read rules are deleted as by readAppToken.
   */
  async findAppToken(appHostname: string, nowSeconds?: number): Promise<{ token: AppToken; aud: string; claims: AccessClaims } | undefined> {
    const prefix = appTokenFileName(appHostname, '').slice(0, -APP_SUFFIX.length);
    let best: { token: AppToken; aud: string; claims: AccessClaims } | undefined;
    for (const name of await this.names()) {
      if (!name.startsWith(prefix) || !name.endsWith(APP_SUFFIX) || name.endsWith(ORG_SUFFIX)) continue;
      const found = await this.readValid(join(this.dir, name), nowSeconds);
      const aud = found?.claims.aud.find((a) => a !== '' && appTokenFileName(appHostname, a) === name);
      if (!found || aud === undefined) continue;
      if (!best || found.claims.exp > best.claims.exp) best = { token: found.token as AppToken, aud, claims: found.claims };
    }
    return best;
  }

  async readOrgToken(authDomain: string, nowSeconds?: number): Promise<OrgToken | undefined> {
    const found = await this.readValid(this.orgTokenPath(authDomain), nowSeconds);
    return found ? (found.token as OrgToken) : undefined;
  }

  async writeAppToken(app: AppInfo, token: AppToken): Promise<void> {
    await this.writeAtomic(this.appTokenPath(app), token);
  }

  async writeOrgToken(authDomain: string, token: OrgToken): Promise<void> {
    await this.writeAtomic(this.orgTokenPath(authDomain), token);
  }

  async deleteAppToken(app: AppInfo): Promise<void> {
    await this.remove(this.appTokenPath(app));
  }

  async deleteOrgToken(authDomain: string): Promise<void> {
    await this.remove(this.orgTokenPath(authDomain));
  }

  /** Org tokens on disk (expired ones included: listing never deletes). */
  async listOrgTokens(): Promise<StoredOrgToken[]> {
    const out: StoredOrgToken[] = [];
    for (const name of await this.names()) {
      if (!name.endsWith(ORG_SUFFIX)) continue;
      const file = join(this.dir, name);
      const claims = await this.peek(file);
      if (!claims) continue;
      out.push({
        authDomain: name.slice(0, -ORG_SUFFIX.length),
        ...(claims.email !== undefined ? { email: claims.email } : {}),
        expiresAt: new Date(claims.exp * 1000),
        file,
      });
    }
    return out;
  }

  /** App tokens on disk, names parsed back into host and audience (expired ones included). */
  async listAppTokens(): Promise<StoredAppToken[]> {
    const out: StoredAppToken[] = [];
    for (const name of await this.names()) {
      if (!name.endsWith(APP_SUFFIX) || name.endsWith(ORG_SUFFIX)) continue;
      const stem = name.slice(0, -APP_SUFFIX.length);
      const file = join(this.dir, name);
      const claims = await this.peek(file);
      if (!claims) continue;
      // Audience tags have no '-', host names may: match against the token's own aud first.
      const escaped = (s: string): string => s.replace(/[/*]/g, '-');
      const aud = claims.aud.find((a) => a !== '' && stem.endsWith(`-${escaped(a)}`) && stem.length > escaped(a).length + 1)
        ?? stem.slice(stem.lastIndexOf('-') + 1);
      const appHostname = stem.slice(0, stem.length - escaped(aud).length - 1);
      if (appHostname === '' || aud === '') continue;
      out.push({
        appHostname,
        aud,
        ...(claims.email !== undefined ? { email: claims.email } : {}),
        issuer: claims.iss,
        expiresAt: new Date(claims.exp * 1000),
        file,
      });
    }
    return out;
  }

  private async names(): Promise<string[]> {
    try {
      const entries = await readdir(this.dir, { withFileTypes: true });
      return entries.filter((e) => e.isFile() && !e.name.startsWith('.')).map((e) => e.name).sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw new AccessError('store', `Cannot list ${this.dir}: ${describeError(err)}`, { cause: err });
    }
  }

  /** Claims of a token file without judging it; undefined for non-token files. */
  private async peek(file: string): Promise<AccessClaims | undefined> {
    try {
      return decodeClaims(await readFile(file, 'utf8'));
    } catch {
      return undefined;
    }
  }

  private async readValid(file: string, nowSeconds?: number): Promise<{ token: string; claims: AccessClaims } | undefined> {
    let token: string;
    try {
      token = (await readFile(file, 'utf8')).trim();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw new AccessError('store', `Cannot read ${file}: ${describeError(err)}`, { cause: err });
    }
    let claims: AccessClaims;
    try {
      claims = decodeClaims(token);
    } catch {
      await this.remove(file);
      return undefined;
    }
    if (isExpired(claims, nowSeconds)) {
      await this.remove(file);
      return undefined;
    }
    return { token, claims };
  }

  private async writeAtomic(file: string, content: string): Promise<void> {
    const tmp = join(this.dir, `.${basename(file)}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`);
    try {
      await mkdir(this.dir, { recursive: true, mode: 0o700 });
      await writeFile(tmp, content, { mode: 0o600, flag: 'wx' });
      await chmod(tmp, 0o600); // umask cannot loosen it, but be explicit
      await rename(tmp, file);
    } catch (err) {
      await rm(tmp, { force: true }).catch(() => undefined);
      throw new AccessError('store', `Cannot write ${file}: ${describeError(err)}`, { cause: err });
    }
  }

  private async remove(file: string): Promise<void> {
    try {
      await rm(file, { force: true });
    } catch (err) {
      throw new AccessError('store', `Cannot delete ${file}: ${describeError(err)}`, { cause: err });
    }
  }
}
