// What is on disk in ~/.cloudflared (shared with the helper and any cloudflared
// install), as the editor shows it: org tokens per team, app tokens per application
// host, certificates per host. One scan reads the directory and re-reads only the files
// whose size, mtime or inode changed, so 1,000 hosts cost one readdir and a stat each.
// File names are read by src/access/paths.ts's parser; a token's team by the one
// issuer rule (src/access/auth-domain.ts). No editor: src/vscode/access-state.ts
// decides when to scan.

import { type Stats, promises as fsp } from 'node:fs';
import { join } from 'node:path';
import { authDomainOfIssuer } from '../access/auth-domain.js';
import { readCachedCertificate } from '../access/cert-file.js';
import { decodeClaims } from '../access/jwt.js';
import { certFileName, parseCloudflaredFileName } from '../access/paths.js';
import type { Logger } from '../access/types.js';
import { displayText } from '../base/display.js';
import { readPrivateFile } from '../base/private-files.js';
import { parseHostname, type Hostname } from '../ssh/validate.js';
import { certInfoOf, type CertificateOnDisk, type CertInfo } from './state.js';
import type { StoredToken } from './teams.js';

/** The longest e-mail address (RFC 5321's path limit); a longer claim is cut when shown. */
const EMAIL_MAX = 254;

interface Cached {
  readonly stamp: string;
  readonly value: StoredToken | CertInfo | undefined;
}

export interface TokenFilesOptions {
  /**
   * The full certificate check (sshpk), for a pair the light reader cannot vouch for
   * (no `.pub` beside the key, say); the editor loads it on demand.
   */
  readonly readFullCertificate: (dir: string, host: Hostname) => Promise<CertificateOnDisk | undefined>;
  readonly log: Pick<Logger, 'debug'>;
}

export class TokenFiles {
  private readonly files = new Map<string, Cached>();

  constructor(
    readonly dir: string,
    private readonly opts: TokenFilesOptions,
  ) {}

  /** One pass over the directory; true when anything changed. A missing directory is an empty one. */
  async scan(): Promise<boolean> {
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
        const host = parseHostname(kind.host);
        if (host === undefined) return undefined; // not a host name: no host's row shows it
        // The light reader (no sshpk) first.
        const cert = (await readCachedCertificate(this.dir, host)).cert ?? (await this.opts.readFullCertificate(this.dir, host));
        return cert ? certInfoOf(cert) : undefined;
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
      this.opts.log.debug(`Skipping ${name}: ${err instanceof Error ? err.message : String(err)}`);
      return undefined;
    }
  }

  /** Every readable token file, as of the last scan. */
  tokens(): StoredToken[] {
    const out: StoredToken[] = [];
    for (const c of this.files.values()) if (c.value && 'kind' in c.value) out.push(c.value);
    return out;
  }

  /** The host's certificate, as of the last scan. */
  cert(host: Hostname): CertInfo | undefined {
    const c = this.files.get(certFileName(host))?.value;
    return c && !('kind' in c) ? c : undefined;
  }
}
