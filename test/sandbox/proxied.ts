// The sandbox behind a corporate proxy: the edge listens on port 443 of a random
// 127.x.y.z address (so that concurrent runs do not collide), and the real squid
// (squid.ts) maps every Access name to it in its own hosts file and demands Basic
// credentials. The client gets no connect-to route, and the names do not resolve on
// this machine: the proxy is the only way to the edge, as in a locked-down network.
import { lookup } from 'node:dns/promises';
import { ADMIN_HOST, DEFAULT_APP, TEAM_DOMAIN, TRANSFER_HOST } from './state';
import { startSandbox, type Sandbox, type StartSandboxOptions } from './sandbox';
import { startSquid, type Squid } from './squid';

export const PROXY_USER = 'jdoe-proxy';
/** Characters that must be percent-encoded in a URL, so the decoding is tested too. */
export const PROXY_PASSWORD = 'Pr0xy:s3cr@t w%rd';

export interface ProxiedSandbox {
  readonly sb: Sandbox;
  readonly squid: Squid;
  /** The 127.x.y.z address the edge listens on (port 443). */
  readonly address: string;
  /** `http://user:password@127.0.0.1:port` (percent-encoded). */
  readonly proxyUrl: string;
  /** What a client needs: the sandbox CA and HTTPS_PROXY; no ACCESS_SSH_CONNECT_TO. */
  readonly env: { NODE_EXTRA_CA_CERTS: string; HTTPS_PROXY: string };
  stop(): Promise<void>;
}

export interface ProxiedOptions extends Omit<StartSandboxOptions, 'port' | 'host'> {
  /** More application host names for the proxy's hosts file (besides ssh.sandbox.test). */
  apps?: string[];
  /** Host names the proxy denies (403). */
  deny?: string[];
}

/** Why the proxied sandbox cannot run here, if it cannot (port 443 needs root). */
export function proxiedMissing(): string | undefined {
  if (process.getuid?.() !== 0) return 'the proxied sandbox listens on port 443 of a loopback address, which needs root';
  return undefined;
}

function randomLoopback(): string {
  const b = (): number => 1 + Math.floor(Math.random() * 254);
  return `127.${b()}.${b()}.${b()}`;
}

export async function startProxiedSandbox(opts: ProxiedOptions = {}): Promise<ProxiedSandbox> {
  const { apps = [], deny = [], ...sandboxOptions } = opts;
  let sb: Sandbox | undefined;
  let address = '';
  let lastErr: unknown;
  for (let i = 0; i < 10 && !sb; i++) {
    address = randomLoopback();
    try {
      sb = await startSandbox({ ...sandboxOptions, host: address, port: 443 });
    } catch (err) {
      lastErr = err;
      if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE') break;
    }
  }
  if (!sb) throw new Error(`cannot listen on port 443 of a loopback address: ${String(lastErr)}`);
  const names = [DEFAULT_APP, TEAM_DOMAIN, TRANSFER_HOST, ADMIN_HOST, ...apps, ...deny];
  for (const name of names) {
    // The premise of the mode: without the proxy, the names lead nowhere.
    const resolved = await lookup(name).then(
      (r) => r.address,
      () => undefined,
    );
    if (resolved !== undefined) {
      await sb.stop();
      throw new Error(`${name} resolves on this machine (${resolved}); the proxied sandbox needs names only the proxy knows`);
    }
  }
  let squid: Squid;
  try {
    squid = await startSquid({
      hosts: Object.fromEntries(names.map((n) => [n, address])),
      auth: { user: PROXY_USER, password: PROXY_PASSWORD },
      deny,
    });
  } catch (err) {
    await sb.stop();
    throw err;
  }
  const proxyUrl = `http://${encodeURIComponent(PROXY_USER)}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${squid.port}`;
  const s = sb;
  return {
    sb: s,
    squid,
    address,
    proxyUrl,
    env: { NODE_EXTRA_CA_CERTS: s.caFile, HTTPS_PROXY: proxyUrl },
    async stop() {
      await Promise.allSettled([squid.stop(), s.stop()]);
    },
  };
}
