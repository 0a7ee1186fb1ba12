// `ssh --hostname H`: the ProxyCommand. stdin/stdout ↔ the Access carrier;
// stdout carries only SSH bytes, every message goes to stderr.

import { boolFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { parseTarget } from '../host.js';
import { createContext, loginOptions, type Runtime } from '../runtime.js';

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const { host, appUrl } = parseTarget(stringFlag(p, 'hostname'), 'ssh');
  const id = stringFlag(p, 'service-token-id');
  const secret = stringFlag(p, 'service-token-secret');
  if ((id === undefined) !== (secret === undefined)) {
    throw new UsageError('--service-token-id and --service-token-secret go together.', 'ssh');
  }
  const interactive = !boolFlag(p, 'non-interactive');
  const ctx = await createContext(rt);
  const { openCarrier, pipeCarrier } = await import('../../access/carrier.js');
  const ws = await openCarrier(ctx, host, {
    appUrl,
    login: loginOptions(rt, interactive, boolFlag(p, 'fedramp')),
    ...(id !== undefined && secret !== undefined ? { serviceToken: { clientId: id, clientSecret: secret } } : {}),
  });
  await pipeCarrier(ws, rt.stdin, rt.stdout, { log: rt.log });
  return 0;
}
