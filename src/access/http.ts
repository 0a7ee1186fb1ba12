// The one HTTPS client of the Access layer. Every request and the websocket go
// through it, so that connect-to routing, the proxy (proxy.ts) and an extra CA
// apply everywhere the same way. It never follows redirects: the Access flows
// read each hop.

import * as fs from 'node:fs';
import * as net from 'node:net';
import * as tls from 'node:tls';
import type { IncomingHttpHeaders, OutgoingHttpHeaders } from 'node:http';
import type { Duplex } from 'node:stream';
import { AccessError, describeError } from './errors.js';
import { parseConnectTo, resolveConnectTo, unbracket, type ConnectToRule } from './connect-to.js';
import { bypassesProxy, openTunnel, proxyFromEnv, type ProxyServer, type ProxySettings } from './proxy.js';
import { silentLogger, type Logger } from './types.js';

export interface Cookie {
  readonly name: string;
  readonly value: string;
  readonly expires?: Date;
  readonly maxAge?: number;
  readonly path?: string;
  readonly domain?: string;
}

export interface HttpResponse {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly setCookies: Cookie[];
  readonly body: Buffer;
  /** The URL that was requested (redirects are never followed). */
  readonly url: URL;
}

export interface HttpRequest {
  readonly method: 'GET' | 'HEAD' | 'POST';
  readonly url: URL | string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly body?: string | Buffer;
  readonly timeoutMs?: number;
  readonly signal?: AbortSignal;
}

export interface HttpClientOptions {
  readonly connectTo?: readonly ConnectToRule[];
  /** A PEM file of CAs trusted besides the system's. */
  readonly extraCaFile?: string;
  /** PEM text of CAs trusted besides the system's. */
  readonly extraCaPem?: string;
  /** Whole-request timeout (connect to last body byte). Default 10 s. */
  readonly timeoutMs?: number;
  /** `access-ssh/<version>`; sent with every request and the websocket handshake. */
  readonly userAgent?: string;
  /** The HTTP(S) proxy and its NO_PROXY rules (proxy.ts); none: direct connections. */
  readonly proxy?: ProxySettings;
  readonly log?: Logger;
  /** Refuse bodies larger than this. Default 8 MiB. */
  readonly maxBodyBytes?: number;
}

export const DEFAULT_TIMEOUT_MS = 10_000;
export const DEFAULT_USER_AGENT = 'access-ssh';
const DEFAULT_MAX_BODY = 8 * 1024 * 1024;
/**
 * The NODE_EXTRA_CA_CERTS plain Node read when this process started: Node adds
 * that file to its default trust store then (and only then). Undefined inside
 * Electron (VS Code's extension host, and the helper on VS Code's runtime),
 * which does not read it. Taken when this module loads; nothing of ours sets
 * the variable in its own process before.
 */
const CA_FILE_NODE_LOADED: string | undefined = process.versions['electron'] ? undefined : process.env['NODE_EXTRA_CA_CERTS'];

/** Never opened: see connectionOptions. */
const ROUTED_SOCKET_MARKER = 'access-ssh:connect-to';

/** Where one connection goes: its TCP destination (connect-to applied) and the proxy, if any. */
export interface Route {
  readonly host: string;
  readonly port: number;
  /** Set when the connection is a CONNECT tunnel to host:port through this proxy. */
  readonly proxy?: ProxyServer;
}

/**
 * Node's ClientRequest (under https.request) calls it with its options
 * and a callback; a socket is either returned at once or passed to the callback
 * later (the proxy tunnel).
 */
type Connector = (opts: unknown, oncreate: (err: Error | null, socket?: Duplex) => void) => Duplex | undefined;

/** What a request needs: the trust store and, when routed, our socket. */
interface ConnectionOptions {
  ca?: tls.ConnectionOptions['ca'];
  secureContext?: tls.SecureContext;
  socketPath?: string;
  createConnection?: Connector;
}

export class HttpClient {
  readonly connectTo: readonly ConnectToRule[];
  readonly timeoutMs: number;
  readonly userAgent: string;
  readonly proxy?: ProxySettings;
  private readonly log: Logger;
  private readonly maxBodyBytes: number;
  /** Undefined: the default trust store (with NODE_EXTRA_CA_CERTS when Node read it). Otherwise the system's roots plus the extra CA. */
  private readonly ca?: string[];
  /** Built once: parsing the system roots for every connection costs ~100 ms. */
  private readonly secureContext?: tls.SecureContext;

  constructor(options: HttpClientOptions = {}) {
    this.connectTo = options.connectTo ?? [];
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.userAgent = options.userAgent ?? DEFAULT_USER_AGENT;
    if (options.proxy) this.proxy = options.proxy;
    this.log = options.log ?? silentLogger;
    this.maxBodyBytes = options.maxBodyBytes ?? DEFAULT_MAX_BODY;
    const extra: string[] = [];
    if (options.extraCaFile) {
      try {
        extra.push(fs.readFileSync(options.extraCaFile, 'utf8'));
      } catch (err) {
        throw new AccessError('config', `Cannot read the extra CA file ${options.extraCaFile}: ${describeError(err)}`, {
          action: 'check-ca-file',
          cause: err,
        });
      }
    }
    if (options.extraCaPem) extra.push(options.extraCaPem);
    if (extra.length > 0) {
      if (!extra.some((pem) => pem.includes('-----BEGIN CERTIFICATE-----'))) {
        throw new AccessError('config', 'The extra CA holds no PEM certificate (no "-----BEGIN CERTIFICATE-----" block)', {
          action: 'check-ca-file',
        });
      }
      // When plain Node already trusts exactly this file (it was NODE_EXTRA_CA_CERTS
      // at start-up), its default store is the system roots plus it: use that, and
      // skip building a second one from ~140 PEM roots (80-150 ms of CPU per process).
      if (options.extraCaPem || options.extraCaFile !== CA_FILE_NODE_LOADED) {
        // Setting `ca` replaces Node's defaults, so keep the system roots. Inside
        // Electron NODE_EXTRA_CA_CERTS is not read at startup, hence explicit.
        this.ca = [...tls.rootCertificates, ...extra];
        this.secureContext = tls.createSecureContext({ ca: this.ca });
      }
    }
  }

  /**
   * `ACCESS_SSH_CONNECT_TO`, `NODE_EXTRA_CA_CERTS`, the proxy variables
   * (HTTPS_PROXY, https_proxy, ALL_PROXY, all_proxy, NO_PROXY, no_proxy) from
   * the environment; `extra` adds what the caller knows (timeout, User-Agent).
   */
  static fromEnv(env: NodeJS.ProcessEnv = process.env, log?: Logger, extra: { timeoutMs?: number; userAgent?: string } = {}): HttpClient {
    const spec = env['ACCESS_SSH_CONNECT_TO'];
    const caFile = env['NODE_EXTRA_CA_CERTS'];
    const options: { -readonly [K in keyof HttpClientOptions]: HttpClientOptions[K] } = { ...extra };
    if (spec) options.connectTo = parseConnectTo(spec);
    if (caFile) options.extraCaFile = caFile;
    const proxy = proxyFromEnv(env);
    if (proxy) options.proxy = proxy;
    if (log) options.log = log;
    return new HttpClient(options);
  }

  /**
   * Where a connection for `host:port` really goes. Connect-to first (as curl's
   * --connect-to with a proxy): its destination is what the CONNECT asks the
   * proxy for. NO_PROXY is matched against the real host name.
   */
  route(host: string, port: number): Route {
    const target = resolveConnectTo(this.connectTo, host, port);
    if (this.proxy && !bypassesProxy(this.proxy.noProxy, unbracket(host), port)) return { ...target, proxy: this.proxy.proxy };
    return target;
  }

  /**
   * A `createConnection` for https.request: TCP to the connect-to
   * destination, TLS with the real host name as SNI and for verification.
   */
  private connector(realHost: string, target: Route): Connector {
    const tlsOptions = (): tls.ConnectionOptions => this.tlsOptions(realHost);
    const proxy = target.proxy;
    if (!proxy) return () => tls.connect({ ...tlsOptions(), host: target.host, port: target.port });
    // Through the proxy: the tunnel first (Node's ClientRequest takes the socket
    // from the callback), then TLS to the edge inside it.
    return (_opts, oncreate) => {
      this.openTunnelTo(proxy, target, (err, socket) => {
        if (err || !socket) oncreate(err ?? new Error('no tunnel'));
        else oncreate(null, tls.connect({ ...tlsOptions(), socket }));
      });
      return undefined;
    };
  }

  /** TLS to `realHost` (wherever the TCP goes): SNI and verification for the real name, our trust. */
  private tlsOptions(realHost: string): tls.ConnectionOptions {
    const options: tls.ConnectionOptions = {
      ALPNProtocols: ['http/1.1'],
      // Verify the certificate for the real name, not the rerouted address.
      checkServerIdentity: (_host, cert) => tls.checkServerIdentity(realHost, cert),
    };
    if (!net.isIP(realHost)) options.servername = realHost;
    this.addTrust(options);
    return options;
  }

  /**
   * The connection options for one https.request to `realHost:realPort` (the
   * websocket's connection is `connect`'s, by the same route and trust).
   *
   * Without connect-to, a plain request: inside VS Code that lets the editor's
   * proxy support (it patches `https`) apply as it does for every extension.
   * With connect-to, the socket is ours; VS Code's patch would otherwise swap
   * in its own agent, drop `createConnection` and look the real name up in DNS.
   * Its patch steps aside for requests that carry a `socketPath` (sockets the
   * caller opens itself), so a routed request sets one as a marker: Node hands
   * it to our `createConnection`, which ignores it. A proxied request is routed
   * in the same way: our proxy settings, not the editor's, apply (the extension
   * passes the editor's application-scoped `http.proxy` to us explicitly).
   */
  private connectionOptions(realHost: string, realPort: number): ConnectionOptions {
    const target = this.route(realHost, realPort);
    const options: ConnectionOptions = {};
    this.addTrust(options);
    if (target.proxy || target.host !== realHost || target.port !== realPort) {
      options.socketPath = ROUTED_SOCKET_MARKER;
      options.createConnection = this.connector(realHost, target);
    }
    return options;
  }

  /**
   * The extra CA, both as `ca` (which also tells VS Code's TLS patch to leave
   * the trust store alone) and as the prebuilt context (which wins, and saves
   * re-parsing the system roots for every connection).
   */
  private addTrust(options: { ca?: tls.ConnectionOptions['ca']; secureContext?: tls.SecureContext | undefined }): void {
    if (!this.ca) return;
    options.ca = this.ca;
    if (this.secureContext) options.secureContext = this.secureContext;
  }

  async request(req: HttpRequest): Promise<HttpResponse> {
    const url = typeof req.url === 'string' ? new URL(req.url) : new URL(req.url.href);
    if (url.protocol !== 'https:') {
      throw new AccessError('config', `Only https URLs are supported, not ${url.protocol}//${url.host}`);
    }
    const realHost = unbracket(url.hostname);
    const realPort = url.port ? Number(url.port) : 443;
    // Only origin and path go to logs and errors: queries may carry keys.
    const where = `${url.origin}${url.pathname}`;
    const timeoutMs = req.timeoutMs ?? this.timeoutMs;
    const headers: OutgoingHttpHeaders = { 'user-agent': this.userAgent, ...lowerKeys(req.headers ?? {}) };
    if (req.body !== undefined) headers['content-length'] = Buffer.byteLength(req.body);
    const rerouted = describeRoute(this.route(realHost, realPort), realHost, realPort);
    this.log.debug(`${req.method} ${where}${rerouted}`);

    if (req.signal?.aborted) throw cancelled(url, req.signal);
    // Loaded on the first request: a helper with a live token opens only the carrier
    // (websocket.ts, over `connect`), and node's http/https cost it ~0.7 MB and start time.
    // require, not import(): inside VS Code the editor's proxy support is a patched
    // `https` that its extension host hands out to require() only.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const https = require('node:https') as typeof import('node:https');

    return await new Promise<HttpResponse>((resolve, reject) => {
      let settled = false;
      const finish = (err: Error | undefined, res?: HttpResponse): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        req.signal?.removeEventListener('abort', onAbort);
        if (err) {
          request.destroy();
          reject(err);
        } else resolve(res as HttpResponse);
      };
      const onAbort = (): void => finish(cancelled(url, req.signal));
      const timer = setTimeout(() => {
        finish(
          new AccessError('timeout', `No answer from ${url.host} within ${formatSeconds(timeoutMs)}${rerouted}`, {
            hint: 'Check the network connection (and ACCESS_SSH_CONNECT_TO or the proxy, if set); --timeout / ACCESS_SSH_TIMEOUT sets the limit.',
          }),
        );
      }, timeoutMs);

      const request = https.request({
        method: req.method,
        host: realHost,
        port: realPort,
        // Without an agent Node assumes 80, and would write `Host: name:443`.
        defaultPort: 443,
        path: url.pathname + url.search,
        headers,
        ...(this.connectionOptions(realHost, realPort) as import('node:https').RequestOptions),
      });
      req.signal?.addEventListener('abort', onAbort, { once: true });
      request.on('error', (err) => {
        // The proxy refused or could not be reached: that error names the proxy.
        if (err instanceof AccessError) {
          finish(err);
          return;
        }
        finish(
          new AccessError('network', `Cannot reach ${url.host}${rerouted}: ${describeError(err)}`, {
            hint: tlsHint(err),
            cause: err,
          }),
        );
      });
      request.on('response', (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (chunk: Buffer) => {
          size += chunk.length;
          if (size > this.maxBodyBytes) {
            finish(new AccessError('http', `Response from ${url.host} is larger than ${this.maxBodyBytes} bytes`));
            return;
          }
          chunks.push(chunk);
        });
        res.on('error', (err) =>
          finish(new AccessError('network', `Connection to ${url.host} broke: ${describeError(err)}`, { cause: err })),
        );
        res.on('end', () => {
          const status = res.statusCode ?? 0;
          this.log.debug(`${req.method} ${where} -> ${status}`);
          finish(undefined, {
            status,
            headers: res.headers,
            setCookies: parseSetCookies(res.headers['set-cookie'] ?? []),
            body: Buffer.concat(chunks),
            url,
          });
        });
      });
      request.end(req.body);
    });
  }

  /**
   * The TLS handshake alone, to `realHost:realPort` by the same route and with the
   * same trust as every request, for `access-ssh doctor`: whether the chain is
   * trusted (and if not, why), and who the certificate names. The chain is read
   * even when it is not trusted (so that a TLS-inspecting proxy can be named), and
   * the connection is closed before a byte of HTTP is sent.
   */
  async inspectTls(realHost: string, realPort = 443, timeoutMs = this.timeoutMs): Promise<TlsInspection> {
    const target = this.route(realHost, realPort);
    const options: tls.ConnectionOptions = {
      host: target.host,
      port: target.port,
      ALPNProtocols: ['http/1.1'],
      rejectUnauthorized: false,
    };
    if (!net.isIP(realHost)) options.servername = realHost;
    this.addTrust(options);
    // Through the proxy when one applies: the tunnel first, as for every request.
    const tunnel = target.proxy ? await this.tunnel(target) : undefined;
    return await new Promise<TlsInspection>((resolve, reject) => {
      const socket = tls.connect(tunnel ? { ...options, socket: tunnel } : options);
      const timer = setTimeout(() => {
        socket.destroy();
        reject(
          new AccessError('timeout', `No TLS handshake with ${realHost}:${realPort} within ${formatSeconds(timeoutMs)}`, {
            hint: 'Check the network connection (and ACCESS_SSH_CONNECT_TO, if set).',
          }),
        );
      }, timeoutMs);
      socket.once('error', (err) => {
        clearTimeout(timer);
        reject(
          new AccessError('network', `Cannot reach ${realHost}:${realPort}: ${describeError(err)}`, { hint: tlsHint(err), cause: err }),
        );
      });
      socket.once('secureConnect', () => {
        clearTimeout(timer);
        const peer = socket.getPeerCertificate(true);
        const nameError = peer && Object.keys(peer).length > 0 ? tls.checkServerIdentity(realHost, peer) : undefined;
        const chain: string[] = [];
        let c: tls.DetailedPeerCertificate | undefined = peer && Object.keys(peer).length > 0 ? peer : undefined;
        const seen = new Set<string>();
        while (c && !seen.has(c.fingerprint256)) {
          seen.add(c.fingerprint256);
          chain.push(certName(c.subject));
          c = c.issuerCertificate;
        }
        const authError = socket.authorizationError
          ? String((socket.authorizationError as unknown as { code?: string }).code ?? socket.authorizationError)
          : undefined;
        const result: TlsInspection = {
          trusted: socket.authorized && nameError === undefined,
          ...(authError !== undefined ? { error: authError } : nameError ? { error: nameError.message } : {}),
          protocol: socket.getProtocol() ?? 'unknown',
          subject: peer ? certName(peer.subject) : '',
          issuer: peer ? certName(peer.issuer) : '',
          validTo: peer?.valid_to ? new Date(peer.valid_to) : undefined,
          chain,
          ...(target.host !== realHost || target.port !== realPort ? { via: `${target.host}:${target.port}` } : {}),
          ...(target.proxy ? { proxy: target.proxy.display } : {}),
        };
        socket.destroy();
        resolve(result);
      });
    });
  }

  /**
   * The CONNECT tunnel alone through the proxy that applies to `realHost:realPort`
   * (closed at once), for `access-ssh doctor`; undefined when the host is reached
   * directly. A refusal is the AccessError('proxy') every request would meet.
   */
  async probeProxy(realHost: string, realPort = 443): Promise<{ proxy: string; source: string; target: string } | undefined> {
    const target = this.route(realHost, realPort);
    if (!target.proxy) return undefined;
    const socket = await this.tunnel(target);
    socket.destroy();
    return { proxy: target.proxy.display, source: target.proxy.source, target: `${target.host}:${target.port}` };
  }

  private tunnel(target: Route): Promise<Duplex> {
    const proxy = target.proxy!;
    return new Promise((resolve, reject) => {
      this.openTunnelTo(proxy, target, (err, socket) => {
        if (err || !socket) reject(err ?? new Error('no tunnel'));
        else resolve(socket);
      });
    });
  }

  /** The CONNECT tunnel to `target` through `proxy`, with our User-Agent, timeout and trust. */
  private openTunnelTo(proxy: ProxyServer, target: Route, done: (err: AccessError | null, socket?: Duplex) => void): void {
    openTunnel(
      proxy,
      {
        host: target.host,
        port: target.port,
        userAgent: this.userAgent,
        timeoutMs: this.timeoutMs,
        ...(this.ca ? { ca: this.ca } : {}),
        ...(this.secureContext ? { secureContext: this.secureContext } : {}),
      },
      done,
    );
  }

  /**
   * A TLS connection to `realHost:realPort` by the route (connect-to, the proxy's
   * CONNECT tunnel) and with the trust of every request, for the carrier websocket
   * (websocket.ts writes its upgrade on it). Resolves once the TLS handshake is done.
   * Aborting `signal` destroys the connection.
   */
  connect(realHost: string, realPort: number, signal?: AbortSignal): Promise<tls.TLSSocket> {
    const target = this.route(realHost, realPort);
    const rerouted = describeRoute(target, realHost, realPort);
    const where = net.isIPv6(realHost) ? `[${realHost}]:${realPort}` : `${realHost}:${realPort}`;
    this.log.debug(`TLS to ${where}${rerouted}`);
    return new Promise<tls.TLSSocket>((resolve, reject) => {
      let socket: tls.TLSSocket | undefined;
      let settled = false;
      const finish = (err: Error | undefined): void => {
        if (settled) return;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        if (err || !socket) {
          socket?.destroy();
          reject(err ?? new Error('no socket'));
          return;
        }
        socket.off('error', onError);
        resolve(socket);
      };
      const onAbort = (): void => finish(new AccessError('network', `The connection to ${where} was cancelled`, { cause: signal?.reason }));
      const onError = (err: Error): void =>
        finish(new AccessError('network', `Cannot reach ${where}${rerouted}: ${describeError(err)}`, { hint: tlsHint(err), cause: err }));
      const start = (options: tls.ConnectionOptions): void => {
        if (settled) return;
        socket = tls.connect(options, () => finish(undefined));
        socket.on('error', onError);
      };
      if (signal?.aborted) {
        onAbort();
        return;
      }
      signal?.addEventListener('abort', onAbort, { once: true });
      const proxy = target.proxy;
      if (!proxy) {
        start({ ...this.tlsOptions(realHost), host: target.host, port: target.port });
        return;
      }
      this.openTunnelTo(proxy, target, (err, tunnel) => {
        if (err || !tunnel) {
          finish(err ?? new Error('no tunnel'));
          return;
        }
        if (settled) {
          tunnel.destroy();
          return;
        }
        start({ ...this.tlsOptions(realHost), socket: tunnel });
      });
    });
  }
}

/** What `HttpClient.inspectTls` saw. */
export interface TlsInspection {
  /** The chain verifies against the trust store in use and names the host. */
  readonly trusted: boolean;
  /** Why not (OpenSSL's code, e.g. SELF_SIGNED_CERT_IN_CHAIN, or a name mismatch). */
  readonly error?: string;
  readonly protocol: string;
  /** The leaf certificate's subject and issuer (CN, else O). */
  readonly subject: string;
  readonly issuer: string;
  readonly validTo: Date | undefined;
  /** Subjects from the leaf up, as the server sent them. */
  readonly chain: readonly string[];
  /** The connect-to destination, when rerouted. */
  readonly via?: string;
  /** The proxy the handshake went through (no credentials). */
  readonly proxy?: string;
}

function certName(name: tls.Certificate | undefined): string {
  if (!name) return '';
  const pick = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? v[0] : v);
  return pick(name.CN) ?? pick(name.O) ?? '';
}

/** The pause before the one retry of `requestRetryOnce`. */
export const RETRY_PAUSE_MS = 500;

/**
 * A request retried once, after a short pause, when it met a 5xx answer or a broken
 * connection: a blip of the edge should not fail an ssh connection. A timeout is not
 * retried (its wait is already spent), nor is anything else (4xx mean what they say);
 * the second answer or error is the caller's, whatever it is.
 */
export async function requestRetryOnce(http: Pick<HttpClient, 'request'>, req: HttpRequest, log?: Logger): Promise<HttpResponse> {
  const url = typeof req.url === 'string' ? new URL(req.url) : req.url;
  let why: string;
  try {
    const res = await http.request(req);
    if (res.status < 500) return res;
    why = `HTTP ${res.status}`;
  } catch (err) {
    if (!(err instanceof AccessError) || err.code !== 'network' || req.signal?.aborted) throw err;
    why = err.message;
  }
  log?.debug(`${req.method} ${url.origin}${url.pathname} failed (${why}); retrying once`);
  await new Promise((resolve) => setTimeout(resolve, RETRY_PAUSE_MS));
  return await http.request(req);
}

function lowerKeys(headers: Readonly<Record<string, string>>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(headers)) out[k.toLowerCase()] = v;
  return out;
}

function cancelled(url: URL, signal: AbortSignal | undefined): AccessError {
  return new AccessError('network', `Request to ${url.host} was cancelled`, { cause: signal?.reason });
}

/** ` via proxy http://p:3128` / ` via 127.0.0.1:8443` for logs and errors (never credentials). */
function describeRoute(route: Route, realHost: string, realPort: number): string {
  const moved = route.host !== realHost || route.port !== realPort;
  if (route.proxy) return ` via proxy ${route.proxy.display}${moved ? ` (CONNECT ${route.host}:${route.port})` : ''}`;
  return moved ? ` via ${route.host}:${route.port}` : '';
}

function formatSeconds(ms: number): string {
  return ms % 1000 === 0 ? `${ms / 1000}s` : `${(ms / 1000).toFixed(1)}s`;
}

/**
 * The next step for a connection error. Only an untrusted chain points at a
 * TLS-inspecting proxy (it re-signs with its own CA); a certificate for other
 * names is the server's (or the host name's) doing, an expired one the server's
 * or this computer's clock: no proxy hint for those.
 */
export function tlsHint(err: unknown): string | undefined {
  const code = (err as NodeJS.ErrnoException | undefined)?.code ?? '';
  if (code === 'ERR_TLS_CERT_ALTNAME_INVALID') {
    return 'The server presents a certificate for other names: check the host name (and ACCESS_SSH_CONNECT_TO, if set).';
  }
  if (code === 'CERT_HAS_EXPIRED' || code === 'CERT_NOT_YET_VALID') {
    return "The server certificate is outside its validity period: check this computer's clock.";
  }
  if (/SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|CERT_UNTRUSTED|CERT_REJECTED|CERT_CHAIN_TOO_LONG|INVALID_CA/.test(code)) {
    return 'The server certificate is not trusted. Behind a TLS-inspecting proxy, point NODE_EXTRA_CA_CERTS (or the extension setting) at its CA.';
  }
  if (/CERT/.test(code)) return 'The server certificate was refused.';
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') return 'Check the host name and the DNS / network connection.';
  if (code === 'ECONNREFUSED') return 'Nothing is listening there. Check the host, and ACCESS_SSH_CONNECT_TO if set.';
  return undefined;
}

/** Parse Set-Cookie header lines (RFC 6265 §5.2, leniently). */
export function parseSetCookies(lines: readonly string[]): Cookie[] {
  const cookies: Cookie[] = [];
  for (const line of lines) {
    const cookie = parseSetCookie(line);
    if (cookie) cookies.push(cookie);
  }
  return cookies;
}

export function parseSetCookie(line: string): Cookie | undefined {
  const parts = line.split(';');
  const pair = parts.shift() ?? '';
  const eq = pair.indexOf('=');
  if (eq <= 0) return undefined;
  const name = pair.slice(0, eq).trim();
  let value = pair.slice(eq + 1).trim();
  if (value.length >= 2 && value.startsWith('"') && value.endsWith('"')) value = value.slice(1, -1);
  if (name === '') return undefined;
  const cookie: { -readonly [K in keyof Cookie]: Cookie[K] } = { name, value };
  for (const attr of parts) {
    const i = attr.indexOf('=');
    const key = (i < 0 ? attr : attr.slice(0, i)).trim().toLowerCase();
    const val = i < 0 ? '' : attr.slice(i + 1).trim();
    if (key === 'expires') {
      const t = Date.parse(val);
      if (!Number.isNaN(t)) cookie.expires = new Date(t);
    } else if (key === 'max-age') {
      if (/^-?[0-9]+$/.test(val)) cookie.maxAge = Number(val);
    } else if (key === 'path') {
      cookie.path = val;
    } else if (key === 'domain') {
      cookie.domain = val.replace(/^\./, '');
    }
  }
  return cookie;
}
