// A tiny HTTPS client that reaches the sandbox the way the helper does: the TLS name and
// Host stay the real ones, the TCP destination comes from ACCESS_SSH_CONNECT_TO (curl's
// --connect-to syntax), and the sandbox CA is trusted. Without a connect-to rule for the
// host and with HTTPS_PROXY set, it goes through that proxy (CONNECT), as a user's browser
// behind a corporate proxy does. Used by the fake browser, the admin client and the
// tests; it is not the product's client.
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import type { Duplex } from 'node:stream';
import { connect as tlsConnect, rootCertificates } from 'node:tls';

export interface ClientEnv {
  ACCESS_SSH_CONNECT_TO?: string;
  NODE_EXTRA_CA_CERTS?: string;
  HTTPS_PROXY?: string;
}

/** A CONNECT tunnel to host:port through an http:// proxy URL (Basic credentials from it). */
function tunnel(proxyUrl: string, host: string, port: number): Promise<Duplex> {
  const p = new URL(proxyUrl);
  const headers: Record<string, string> = { host: `${host}:${port}` };
  if (p.username)
    headers['proxy-authorization'] =
      `Basic ${Buffer.from(`${decodeURIComponent(p.username)}:${decodeURIComponent(p.password)}`).toString('base64')}`;
  return new Promise((resolve, reject) => {
    const req = httpRequest({
      host: p.hostname,
      port: Number(p.port || 80),
      method: 'CONNECT',
      path: `${host}:${port}`,
      headers,
      agent: false,
    });
    req.once('connect', (res, socket) => {
      if (res.statusCode === 200) resolve(socket);
      else {
        socket.destroy();
        reject(new Error(`proxy answered CONNECT with ${res.statusCode}`));
      }
    });
    req.once('error', reject);
    req.end();
  });
}

export interface Reply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

export function resolveConnectTo(spec: string | undefined, host: string, port: number): { host: string; port: number } {
  for (const rule of (spec ?? '')
    .split(',')
    .map((r) => r.trim())
    .filter(Boolean)) {
    // HOST:PORT:TO_HOST:TO_PORT, with IPv6 literals in brackets.
    const parts = rule.match(/^(\[[^\]]*\]|[^:]*):(\d*):(\[[^\]]*\]|[^:]*):(\d*)$/);
    if (!parts) continue;
    const [, h, p, th, tp] = parts;
    if (h && h.toLowerCase() !== host.toLowerCase()) continue;
    if (p && Number(p) !== port) continue;
    return { host: (th || host).replace(/^\[|\]$/g, ''), port: tp ? Number(tp) : port };
  }
  return { host, port };
}

export function sandboxFetch(
  url: string,
  opts: { method?: string; headers?: Record<string, string>; body?: string; env?: ClientEnv | undefined; timeoutMs?: number } = {},
): Promise<Reply> {
  const env = opts.env ?? process.env;
  const u = new URL(url);
  const port = u.port ? Number(u.port) : 443;
  const to = resolveConnectTo(env.ACCESS_SSH_CONNECT_TO, u.hostname, port);
  const ca = env.NODE_EXTRA_CA_CERTS ? [...rootCertificates, readFileSync(env.NODE_EXTRA_CA_CERTS, 'utf8')] : undefined;
  const proxied = env.HTTPS_PROXY && to.host === u.hostname && to.port === port ? env.HTTPS_PROXY : undefined;
  const socket = proxied ? tunnel(proxied, u.hostname, port) : undefined;
  return (socket ?? Promise.resolve(undefined)).then(
    (raw) =>
      new Promise<Reply>((resolve, reject) => {
        const req = request(
          {
            host: to.host,
            port: to.port,
            ...(raw ? { createConnection: () => tlsConnect({ socket: raw, servername: u.hostname, ca }) } : {}),
            servername: u.hostname,
            method: opts.method ?? 'GET',
            path: u.pathname + u.search,
            headers: {
              host: u.host,
              ...(opts.body !== undefined ? { 'content-length': String(Buffer.byteLength(opts.body)) } : {}),
              ...opts.headers,
            },
            ca,
            // No agent with our own socket: an agent would ignore createConnection.
            ...(raw ? {} : { agent: false }),
            timeout: opts.timeoutMs ?? 30_000,
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () =>
              resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString('utf8') }),
            );
            res.on('error', reject);
          },
        );
        req.on('timeout', () => req.destroy(new Error(`timeout on ${url}`)));
        req.on('error', reject);
        req.end(opts.body);
      }),
  );
}

/** The admin API of an out-of-process sandbox (admin.sandbox.test). */
export const admin = {
  counters: (env?: ClientEnv) =>
    sandboxFetch('https://admin.sandbox.test/counters', { env }).then((r) => JSON.parse(r.body) as Record<string, number>),
  setOptions: (patch: Record<string, unknown>, env?: ClientEnv) =>
    sandboxFetch('https://admin.sandbox.test/options', {
      method: 'POST',
      body: JSON.stringify(patch),
      headers: { 'content-type': 'application/json' },
      env,
    }).then((r) => JSON.parse(r.body) as Record<string, unknown>),
  revoke: (kind: 'app' | 'org' | 'all' = 'all', env?: ClientEnv) =>
    sandboxFetch('https://admin.sandbox.test/revoke', { method: 'POST', body: JSON.stringify({ kind }), env }).then(
      (r) => JSON.parse(r.body) as { revoked: number },
    ),
};
