// `ssh-gen --hostname H`: make sure a certificate for H is valid, as ssh_config's
// `Match exec` runs it before every connection. The fast path (a cached
// certificate valid beyond the margin) reads three small files and exits: it
// loads neither sshpk nor the token store, the HTTPS client, ws or jose.

import { boolFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import { createContext, loginOptions, type Runtime } from '../runtime.js';
import { DEFAULT_MAX_VALIDITY_SECONDS, DEFAULT_RENEW_MARGIN_SECONDS, isoTime, usableCachedCertificate } from '../../access/cert-file.js';
import { defaultConfigDir } from '../../access/paths.js';
import { isAccessError } from '../../access/errors.js';

export function renewMargin(rt: Runtime): number {
  const raw = rt.env['ACCESS_SSH_RENEW_MARGIN'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_RENEW_MARGIN_SECONDS;
  if (!/^\d+$/.test(raw.trim())) throw new UsageError(`ACCESS_SSH_RENEW_MARGIN must be a whole number of seconds, not "${raw}".`);
  return Number(raw.trim());
}

/** ACCESS_SSH_MAX_CERT_HOURS: the longest certificate validity accepted (default 24 h; 1 to 8760). */
export function maxCertValidity(rt: Pick<Runtime, 'env'>): number {
  const raw = rt.env['ACCESS_SSH_MAX_CERT_HOURS'];
  if (raw === undefined || raw.trim() === '') return DEFAULT_MAX_VALIDITY_SECONDS;
  const hours = Number(raw.trim());
  if (!/^\d+(\.\d+)?$/.test(raw.trim()) || hours <= 0 || hours > 8760) {
    throw new UsageError(
      `ACCESS_SSH_MAX_CERT_HOURS must be a number of hours above 0 and at most 8760, not ${JSON.stringify(raw.slice(0, 20))}.`,
    );
  }
  return Math.round(hours * 3600);
}

/**
 * The whole non-interactive ssh-gen (Match exec of the entries written for
 * Remote-SSH), lock waits and every request included: well inside Remote-SSH's
 * 15 s connect timeout, so that our message reaches the user before its timeout does.
 */
export const NON_INTERACTIVE_BUDGET_MS = 8000;

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const { host, appUrl } = parseTarget(stringFlag(p, 'hostname'), 'ssh-gen');
  const margin = renewMargin(rt);
  const maxValidity = maxCertValidity(rt);
  const interactive = !boolFlag(p, 'non-interactive');

  // The fast path is ensureCertificate's own first step, run before the context and
  // the flow modules are loaded at all.
  const { cert: cached } = await usableCachedCertificate(defaultConfigDir(), host, {
    now: new Date(),
    marginSeconds: margin,
    maxValiditySeconds: maxValidity,
  });
  if (cached) {
    rt.log.debug(`Certificate for ${host} is valid until ${isoTime(cached.validBefore)}; nothing to do`);
    return 0;
  }

  const [ctx, { ensureCertificate }, { AccessError }] = await Promise.all([
    createContext(rt),
    import('../../access/cert.js'),
    import('../../access/errors.js'),
  ]);
  const budget = new AbortController();
  const outOfTime = new AccessError(
    'timeout',
    `Renewing the certificate for ${host} did not finish within ${NON_INTERACTIVE_BUDGET_MS / 1000}s`,
    {
      hint: 'Check the network connection (and ACCESS_SSH_CONNECT_TO, if set); if another sign-in is under way, finish it and connect again.',
    },
  );
  const timer = interactive ? undefined : setTimeout(() => budget.abort(outOfTime), NON_INTERACTIVE_BUDGET_MS);
  const deadline = new Promise<never>((_resolve, reject) => {
    budget.signal.addEventListener('abort', () => reject(outOfTime), { once: true });
  });
  deadline.catch(() => undefined);
  let result: Awaited<ReturnType<typeof ensureCertificate>>;
  try {
    // The race: a step that ignores the signal still cannot hold ssh past the budget.
    result = await Promise.race([
      ensureCertificate(ctx, host, {
        marginSeconds: margin,
        maxValiditySeconds: maxValidity,
        appUrl,
        login: { ...loginOptions(rt, interactive, boolFlag(p, 'fedramp')), ...(interactive ? {} : { signal: budget.signal }) },
      }),
      deadline,
    ]);
  } catch (err) {
    if (budget.signal.aborted) throw outOfTime;
    // In the written entries the ProxyCommand runs next and says "not signed in" itself:
    // one message, not the same one twice.
    if (boolFlag(p, 'quiet-signed-out') && isAccessError(err, 'login-required')) {
      rt.log.debug(`Not signed in for ${host}; the ProxyCommand reports it`);
      return 1;
    }
    throw err;
  } finally {
    if (timer) clearTimeout(timer);
  }
  const { cert, renewed } = result;
  if (!renewed) rt.log.debug(`Certificate for ${host} is valid until ${isoTime(cert.validBefore)}`);
  return 0;
}
