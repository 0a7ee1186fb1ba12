// `ssh-gen --hostname H`: make sure a certificate for H is valid, as ssh_config's
// `Match exec` runs it before every connection. The fast path (a cached
// certificate valid beyond the margin) reads three small files and exits: it
// loads neither sshpk nor the token store, the HTTPS client, ws or jose.

import { boolFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import { createContext, loginOptions, type Runtime } from '../runtime.js';
import { DEFAULT_RENEW_MARGIN_SECONDS, readCachedCertificate, unusableReason } from '../../access/cert-file.js';
import { defaultConfigDir } from '../../access/paths.js';
import { isAccessError } from '../../access/errors.js';

export function renewMargin(rt: Runtime): number {
  const raw = rt.env['ACCESS_SSH_RENEW_MARGIN'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_RENEW_MARGIN_SECONDS;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`ACCESS_SSH_RENEW_MARGIN must be a whole number of seconds, not "${raw}".`);
  return Number(raw.trim());
}

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const { host, appUrl } = parseTarget(stringFlag(p, 'hostname'), 'ssh-gen');
  const margin = renewMargin(rt);
  const interactive = !boolFlag(p, 'non-interactive');

  const { cert: cached } = await readCachedCertificate(defaultConfigDir(), host);
  if (cached && unusableReason(cached, new Date(), margin) === undefined) {
    rt.log.debug(`Certificate for ${host} is valid until ${cached.validBefore.toISOString()}; nothing to do`);
    return 0;
  }

  const [ctx, { ensureCertificate }] = await Promise.all([createContext(rt), import('../../access/cert.js')]);
  let result;
  try {
    result = await ensureCertificate(ctx, host, {
      marginSeconds: margin,
      appUrl,
      login: loginOptions(rt, interactive, boolFlag(p, 'fedramp')),
    });
  } catch (err) {
    // In the written entries the ProxyCommand runs next and says "not signed in" itself:
    // one message, not the same one twice.
    if (boolFlag(p, 'quiet-signed-out') && isAccessError(err, 'login-required')) {
      rt.log.debug(`Not signed in for ${host}; the ProxyCommand reports it`);
      return 1;
    }
    throw err;
  }
  const { cert, renewed } = result;
  if (!renewed) rt.log.debug(`Certificate for ${host} is valid until ${cert.validBefore.toISOString()}`);
  return 0;
}
