// `login <url>`: the browser login; the token lands in ~/.cloudflared.
// cloudflared prints the token by default; we print who signed in (stderr)
// and print the token only when asked (--no-verbose, or --app as cloudflared).

import { displayText } from '../../base/display.js';
import { boolFlag, type ParsedCommand } from '../args.js';
import { appTarget } from '../host.js';
import { createContext, loginOptions, type Runtime } from '../runtime.js';

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const { host, appUrl, fromAppFlag } = appTarget(p, 'login');
  const ctx = await createContext(rt);
  const { login } = await import('../../access/token-flow.js');
  const { appToken: token, claims } = await login(ctx, appUrl, loginOptions(rt, true, boolFlag(p, 'fedramp')));
  if (boolFlag(p, 'quiet')) return 0;
  if (boolFlag(p, 'no-verbose') || fromAppFlag) {
    rt.stdout.write(token);
    return 0;
  }
  // The e-mail is the edge's word: escaped and capped before it reaches the terminal.
  const who = claims.email ? ` as ${displayText(claims.email, 120)}` : '';
  rt.stderr.write(`Signed in to ${host}${who}; the token is valid until ${new Date(claims.exp * 1000).toISOString()}.\n`);
  return 0;
}
