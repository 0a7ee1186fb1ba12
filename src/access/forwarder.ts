// The local listener of `cloudflared access tcp --url host:port` (carrier.StartForwarder
// and Serve): every accepted TCP connection is carried over its own websocket to the
// Access application, so that any TCP client (a database client, RDP, SMB, ssh
// without a ProxyCommand) reaches the service behind Access.
//
// Beyond cloudflared: the number of connections carried at once is bounded (more are
// refused at once, and said so); one connection failing ends only that connection;
// shutdown stops accepting, closes each carrier with a close frame and waits (a
// bounded time) for the bytes already queued to leave. Each connection reuses
// pipeCarrier, so both directions have backpressure.

import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { pipeCarrier, type PipeOptions } from './carrier.js';
import { AccessError, describeError } from './errors.js';
import { redact } from './redact.js';
import type { Logger } from './types.js';
import { OPEN, type WebSocketClient } from './websocket.js';

export const DEFAULT_MAX_CONNECTIONS = 256;
/** How long shutdown waits for open connections to finish before cutting them. */
export const SHUTDOWN_GRACE_MS = 5_000;
/** How long a local socket may stay half-closed after its carrier ended. */
const LINGER_MS = 10_000;

export interface ListenAddress {
  readonly host: string;
  readonly port: number;
}

export interface ForwarderOptions {
  readonly listen: ListenAddress;
  /** Opens one carrier websocket (openCarrier with the command's options). */
  open(): Promise<WebSocketClient>;
  readonly log: Logger;
  /** Aborting it shuts the listener down; runForwarder then resolves. */
  readonly signal: AbortSignal;
  /** Connections carried at once; further ones are closed at once. Default 256. */
  readonly maxConnections?: number;
  readonly pipe?: PipeOptions;
  /** Called once listening, with the bound address (the port when 0 was asked). */
  onListening?(address: AddressInfo): void;
}

export interface ForwarderStats {
  accepted: number;
  refused: number;
  failed: number;
  carried: number;
}

interface Connection {
  readonly id: number;
  readonly socket: Socket;
  ws?: WebSocketClient;
}

/** Listens until `signal` aborts; resolves with what it did. Rejects when it cannot listen. */
export async function runForwarder(opts: ForwarderOptions): Promise<ForwarderStats> {
  const log = opts.log;
  const stats: ForwarderStats = { accepted: 0, refused: 0, failed: 0, carried: 0 };
  const active = new Set<Connection>();
  let seq = 0;
  let stopping = false;
  const server: Server = createServer({ pauseOnConnect: true });
  server.maxConnections = opts.maxConnections ?? DEFAULT_MAX_CONNECTIONS;
  const where = `${opts.listen.host.includes(':') ? `[${opts.listen.host}]` : opts.listen.host}:${opts.listen.port}`;

  server.on('drop', (data?: { remoteAddress?: string; remotePort?: number }) => {
    stats.refused += 1;
    log.warn(
      `Refused a connection from ${data?.remoteAddress ?? '?'}:${data?.remotePort ?? '?'}: ${server.maxConnections} connections are open (--max-connections)`,
    );
  });

  server.on('connection', (socket: Socket) => {
    const conn: Connection = { id: ++seq, socket };
    stats.accepted += 1;
    active.add(conn);
    const peer = `${socket.remoteAddress ?? '?'}:${socket.remotePort ?? '?'}`;
    socket.setNoDelay(true);
    socket.on('error', (err) => log.debug(`Connection ${conn.id}: ${describeError(err)}`));
    socket.once('close', () => active.delete(conn));
    if (stopping) {
      socket.destroy();
      return;
    }
    log.info(`Connection ${conn.id} from ${peer}: opening a carrier`);
    void serve(conn).catch((err: unknown) => {
      // serve handles its own errors; this is a last resort that keeps the listener up
      log.error(`Connection ${conn.id}: ${redact(describeError(err))}`);
      socket.destroy();
    });
  });

  // Until one carrier has opened, connections open theirs one at a time: the first one
  // discovers the app and signs in (maybe in the browser), the others then find the
  // token stored instead of each discovering the app and queueing on the login lock.
  let warm = false;
  let gate: Promise<void> = Promise.resolve();
  const openCarrier = async (): Promise<WebSocketClient> => {
    if (warm) return opts.open();
    const previous = gate;
    let release!: () => void;
    gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    try {
      await previous;
      if (warm) {
        release();
        return await opts.open();
      }
      const ws = await opts.open();
      warm = true;
      return ws;
    } finally {
      release();
    }
  };

  const serve = async (conn: Connection): Promise<void> => {
    const { socket } = conn;
    let ws: WebSocketClient;
    try {
      ws = await openCarrier();
    } catch (err) {
      stats.failed += 1;
      const e = err instanceof AccessError ? err : undefined;
      log.error(`Connection ${conn.id}: ${redact(e?.message ?? describeError(err))}${e?.hint ? ` (${redact(e.hint)})` : ''}`);
      socket.destroy();
      return;
    }
    if (stopping || socket.destroyed) {
      ws.close(1001);
      socket.destroy();
      return;
    }
    conn.ws = ws;
    try {
      const piped = pipeCarrier(ws, socket, socket, { ...opts.pipe, log });
      socket.resume(); // paused since accept (pauseOnConnect): nothing was read before the carrier opened
      await piped;
      stats.carried += 1;
      log.info(`Connection ${conn.id} closed`);
    } catch (err) {
      stats.failed += 1;
      log.warn(`Connection ${conn.id}: ${redact(describeError(err))}`);
    }
    // Our side is ended (or broken); let the peer read what is queued, then close.
    if (!socket.destroyed) {
      socket.resume();
      socket.setTimeout(LINGER_MS, () => socket.destroy());
    }
  };

  await new Promise<void>((resolve, reject) => {
    const onError = (err: NodeJS.ErrnoException): void => {
      const why = err.code === 'EADDRINUSE' ? 'the port is in use (EADDRINUSE)' : describeError(err);
      reject(
        new AccessError('config', `Cannot listen on ${where}: ${why}`, {
          hint:
            err.code === 'EADDRINUSE'
              ? 'Another program uses that port: choose another one in --url.'
              : 'Check the address given to --url (a local host:port).',
          cause: err,
        }),
      );
    };
    server.once('error', onError);
    server.listen(opts.listen.port, opts.listen.host, () => {
      server.off('error', onError);
      resolve();
    });
  });
  server.on('error', (err) => log.error(`Listener ${where}: ${describeError(err)}`));
  const address = server.address() as AddressInfo;
  opts.onListening?.(address);

  await new Promise<void>((resolve) => {
    if (opts.signal.aborted) resolve();
    else opts.signal.addEventListener('abort', () => resolve(), { once: true });
  });

  // Shutdown: stop accepting, close each carrier with a close frame, wait, then cut.
  stopping = true;
  log.info(`Stopping the listener on ${where}: ${active.size} connection(s) open`);
  const closed = new Promise<void>((resolve) => server.close(() => resolve()));
  for (const conn of active) {
    if (conn.ws) {
      if (conn.ws.readyState === OPEN) conn.ws.close(1001);
    } else {
      conn.socket.destroy();
    }
  }
  let timer: NodeJS.Timeout | undefined;
  const grace = new Promise<void>((resolve) => {
    timer = setTimeout(resolve, SHUTDOWN_GRACE_MS);
  });
  await Promise.race([closed, grace]);
  if (timer) clearTimeout(timer);
  for (const conn of active) {
    conn.ws?.terminate();
    conn.socket.destroy();
  }
  await closed;
  return stats;
}
