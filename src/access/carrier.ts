// The websocket carrier (cloudflared carrier/websocket.go): the SSH byte stream
// in binary frames over `wss://<app host>/`, authenticated by the app token in
// `Cf-Access-Token` (or a service token). Without a stored token the first
// handshake carries none (Bypass applications and WARP users get in as is). A
// handshake answered by a 302 to `/cdn-cgi/access/login` is Access asking for
// (or refusing) the token: get one (drop a refused one first), retry once. Any
// other non-101 answer is a plain error.

import type { Hostname } from '../base/hostname.js';
import type { Readable, Writable } from 'node:stream';
import { displayText } from '../base/display.js';
import { AccessError, describeError, isAccessError } from './errors.js';
import { unbracket } from './connect-to.js';
import type { HttpClient } from './http.js';
import { redact } from './redact.js';
import { appTokens, type AccessContext, type LoginOptions } from './token-flow.js';
import type { AppToken, Logger, ServiceToken } from './types.js';
import { upgrade, WebSocketClient, WebSocketProtocolError } from './websocket.js';

export const ACCESS_LOGIN_PATH = '/cdn-cgi/access/login';
export const KEEPALIVE_MS = 30_000;
/** Stop reading stdin while more than this is queued for the websocket. */
export const SEND_HIGH_WATER = 1024 * 1024;
/**
 * The helper's young-generation collection interval, in bytes carried (both ways). The
 * helper's peak RSS under a 256 MiB upload: +40 MB over idle with V8's own schedule, +11 MB
 * at 2 MiB, +15 MB at 4 MiB; each collection costs ~0.2–0.3 ms (docs/BENCHMARKS.md, fourth round).
 */
export const COLLECT_EVERY_BYTES = 2 * 1024 * 1024;

export interface CarrierOptions {
  readonly serviceToken?: ServiceToken;
  readonly login: LoginOptions;
  /** The application URL; default `https://<host>/`. */
  readonly appUrl?: URL;
  /**
   * Extra handshake headers (`--header`, `--destination`), sent on every attempt as
   * cloudflared's StartOptions.Headers are; the credential headers are set after
   * them and win.
   */
  readonly headers?: Readonly<Record<string, string>>;
}

export type Handshake =
  { readonly ok: true; readonly ws: WebSocketClient } | { readonly ok: false; readonly status: number; readonly location?: string };

/** The `wss://` URL of the carrier for an app URL. */
export function carrierUrl(appUrl: URL): URL {
  const url = new URL(appUrl.href);
  url.protocol = 'wss:';
  url.hash = '';
  return url;
}

/** A handshake answer that means "the Access token was refused" (cloudflared's IsAccessResponse). */
export function isAccessLoginRedirect(status: number, location: string | undefined, base: URL): boolean {
  if (status !== 302 || !location) return false;
  try {
    return new URL(location, base).pathname.startsWith(ACCESS_LOGIN_PATH);
  } catch {
    return false;
  }
}

/** Open the carrier websocket for `host`, getting (and if refused, renewing once) the app token. */
export async function openCarrier(ctx: AccessContext, host: Hostname, opts: CarrierOptions): Promise<WebSocketClient> {
  const appUrl = opts.appUrl ?? new URL(`https://${host}/`);
  const url = carrierUrl(appUrl);
  const log = ctx.log;

  if (opts.serviceToken) {
    const r = await carrierHandshake(
      ctx.http,
      url,
      {
        ...opts.headers,
        'Cf-Access-Client-Id': opts.serviceToken.clientId,
        'Cf-Access-Client-Secret': opts.serviceToken.clientSecret,
      },
      log,
    );
    if (r.ok) return r.ws;
    if (isAccessLoginRedirect(r.status, r.location, url)) {
      throw new AccessError('token-refused', `Access refused the service token for ${url.host}`, {
        hint: "Check --service-token-id / --service-token-secret (TUNNEL_SERVICE_TOKEN_ID / _SECRET) and the application's service-auth policy.",
      });
    }
    throw statusError(url, r.status);
  }

  // A live stored token goes out with the first handshake. Without one, the first
  // handshake goes out bare, as cloudflared's does (carrier/websocket.go): an
  // application under a Bypass policy, or a user admitted through WARP, is let in
  // with no token, no discovery and no browser. Only a 302 to the login path
  // starts discovery and the token flow (appTokens).
  const tokens = appTokens(ctx, appUrl, opts.login);
  let token = await tokens.stored();
  let r = await carrierHandshake(
    ctx.http,
    url,
    token === undefined ? { ...opts.headers } : { ...opts.headers, ...tokenHeader(token) },
    log,
  );
  if (r.ok) {
    if (token === undefined) log.info(`The carrier to ${url.host} was accepted without an Access token (a Bypass policy or WARP)`);
    return r.ws;
  }
  if (!isAccessLoginRedirect(r.status, r.location, url)) throw statusError(url, r.status);

  let retried = false;
  if (token !== undefined) {
    log.info(`Access refused the stored token for ${url.host}; getting a new one`);
    await tokens.forget();
    retried = true;
  } else {
    log.debug(`Access asks for a token for ${url.host}; discovering the application`);
  }
  for (;;) {
    token = await tokens.get();
    r = await carrierHandshake(ctx.http, url, { ...opts.headers, ...tokenHeader(token) }, log);
    if (r.ok) return r.ws;
    if (!isAccessLoginRedirect(r.status, r.location, url)) throw statusError(url, r.status);
    if (retried) {
      throw new AccessError('token-refused', `Access refused a fresh token for ${url.host}`, {
        hint: "Your identity may not be allowed by the application's policy; check with your Access administrator.",
      });
    }
    // cloudflared's createAccessAuthenticatedStream: drop the refused token, get a new one, once.
    log.info(`Access refused the token for ${url.host}; getting a new one`);
    await tokens.forget();
    retried = true;
  }
}

function tokenHeader(token: AppToken): Record<string, string> {
  return { 'Cf-Access-Token': token };
}

function statusError(url: URL, status: number): AccessError {
  return new AccessError('carrier', `The carrier websocket to ${url.host} was answered with HTTP ${status}`, {
    hint:
      status === 404 || status === 400
        ? 'Check that the host is an Access SSH application served by a tunnel.'
        : status >= 500
          ? 'The edge or the tunnel behind it has a problem; try again in a moment.'
          : undefined,
  });
}

/**
 * One websocket handshake: the open socket, or the status (and Location) it was
 * answered with (also `access-ssh doctor`'s probe). TLS by the HTTP client's route,
 * proxy and trust (HttpClient.connect), then the upgrade (websocket.ts). One deadline
 * (the HTTP client's timeout, 10 s by default) covers both: a stalled edge must not
 * hang the ProxyCommand forever.
 */
export function carrierHandshake(http: HttpClient, url: URL, headers: Record<string, string>, log: Logger): Promise<Handshake> {
  const timeoutMs = http.timeoutMs;
  const realHost = unbracket(url.hostname);
  const realPort = url.port ? Number(url.port) : 443;
  log.debug(`Opening the carrier websocket ${url.origin}${url.pathname}`);
  return new Promise<Handshake>((resolve, reject) => {
    let settled = false;
    const abort = new AbortController();
    const timer = setTimeout(() => {
      if (settled) return;
      settled = true;
      abort.abort();
      reject(
        new AccessError('timeout', `No answer to the carrier websocket handshake from ${url.host} within ${timeoutMs / 1000}s`, {
          hint: 'Check the network connection (and ACCESS_SSH_CONNECT_TO, if set); the Access edge or the tunnel behind the application may be down.',
        }),
      );
    }, timeoutMs);
    const fail = (err: unknown): void => {
      clearTimeout(timer);
      if (settled) return;
      settled = true;
      // A proxy that refused or cannot be reached: its error names the proxy, not the edge;
      // a header that cannot be sent is the caller's.
      if (isAccessError(err, 'proxy') || isAccessError(err, 'config')) {
        reject(err);
        return;
      }
      const why = err instanceof WebSocketProtocolError ? err.message : describeError(isAccessError(err) && err.cause ? err.cause : err);
      reject(
        new AccessError('carrier', `Cannot open the carrier websocket to ${url.host}: ${redact(why)}`, {
          hint:
            isAccessError(err) && err.hint
              ? err.hint
              : 'Check the network connection (and ACCESS_SSH_CONNECT_TO / NODE_EXTRA_CA_CERTS, if set).',
          cause: err,
        }),
      );
    };
    http
      .connect(realHost, realPort, abort.signal)
      .then((socket) => {
        if (settled) {
          socket.destroy();
          return undefined;
        }
        abort.signal.addEventListener('abort', () => socket.destroy(), { once: true });
        return upgrade(socket, { path: url.pathname + url.search, host: url.host, headers: { 'user-agent': http.userAgent, ...headers } });
      })
      .then((r) => {
        if (r === undefined) return;
        clearTimeout(timer);
        if (settled) {
          if (r.ok) r.ws.terminate();
          return;
        }
        settled = true;
        if (r.ok) {
          log.debug(`Carrier to ${url.host} is open`);
          resolve(r);
          return;
        }
        log.debug(
          `Carrier handshake to ${url.host} answered ${r.status}${r.location ? ` -> ${displayText(redact(r.location), 200)}` : ''}`,
        );
        resolve(r);
      }, fail);
  });
}

export interface PipeOptions {
  /** Interval of keepalive pings; 0 disables. Default 30 s. */
  readonly keepaliveMs?: number;
  /** Pause `input` while more than this many bytes wait to be sent. Default 1 MiB. */
  readonly highWaterMark?: number;
  readonly log?: Logger;
  /**
   * Called after every `everyBytes` carried (both ways together). The helper passes a
   * young-generation collection: each chunk is a Buffer whose memory lies outside the
   * JavaScript heap, and V8 collects those only when its small young heap fills, which
   * a bulk transfer reached only after ~30 MB of dead chunks (docs/BENCHMARKS.md).
   */
  readonly collect?: { readonly everyBytes: number; readonly run: () => void };
}

/**
 * Carry bytes between `input`/`output` and the websocket until it closes.
 * Input EOF closes the websocket; the websocket's close ends `output`. Resolves
 * once `output` is finished (or broken: the reader went away); rejects when the
 * websocket failed.
 */
export function pipeCarrier(ws: WebSocketClient, input: Readable, output: Writable, opts: PipeOptions = {}): Promise<void> {
  const high = opts.highWaterMark ?? SEND_HIGH_WATER;
  const keepaliveMs = opts.keepaliveMs ?? KEEPALIVE_MS;
  const log = opts.log;

  return new Promise<void>((resolve, reject) => {
    let failure: AccessError | undefined;
    let outputBroken = false;
    let wsPausedForOutput = false;
    let inputPausedForWs = false;
    let done = false;
    let inputEnded = false;
    const collect = opts.collect;
    let sinceCollect = 0;
    const carried = (n: number): void => {
      if (!collect) return;
      sinceCollect += n;
      if (sinceCollect >= collect.everyBytes) {
        // Keep the remainder: chunks do not fall on the interval's boundaries.
        sinceCollect %= collect.everyBytes;
        collect.run();
      }
    };
    input.once('end', () => {
      inputEnded = true;
    });

    const keepalive =
      keepaliveMs > 0
        ? setInterval(() => {
            if (ws.readyState === WebSocketClient.OPEN) ws.ping();
          }, keepaliveMs)
        : undefined;
    keepalive?.unref();

    // websocket → output
    const onMessage = (chunk: Buffer): void => {
      if (outputBroken) return;
      carried(chunk.length);
      if (!output.write(chunk) && !wsPausedForOutput) {
        wsPausedForOutput = true;
        ws.pause();
        output.once('drain', onOutputDrain);
      }
    };
    const onOutputDrain = (): void => {
      wsPausedForOutput = false;
      ws.resume();
    };
    const onOutputError = (err: Error): void => {
      // The reader (ssh) went away: nothing more to deliver.
      log?.debug(`Output closed: ${describeError(err)}`);
      outputBroken = true;
      ws.off('message', onMessage);
      // Read on, so that the close handshake completes.
      if (wsPausedForOutput) {
        wsPausedForOutput = false;
        output.off('drain', onOutputDrain);
        ws.resume();
      }
      closeWs(1000);
    };

    // input → websocket
    const onSent = (err?: Error): void => {
      if (err) return; // the close/error handlers report it
      if (inputPausedForWs && ws.bufferedAmount <= high) {
        inputPausedForWs = false;
        input.resume();
      }
    };
    const onData = (chunk: Buffer | string): void => {
      if (ws.readyState !== WebSocketClient.OPEN) return;
      const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
      carried(buf.length);
      if (ws.bufferedAmount + buf.length > high && !inputPausedForWs) {
        // The callback of this send runs once it is flushed to the socket.
        inputPausedForWs = true;
        input.pause();
        ws.send(buf, onSent);
      } else {
        ws.send(buf, inputPausedForWs ? onSent : undefined);
      }
    };
    const onInputEnd = (): void => {
      log?.debug('Input ended; closing the carrier');
      closeWs(1000);
    };
    const onInputError = (err: Error): void => {
      log?.debug(`Input failed: ${describeError(err)}`);
      closeWs(1000);
    };

    const closeWs = (code: number): void => {
      if (ws.readyState === WebSocketClient.OPEN) ws.close(code);
      else if (ws.readyState === WebSocketClient.CONNECTING) ws.terminate();
    };

    const onWsError = (err: Error): void => {
      failure ??= new AccessError('carrier', `The carrier websocket failed: ${redact(describeError(err))}`, {
        hint: 'Reconnect (Remote-SSH reconnects by itself); if it keeps happening, check the network and the tunnel of the application.',
        cause: err,
      });
    };
    const onWsClose = (code: number, reason: Buffer): void => {
      log?.debug(`Carrier closed (${code}${reason.length ? ` ${displayText(redact(reason.toString('utf8')), 123)}` : ''})`);
      if (keepalive) clearInterval(keepalive);
      input.off('data', onData);
      input.off('end', onInputEnd);
      input.off('error', onInputError);
      input.pause();
      ws.off('message', onMessage);
      if (code === 1006 && !failure && !inputEnded) {
        failure = new AccessError(
          'carrier',
          'The carrier websocket was closed abnormally (no close frame): the connection to the Access edge dropped',
          {
            hint: 'Reconnect (Remote-SSH reconnects by itself); if it keeps happening, check the network and the tunnel of the application.',
          },
        );
      }
      const settle = (): void => {
        if (done) return;
        done = true;
        output.off('error', onOutputError);
        if (failure) reject(failure);
        else resolve();
      };
      if (outputBroken || output.writableFinished) {
        settle();
        return;
      }
      output.once('finish', settle);
      output.once('close', settle);
      output.once('error', settle);
      output.end();
    };

    ws.on('message', onMessage);
    ws.on('error', onWsError);
    ws.once('close', onWsClose);
    output.on('error', onOutputError);
    input.on('data', onData);
    input.on('end', onInputEnd);
    input.on('error', onInputError);
    if (ws.readyState === WebSocketClient.CLOSED) {
      // Closed before we started: report it the same way.
      onWsClose(1006, Buffer.alloc(0));
    } else {
      // Listeners are on: start reading (the edge's first bytes may have come with the 101).
      ws.resume();
    }
  });
}
