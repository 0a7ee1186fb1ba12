// Shared by the ~/.cloudflared file-layer tests (unit and integration): an app, a token
// for it, and a home with a ~/.cloudflared of a given mode.
import { parseAppToken } from '../../../src/access/jwt.js';
import * as fs from 'node:fs';
import * as path from 'node:path';
import type { TestContext } from 'node:test';
import { forgetCheckedDirs } from '../../../src/base/private-files.js';
import type { AppInfo, AppToken } from '../../../src/access/types.js';
import { hostname } from '../../support/hostname.js';
import { tempDir } from '../../support/tmp.js';

export const posix = process.platform !== 'win32';
export const APP: AppInfo = { authDomain: 'team.cloudflareaccess.com', appAud: 'a'.repeat(64), appHostname: hostname('ssh.example.com') };

export function jwt(claims: Record<string, unknown>): AppToken {
  const b = (o: unknown): string => Buffer.from(JSON.stringify(o)).toString('base64url');
  return parseAppToken(`${b({ alg: 'RS256' })}.${b(claims)}.c2ln`).token;
}
export const TOKEN = jwt({
  aud: [APP.appAud],
  exp: Math.floor(Date.now() / 1000) + 3600,
  iss: 'https://team.cloudflareaccess.com',
  email: 'jdoe@example.com',
});

/** A home like a user's (0755) with a ~/.cloudflared of `mode`. */
export function home(t: TestContext, mode: number): { home: string; dir: string } {
  const h = tempDir(t, 'access-priv-');
  fs.chmodSync(h, 0o755);
  const dir = path.join(h, '.cloudflared');
  fs.mkdirSync(dir);
  fs.chmodSync(dir, mode);
  forgetCheckedDirs();
  return { home: h, dir };
}
