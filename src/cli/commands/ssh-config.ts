// `ssh-config --hostname H [--short-lived-cert]`: print an ssh_config example
// to paste, as cloudflared does (the VS Code extension writes its own entries).

import * as os from 'node:os';
import { shellWord } from '../../ssh/quote.js';
import { boolFlag, stringFlag, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import type { Runtime } from '../runtime.js';

/** The command line that runs this helper again: this runtime and this script. */
export function helperCommand(self: readonly string[]): string {
  return self.length > 0 ? self.map(shellWord).join(' ') : 'access-ssh';
}

export function renderSshConfig(hostname: string | undefined, shortLived: boolean, helper: string, home: string): string {
  const host = hostname ?? '[your hostname]';
  if (shortLived) {
    return `
Add to your ${home}/.ssh/config:
Match host ${host} exec "${helper.replace(/"/g, '\\"')} ssh-gen --hostname %h"
  ProxyCommand ${helper} ssh --hostname %h
  IdentityFile ~/.cloudflared/%h-cf_key
  CertificateFile ~/.cloudflared/%h-cf_key-cert.pub
`;
  }
  return `
Add to your ${home}/.ssh/config:
Host ${host}
  ProxyCommand ${helper} ssh --hostname %h
`;
}

export function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const raw = stringFlag(p, 'hostname');
  const host = raw === undefined ? undefined : parseTarget(raw, 'ssh-config').host;
  const home = rt.env['HOME'] ?? rt.env['USERPROFILE'] ?? os.homedir();
  // --fedramp goes before the subcommand, where cloudflared access takes it too.
  const helper = helperCommand(rt.self) + (boolFlag(p, 'fedramp') ? ' --fedramp' : '');
  rt.stdout.write(renderSshConfig(host, boolFlag(p, 'short-lived-cert'), helper, home));
  return Promise.resolve(0);
}
