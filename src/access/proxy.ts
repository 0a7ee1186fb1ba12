// HTTP(S) proxies, as Go's http.ProxyFromEnvironment (which cloudflared's
// carrier and token code use) reads them, plus ALL_PROXY as curl does:
//
// - the proxy for https URLs: HTTPS_PROXY, else https_proxy, else ALL_PROXY,
//   else all_proxy (the first that is set and not empty);
// - a value without a scheme is `http://<value>`; `http://` and `https://`
//   proxies are supported (the port defaults to 80 / 443, as in Go);
// - NO_PROXY (else no_proxy): comma-separated; `*` bypasses every host; an IP
//   or CIDR matches addresses; `name`, `.name` and `*.name` match by domain
//   suffix (`name` also matches itself); any entry may carry `:port`;
// - localhost and loopback addresses never go through a proxy.
//
// A proxied connection is an HTTP CONNECT to `<host>:<port>` (the proxy, not
// us, resolves the name), with Basic credentials from the proxy URL; TLS to
// the edge runs inside the tunnel with the real name as SNI. Errors name the
// proxy without its credentials, never the edge: the edge was not reached.

import * as net from 'node:net';
import * as tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { AccessError, describeError } from './errors.js';

export interface ProxyServer {
  readonly protocol: 'http:' | 'https:';
  readonly host: string;
  readonly port: number;
  /** Percent-decoded. */
  readonly username?: string;
  readonly password?: string;
  /** The environment variable (or setting) it came from, for messages. */
  readonly source: string;
  /** `http://host:port`: the proxy without its credentials, for logs and errors. */
  readonly display: string;
}

export interface NoProxyRule {
  readonly kind: 'all' | 'ip' | 'cidr' | 'domain';
  /** ip: the address; cidr: the network address; domain: `.suffix`. */
  readonly value: string;
  readonly prefix?: number;
  readonly port?: number;
  /** domain: `name` (not `.name`): the name itself matches too. */
  readonly matchSelf?: boolean;
}

export interface ProxySettings {
  readonly proxy: ProxyServer;
  readonly noProxy: readonly NoProxyRule[];
}

type Env = Readonly<Record<string, string | undefined>>;

const PROXY_VARS = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy'] as const;
const NO_PROXY_VARS = ['NO_PROXY', 'no_proxy'] as const;

function firstSet(env: Env, names: readonly string[]): { name: string; value: string } | undefined {
  for (const name of names) {
    const value = env[name]?.trim();
    if (value) return { name, value };
  }
  return undefined;
}

/** The proxy for https requests from the environment; undefined when none is set. */
export function proxyFromEnv(env: Env): ProxySettings | undefined {
  const set = firstSet(env, PROXY_VARS);
  if (!set) return undefined;
  const noProxy = firstSet(env, NO_PROXY_VARS);
  return { proxy: parseProxyUrl(set.value, set.name), noProxy: parseNoProxy(noProxy?.value ?? '') };
}

/** How a proxy URL is written: part of the message, so that each front end's words for `check-proxy` say where it is set. */
const URL_FORM = 'write it as http://[user:password@]host:port, with @ : / % in the user name or password percent-encoded';

/** Parse a proxy URL; the error never quotes the value (it may hold a password). */
export function parseProxyUrl(value: string, source: string): ProxyServer {
  let url: URL | undefined;
  const withScheme = /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(value) ? value : `http://${value}`;
  try {
    url = new URL(withScheme);
  } catch {
    url = undefined;
  }
  if (!url || url.hostname === '') {
    throw new AccessError('config', `${source} is not a valid proxy URL (${URL_FORM})`, { action: 'check-proxy' });
  }
  const protocol = url.protocol;
  if (protocol !== 'http:' && protocol !== 'https:') {
    const scheme = protocol.replace(/:$/, '');
    throw new AccessError(
      'config',
      `${source} names a ${scheme} proxy; access-ssh supports http:// and https:// proxies (HTTP CONNECT)${/^socks/.test(scheme) ? ': use the HTTP proxy of your network instead (most corporate proxies offer one)' : ` (${URL_FORM})`}`,
      { action: 'check-proxy' },
    );
  }
  if ((url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    throw new AccessError('config', `${source} has a path or query (${URL_FORM})`, { action: 'check-proxy' });
  }
  const host = url.hostname.startsWith('[') ? url.hostname.slice(1, -1) : url.hostname;
  const port = url.port ? Number(url.port) : protocol === 'https:' ? 443 : 80;
  const out: { -readonly [K in keyof ProxyServer]: ProxyServer[K] } = {
    protocol,
    host,
    port,
    source,
    display: `${protocol}//${authority(host, port)}`,
  };
  try {
    if (url.username !== '') out.username = decodeURIComponent(url.username);
    if (url.password !== '') out.password = decodeURIComponent(url.password);
  } catch {
    throw new AccessError('config', `${source}: the proxy user name or password has a bad percent-encoding (${URL_FORM})`, {
      action: 'check-proxy',
    });
  }
  if (out.password !== undefined && out.username === undefined) out.username = '';
  return out;
}

/** Go's NO_PROXY grammar (golang.org/x/net/http/httpproxy). Bad entries are skipped, as Go does. */
export function parseNoProxy(spec: string): NoProxyRule[] {
  const rules: NoProxyRule[] = [];
  for (const raw of spec.split(',')) {
    const entry = raw.trim().toLowerCase();
    if (entry === '') continue;
    if (entry === '*') return [{ kind: 'all', value: '*' }];
    const cidr = parseCidr(entry);
    if (cidr) {
      rules.push(cidr);
      continue;
    }
    let host = entry;
    let port: number | undefined;
    const hp = /^(\[[^\]]+\]|[^:]*):([0-9]{1,5})$/.exec(entry);
    if (hp) {
      host = hp[1]!.replace(/^\[|\]$/g, '');
      port = Number(hp[2]);
    }
    if (host === '') continue;
    if (net.isIP(host)) {
      rules.push({ kind: 'ip', value: canonicalIp(host), ...(port !== undefined ? { port } : {}) });
      continue;
    }
    if (host.startsWith('*.')) host = host.slice(1);
    const matchSelf = !host.startsWith('.');
    if (matchSelf) host = `.${host}`;
    if (host === '.') continue;
    rules.push({ kind: 'domain', value: host.replace(/\.$/, ''), matchSelf, ...(port !== undefined ? { port } : {}) });
  }
  return rules;
}

function parseCidr(entry: string): NoProxyRule | undefined {
  const m = /^([0-9a-f:.]+)\/([0-9]{1,3})$/.exec(entry);
  if (!m) return undefined;
  const family = net.isIP(m[1]!);
  const prefix = Number(m[2]);
  if (family === 0 || prefix > (family === 4 ? 32 : 128)) return undefined;
  return { kind: 'cidr', value: canonicalIp(m[1]!), prefix };
}

function canonicalIp(ip: string): string {
  return ip.toLowerCase();
}

function isLoopback(host: string): boolean {
  if (host === 'localhost' || host.endsWith('.localhost')) return true;
  const family = net.isIP(host);
  if (family === 4) return host.startsWith('127.');
  if (family === 6) {
    const list = new net.BlockList();
    list.addAddress('::1', 'ipv6');
    list.addSubnet('::ffff:127.0.0.0', 104, 'ipv6');
    return list.check(host, 'ipv6');
  }
  return false;
}

/** True when `host:port` is reached directly (NO_PROXY, or loopback), false when through the proxy. */
export function bypassesProxy(rules: readonly NoProxyRule[], host: string, port: number): boolean {
  const name = host
    .toLowerCase()
    .replace(/^\[|\]$/g, '')
    .replace(/\.$/, '');
  if (isLoopback(name)) return true;
  const family = net.isIP(name);
  for (const rule of rules) {
    switch (rule.kind) {
      case 'all':
        return true;
      case 'ip':
        if (family !== 0 && sameIp(rule.value, name) && (rule.port === undefined || rule.port === port)) return true;
        break;
      case 'cidr': {
        if (family === 0) break;
        const ruleFamily = net.isIP(rule.value) === 4 ? 'ipv4' : 'ipv6';
        if ((family === 4 ? 'ipv4' : 'ipv6') !== ruleFamily) break;
        const list = new net.BlockList();
        list.addSubnet(rule.value, rule.prefix ?? 0, ruleFamily);
        if (list.check(name, ruleFamily)) return true;
        break;
      }
      case 'domain':
        if (
          family === 0 &&
          (name.endsWith(rule.value) || (rule.matchSelf === true && name === rule.value.slice(1))) &&
          (rule.port === undefined || rule.port === port)
        )
          return true;
        break;
    }
  }
  return false;
}

function sameIp(a: string, b: string): boolean {
  const family = net.isIP(a);
  if (family !== net.isIP(b)) return false;
  const list = new net.BlockList();
  list.addAddress(a, family === 4 ? 'ipv4' : 'ipv6');
  return list.check(b, family === 4 ? 'ipv4' : 'ipv6');
}

export interface TunnelOptions {
  /** The CONNECT target: the host name as given (the proxy resolves it) and port. */
  readonly host: string;
  readonly port: number;
  readonly userAgent: string;
  /** Deadline for reaching the proxy and its answer to the CONNECT. */
  readonly timeoutMs: number;
  /** For an https:// proxy: how to verify its certificate. */
  readonly secureContext?: tls.SecureContext;
  readonly ca?: string[];
}

const MAX_CONNECT_HEADER = 16 * 1024;

function authority(host: string, port: number): string {
  return `${net.isIP(host) === 6 ? `[${host}]` : host}:${port}`;
}

/** The error for a proxy that could not give us a tunnel; `what` says why. */
export function proxyError(proxy: ProxyServer, target: string, what: string, hint: string, cause?: unknown): AccessError {
  return new AccessError('proxy', `The proxy ${proxy.display} (${proxy.source}) ${what} (tunnel to ${target})`, {
    action: 'check-proxy',
    hint,
    ...(cause !== undefined ? { cause } : {}),
  });
}

const HINT_REACH = 'Check the proxy address in {source}, or that the proxy is running; NO_PROXY lists the hosts reached without it.';

/**
 * Open a CONNECT tunnel to `host:port` through `proxy`. Calls back with the
 * tunnel socket (raw bytes to the target) or an AccessError('proxy').
 */
export function openTunnel(proxy: ProxyServer, opts: TunnelOptions, done: (err: AccessError | null, socket?: Duplex) => void): void {
  const target = authority(opts.host, opts.port);
  const reachHint = HINT_REACH.replace('{source}', proxy.source);
  let finished = false;
  let socket: net.Socket | tls.TLSSocket;
  const finish = (err: AccessError | null): void => {
    if (finished) return;
    finished = true;
    clearTimeout(timer);
    socket.removeListener('data', onData);
    socket.removeListener('error', onError);
    socket.removeListener('close', onClose);
    if (err) {
      socket.destroy();
      done(err);
    } else {
      done(null, socket);
    }
  };
  const timer = setTimeout(() => {
    finish(proxyError(proxy, target, `did not answer within ${Math.round(opts.timeoutMs / 100) / 10}s`, reachHint));
  }, opts.timeoutMs);
  const onError = (err: Error): void => {
    finish(proxyError(proxy, target, `cannot be reached: ${describeError(err)}`, reachHint, err));
  };
  const onClose = (): void => {
    finish(proxyError(proxy, target, 'closed the connection before answering the CONNECT', reachHint));
  };

  let head = Buffer.alloc(0);
  const onData = (chunk: Buffer): void => {
    head = Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end < 0) {
      if (head.length > MAX_CONNECT_HEADER) finish(proxyError(proxy, target, 'answered the CONNECT with an oversized header', reachHint));
      return;
    }
    const lines = head.subarray(0, end).toString('latin1').split('\r\n');
    const status = /^HTTP\/1\.[01] ([0-9]{3})(?: |$)/.exec(lines[0] ?? '');
    if (!status) {
      finish(
        proxyError(
          proxy,
          target,
          'answered the CONNECT with something that is not HTTP',
          `Check that ${proxy.source} names an HTTP proxy (and http:// vs https://).`,
        ),
      );
      return;
    }
    const code = Number(status[1]);
    if (code >= 200 && code < 300) {
      const rest = head.subarray(end + 4);
      if (rest.length > 0) socket.unshift(rest);
      finish(null);
      return;
    }
    finish(refusal(proxy, target, code, lines.slice(1)));
  };

  const sendConnect = (): void => {
    const lines = [`CONNECT ${target} HTTP/1.1`, `Host: ${target}`, `User-Agent: ${opts.userAgent}`];
    if (proxy.username !== undefined) {
      const basic = Buffer.from(`${proxy.username}:${proxy.password ?? ''}`, 'utf8').toString('base64');
      lines.push(`Proxy-Authorization: Basic ${basic}`);
    }
    socket.write(`${lines.join('\r\n')}\r\n\r\n`);
  };

  if (proxy.protocol === 'https:') {
    const options: tls.ConnectionOptions = { host: proxy.host, port: proxy.port, ALPNProtocols: ['http/1.1'] };
    if (!net.isIP(proxy.host)) options.servername = proxy.host;
    if (opts.ca) options.ca = opts.ca;
    if (opts.secureContext) options.secureContext = opts.secureContext;
    socket = tls.connect(options, sendConnect);
  } else {
    socket = net.connect({ host: proxy.host, port: proxy.port }, sendConnect);
  }
  socket.on('data', onData);
  socket.on('error', onError);
  socket.on('close', onClose);
}

/**
 * Reason phrases of what a proxy answers a CONNECT with (RFC 9110), here rather than
 * node:http's STATUS_CODES: loading node:http costs the helper ~0.7 MB and start time,
 * and a carrier with a live token needs nothing else of it.
 */
const REASONS: Readonly<Record<number, string>> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  407: 'Proxy Authentication Required',
  408: 'Request Timeout',
  429: 'Too Many Requests',
  500: 'Internal Server Error',
  501: 'Not Implemented',
  502: 'Bad Gateway',
  503: 'Service Unavailable',
  504: 'Gateway Timeout',
};

function refusal(proxy: ProxyServer, target: string, code: number, headerLines: readonly string[]): AccessError {
  const reason = REASONS[code] ?? 'unknown status';
  const what = `refused the CONNECT with HTTP ${code} ${reason}`;
  if (code === 407) {
    const offered = headerLines
      .filter((l) => /^proxy-authenticate\s*:/i.test(l))
      .map((l) => (/^proxy-authenticate\s*:\s*([A-Za-z0-9_-]+)/i.exec(l)?.[1] ?? '').toLowerCase())
      .filter(Boolean);
    if (proxy.username === undefined) {
      return proxyError(proxy, target, what, `The proxy needs credentials: put them in ${proxy.source} as http://user:password@host:port.`);
    }
    if (offered.length > 0 && !offered.includes('basic')) {
      return proxyError(
        proxy,
        target,
        `${what}; it accepts only ${[...new Set(offered)].join(', ')} authentication`,
        'access-ssh (like cloudflared) authenticates to proxies with Basic credentials only; ask for a Basic-auth proxy or an exception for the Access hosts.',
      );
    }
    return proxyError(proxy, target, `${what}: it did not accept the user name and password`, `Check the credentials in ${proxy.source}.`);
  }
  if (code === 403) {
    return proxyError(
      proxy,
      target,
      what,
      "The proxy's policy does not allow this host; ask your network administrators to allow CONNECT to it on port 443 (see the README, Proxies).",
    );
  }
  return proxyError(
    proxy,
    target,
    what,
    'The proxy could not open the tunnel; check the proxy, or list the host in NO_PROXY if it is reached directly.',
  );
}
