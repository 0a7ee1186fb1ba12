// A small HTTP CONNECT proxy for tests, beside the real one (squid, squid.ts): it
// records what the client asked (CONNECT target, headers) and can refuse the way
// real proxies do (407 with a chosen scheme, 403, a non-HTTP answer, a hang up).
// It resolves names itself, through `hosts` (name -> address), like a corporate
// proxy with its own DNS; names it does not know get a 502.
import { connect as netConnect, createServer, type Server, type Socket } from 'node:net';
import type { AddressInfo } from 'node:net';

export type ProxyBehaviour =
  | { kind: 'tunnel' }
  | { kind: 'status'; status: number; headers?: Record<string, string> }
  | { kind: 'garbage' }
  | { kind: 'hangup' }
  | { kind: 'silent' };

export interface ConnectSeen {
  readonly target: string;
  readonly headers: Record<string, string>;
}

export interface ConnectProxy {
  readonly port: number;
  readonly url: string;
  readonly seen: ConnectSeen[];
  behaviour: ProxyBehaviour;
  close(): Promise<void>;
}

export interface ConnectProxyOptions {
  /** Name (lower case) -> the address (`127.0.0.1`, or `127.0.0.1:8443` to override the port) it connects to for it. */
  hosts: Record<string, string>;
  /** Basic credentials the proxy demands (407 with `Proxy-Authenticate: Basic` otherwise). */
  auth?: { user: string; password: string };
  behaviour?: ProxyBehaviour;
}

export async function startConnectProxy(opts: ConnectProxyOptions): Promise<ConnectProxy> {
  const seen: ConnectSeen[] = [];
  const sockets = new Set<Socket>();
  const state: { behaviour: ProxyBehaviour } = { behaviour: opts.behaviour ?? { kind: 'tunnel' } };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => {});
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end < 0) return;
      client.off('data', onData);
      const lines = head.subarray(0, end).toString('latin1').split('\r\n');
      const rest = head.subarray(end + 4);
      const [method, target] = (lines[0] ?? '').split(' ');
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i > 0) headers[line.slice(0, i).trim().toLowerCase()] = line.slice(i + 1).trim();
      }
      seen.push({ target: target ?? '', headers });
      const reply = (status: number, reason: string, extra: Record<string, string> = {}): void => {
        const h = Object.entries({ ...extra, 'content-length': '0', connection: 'close' })
          .map(([k, v]) => `${k}: ${v}\r\n`)
          .join('');
        client.end(`HTTP/1.1 ${status} ${reason}\r\n${h}\r\n`);
      };
      const b = state.behaviour;
      if (b.kind === 'garbage') {
        client.end('SSH-2.0-OpenSSH_9.2\r\n\r\n');
        return;
      }
      if (b.kind === 'hangup') {
        client.destroy();
        return;
      }
      if (b.kind === 'silent') return;
      if (b.kind === 'status') {
        reply(b.status, 'Refused', b.headers);
        return;
      }
      if (method !== 'CONNECT' || !target) {
        reply(405, 'Method Not Allowed');
        return;
      }
      if (opts.auth) {
        const want = `Basic ${Buffer.from(`${opts.auth.user}:${opts.auth.password}`).toString('base64')}`;
        if (headers['proxy-authorization'] !== want) {
          reply(407, 'Proxy Authentication Required', { 'proxy-authenticate': 'Basic realm="test"' });
          return;
        }
      }
      const m = /^(.*):([0-9]+)$/.exec(target);
      const name = (m?.[1] ?? '').replace(/^\[|\]$/g, '').toLowerCase();
      const address = opts.hosts[name];
      if (!m || !address) {
        reply(502, 'Bad Gateway');
        return;
      }
      const forced = /^([0-9.]+):([0-9]+)$/.exec(address);
      const upstream = netConnect({ host: forced ? forced[1]! : address, port: Number(forced ? forced[2] : m[2]) }, () => {
        client.write('HTTP/1.1 200 Connection established\r\n\r\n');
        if (rest.length > 0) upstream.write(rest);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      upstream.on('error', () => reply(502, 'Bad Gateway'));
      client.on('close', () => upstream.destroy());
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    url: `http://127.0.0.1:${port}`,
    seen,
    get behaviour() {
      return state.behaviour;
    },
    set behaviour(b: ProxyBehaviour) {
      state.behaviour = b;
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
