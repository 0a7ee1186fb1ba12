// The one seam between activation and the Access flows. Activating, building the
// view and watching ~/.cloudflared need only light modules (settings, paths, the
// token and certificate readers of src/access/). The flows (HTTPS client, token
// flow, certificate renewal and sshpk's full check) and the packages behind them
// load at the first sign-in, connect, renewal or certificate view, from here.

export type AccessModules = typeof import('./access-modules.js');

let loading: Promise<AccessModules> | undefined;

/** The Access flow modules, loaded once on first use. */
export function accessModules(): Promise<AccessModules> {
  return (loading ??= import('./access-modules.js'));
}
