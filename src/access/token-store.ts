// Tokens on disk, in cloudflared's files and with its rules: a token whose
// exp passed, whose audience lacks the app's, or that cannot be read is
// deleted on read, so that it is never sent and never shown as valid.

import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { isFileError } from '../base/file-error.js';
import { checkPrivateDir, readPrivateFile, removePrivateFile, writePrivateFile } from '../base/private-files.js';
import { AccessError, describeError, fromFileError } from './errors.js';
import { decodeClaims, isExpired, parseAppToken, parseOrgToken } from './jwt.js';
import { authDomainOfIssuer } from './auth-domain.js';
import { appTokenFile, appTokenFileName, defaultConfigDir, orgTokenFile, parseCloudflaredFileName } from './paths.js';
import type { AccessClaims, AppInfo, AppToken, OrgToken } from './types.js';
import type { AppHostname } from '../base/hostname.js';

export interface StoredOrgToken {
  readonly authDomain: string;
  readonly email?: string;
  readonly expiresAt: Date;
  readonly file: string;
}

export interface StoredAppToken {
  /** As the file name has it (a wildcard's `*` and a path's `/` read back as `-`). */
  readonly appHostname: string;
  readonly aud: string;
  readonly email?: string;
  readonly issuer: string;
  /** The team of the issuer (authDomainOfIssuer); absent for a foreign issuer. */
  readonly authDomain?: string;
  readonly expiresAt: Date;
  readonly file: string;
}

/** A token file is a JWT of a few KiB; anything much larger is not ours. */
const MAX_TOKEN_BYTES = 64 * 1024;

export class TokenStore {
  /**
   * `onRepaired`: told when a token file that group or others could read was
   * made 0600 (the rule: repair and say so; the CLI and the extension warn).
   */
  constructor(
    readonly dir: string = defaultConfigDir(),
    private readonly onRepaired?: (file: string, oldMode: number) => void,
  ) {}

  /** Throws AccessError('store') when the folder is not ours alone (see checkPrivateDir). */
  async checkDir(): Promise<void> {
    try {
      await checkPrivateDir(this.dir);
    } catch (err) {
      throw fromFileError(err);
    }
  }

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
    return parseAppToken(found.token).token;
  }

  /**
   * The live app token stored for `appHostname` under any audience, with the
   * audience its file is named for (the latest-expiring when there are several).
   * Files that fail the read rules are deleted as by readAppToken.
   */
  async findAppToken(
    appHostname: AppHostname,
    nowSeconds?: number,
  ): Promise<{ token: AppToken; aud: string; claims: AccessClaims } | undefined> {
    const prefix = appTokenFileName(appHostname, '').replace(/-token$/, ''); // `<host>-`
    let best: { token: AppToken; aud: string; claims: AccessClaims } | undefined;
    for (const name of await this.names()) {
      if (!name.startsWith(prefix) || parseCloudflaredFileName(name)?.kind !== 'app-token') continue;
      const found = await this.readValid(join(this.dir, name), nowSeconds);
      const aud = found?.claims.aud.find((a) => a !== '' && appTokenFileName(appHostname, a) === name);
      if (!found || aud === undefined) continue;
      if (!best || found.claims.exp > best.claims.exp) best = { token: parseAppToken(found.token).token, aud, claims: found.claims };
    }
    return best;
  }

  async readOrgToken(authDomain: string, nowSeconds?: number): Promise<OrgToken | undefined> {
    const found = await this.readValid(this.orgTokenPath(authDomain), nowSeconds);
    return found ? parseOrgToken(found.token).token : undefined;
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
      const parsed = parseCloudflaredFileName(name);
      if (parsed?.kind !== 'org-token') continue;
      const file = join(this.dir, name);
      const claims = await this.peek(file);
      if (!claims) continue;
      out.push({
        authDomain: parsed.authDomain,
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
      if (parseCloudflaredFileName(name)?.kind !== 'app-token') continue;
      const file = join(this.dir, name);
      const claims = await this.peek(file);
      if (!claims) continue;
      // Audience tags have no '-', host names may: match against the token's own aud first.
      const parsed = parseCloudflaredFileName(name, claims.aud);
      if (parsed?.kind !== 'app-token') continue;
      const team = authDomainOfIssuer(claims.iss);
      out.push({
        appHostname: parsed.appHostname,
        aud: parsed.aud,
        ...(claims.email !== undefined ? { email: claims.email } : {}),
        issuer: claims.iss,
        ...(team.ok ? { authDomain: team.authDomain } : {}),
        expiresAt: new Date(claims.exp * 1000),
        file,
      });
    }
    return out;
  }

  private async names(): Promise<string[]> {
    try {
      await checkPrivateDir(this.dir, { create: false });
      const entries = await readdir(this.dir, { withFileTypes: true });
      return entries
        .filter((e) => e.isFile() && !e.name.startsWith('.'))
        .map((e) => e.name)
        .sort();
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT' || (err as { cause?: NodeJS.ErrnoException }).cause?.code === 'ENOENT')
        return [];
      if (isFileError(err)) throw fromFileError(err);
      throw new AccessError('store', `Cannot list ${this.dir}: ${describeError(err)}`, { cause: err });
    }
  }

  /** Claims of a token file without judging it; undefined for non-token files. */
  private async peek(file: string): Promise<AccessClaims | undefined> {
    let text: string | undefined;
    try {
      text = await this.readToken(file);
    } catch {
      return undefined; // listing shows what is usable; reading reports the rest
    }
    try {
      return text === undefined ? undefined : decodeClaims(text);
    } catch {
      return undefined;
    }
  }

  /** A token file through the private file layer: no symlink, ours, 0600 (repaired). */
  private async readToken(file: string): Promise<string | undefined> {
    try {
      const buf = await readPrivateFile(file, {
        sensitivity: 'repair',
        maxBytes: MAX_TOKEN_BYTES,
        ...(this.onRepaired ? { onRepaired: this.onRepaired } : {}),
      });
      return buf?.toString('utf8').trim();
    } catch (err) {
      throw fromFileError(err);
    }
  }

  private async readValid(file: string, nowSeconds?: number): Promise<{ token: string; claims: AccessClaims } | undefined> {
    const token = await this.readToken(file);
    if (token === undefined) return undefined;
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
    try {
      await writePrivateFile(file, content, 0o600);
    } catch (err) {
      throw fromFileError(err);
    }
  }

  private async remove(file: string): Promise<void> {
    try {
      await removePrivateFile(file);
    } catch (err) {
      throw fromFileError(err);
    }
  }
}
