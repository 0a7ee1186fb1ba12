// `ssh|tcp|rdp|smb --hostname H` (one command under four names, as in cloudflared).
// Without --url: the ProxyCommand, stdin/stdout ↔ the Access carrier; stdout
// carries only SSH bytes, every message goes to stderr.
// With --url host:port (or the address as the argument): a local listener that
// carries each accepted connection over its own carrier (src/access/forwarder.ts).

import { runExitCleanups, takeOverSignals } from '../../base/cleanup.js';
import { boolFlag, listFlag, stringFlag, UsageError, type ParsedCommand } from '../args.js';
import { checkDestination, JUMP_DESTINATION_HEADER, parseHeaders } from '../headers.js';
import { parseTarget } from '../host.js';
import { parseListenAddress } from '../listen-address.js';
import { createContext, loginOptions, type Runtime } from '../runtime.js';

export async function run(rt: Runtime, p: ParsedCommand): Promise<number> {
  const name = p.command.name;
  const { host, appUrl } = parseTarget(stringFlag(p, 'hostname'), name);
  const id = stringFlag(p, 'service-token-id');
  const secret = stringFlag(p, 'service-token-secret');
  if ((id === undefined) !== (secret === undefined)) {
    throw new UsageError('--service-token-id and --service-token-secret go together.', name);
  }
  const headers = parseHeaders(listFlag(p, 'header'), name);
  const destination = checkDestination(stringFlag(p, 'destination'), name);
  if (destination !== undefined) headers[JUMP_DESTINATION_HEADER] = destination;

  const url = stringFlag(p, 'url');
  if (url !== undefined && p.positionals.length > 0) {
    throw new UsageError('Give the listener address once: --url or the argument, not both (as cloudflared says).', name);
  }
  const listenValue = url ?? p.positionals[0];
  const listen = listenValue === undefined ? undefined : parseListenAddress(listenValue, name);
  const maxConnections = parseMax(stringFlag(p, 'max-connections'), name);
  if (maxConnections !== undefined && !listen) throw new UsageError('--max-connections goes with --url.', name);

  const interactive = !boolFlag(p, 'non-interactive');
  const ctx = await createContext(rt);
  const { COLLECT_EVERY_BYTES, openCarrier, pipeCarrier } = await import('../../access/carrier.js');
  const carrierOptions = {
    appUrl,
    login: loginOptions(rt, interactive, boolFlag(p, 'fedramp')),
    headers,
    ...(id !== undefined && secret !== undefined ? { serviceToken: { clientId: id, clientSecret: secret } } : {}),
  };
  if (Object.keys(headers).length > 0) rt.log.debug(`Extra carrier headers: ${Object.keys(headers).join(', ')}`);

  if (!listen) {
    const ws = await openCarrier(ctx, host, carrierOptions);
    // Bounded memory under bulk transfers: a young-generation collection every few MiB
    // carried (carrier.ts `collect`; where the runtime refuses, V8's own schedule).
    await pipeCarrier(ws, rt.stdin, rt.stdout, { log: rt.log, collect: { everyBytes: COLLECT_EVERY_BYTES, run: collectorOnFirstUse() } });
    return 0;
  }

  const { runForwarder } = await import('../../access/forwarder.js');
  if (listen.exposed) {
    rt.log.warn(`Listening on ${listen.host}, not a loopback address: anyone who can reach it uses your Access identity for ${host}`);
  }
  const { signal, dispose } = shutdownSignal(rt);
  try {
    const stats = await runForwarder({
      listen,
      open: () => openCarrier(ctx, host, carrierOptions),
      log: rt.log,
      signal,
      ...(maxConnections !== undefined ? { maxConnections } : {}),
      onListening: (a) => {
        const at = a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`;
        rt.log.info(`Listening on ${at}: each connection is carried to ${host} over Access (Ctrl-C stops)`);
      },
    });
    rt.log.info(`Stopped: ${stats.accepted} connection(s) accepted, ${stats.failed} failed, ${stats.refused} refused`);
    return 0;
  } finally {
    dispose();
  }
}

/**
 * The collection, with gc.ts (and node:v8, node:vm) loaded at the first call: neither the
 * first byte nor a session that carries less than 2 MiB pays for them (docs/BENCHMARKS.md).
 * The first call starts the loading and collects once it is loaded (a tick later).
 */
function collectorOnFirstUse(): () => void {
  let collect: (() => void) | undefined;
  let loading = false;
  return () => {
    if (collect) collect();
    else if (!loading) {
      loading = true;
      void import('../gc.js').then(
        (m) => {
          collect = m.lazyMinorCollector();
          collect(); // the collection this call asked for, as soon as it can run
        },
        () => {}, // no collector: V8's own schedule
      );
    }
  };
}

function parseMax(value: string | undefined, command: string): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d+$/.test(value.trim()) || Number(value) < 1 || Number(value) > 100_000) {
    throw new UsageError(`--max-connections takes a whole number from 1 to 100000, not "${value}".`, command);
  }
  return Number(value);
}

/** rt.shutdown, else SIGINT/SIGTERM of this process (a second one exits at once). */
function shutdownSignal(rt: Runtime): { signal: AbortSignal; dispose: () => void } {
  if (rt.shutdown) return { signal: rt.shutdown, dispose: () => {} };
  const ac = new AbortController();
  // The process-wide handler (main.ts) would exit at once: the listener drains first.
  const release = takeOverSignals();
  const onSignal = (sig: NodeJS.Signals): void => {
    if (ac.signal.aborted) {
      runExitCleanups();
      process.exit(sig === 'SIGINT' ? 130 : 143);
    }
    rt.log.info(`${sig}: closing the connections (again to stop at once)`);
    ac.abort();
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  return {
    signal: ac.signal,
    dispose: () => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      release();
    },
  };
}
