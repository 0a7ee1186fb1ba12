// `token <url>`: print the stored app token (no login: that is `login`).

import { AccessError } from '../../access/errors.js';
import { stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import { createContext, type Runtime } from '../runtime.js';

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const positional = p.positionals[0];
  const appFlag = stringFlag(p, 'app');
  if (positional !== undefined && appFlag !== undefined)
    throw new UsageError('Give the URL either as the argument or with --app, not both.', 'token');
  const { host, appUrl } = parseTarget(positional ?? appFlag, 'token', 'the application URL');
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
