// `token <url>`: print the stored app token (no login: that is `login`).

import { AccessError } from '../../access/errors.js';
import type { ParsedCommand } from '../args.js';
import { appTarget } from '../host.js';
import { createContext, type Runtime } from '../runtime.js';

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const { host, appUrl } = appTarget(p, 'token');
  const ctx = await createContext(rt);
  const { discoverApp } = await import('../../access/metadata.js');
  const appInfo = await discoverApp(ctx.http, appUrl);
  const token = await ctx.store.readAppToken(appInfo);
  if (token === undefined) {
    throw new AccessError('login-required', `No valid token for ${host} is stored.`, { action: 'sign-in', host });
  }
  rt.stdout.write(token);
  return 0;
}
