// startSandbox(): the whole local Access edge (TLS CA, team JWT key, SSH user CA, the
// HTTPS edge on one loopback port) plus, by default, a real sshd that trusts the CA.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Edge, type Origin } from './edge';
import { readBody, sendError, sendJson } from './http-util';
import { createTlsPki } from './pki';
import { createSshCa } from './ssh-ca';
import { startPostgres, type Postgres } from './postgres';
import { startSshd, type Sshd } from './sshd';
import {
  ADMIN_HOST,
  appAud,
  BASTION_APP,
  DB_APP,
  DEFAULT_APP,
  TCP_APP,
  SandboxState,
  TEAM_AUD,
  TEAM_DOMAIN,
  TRANSFER_HOST,
  type CarrierRequest,
  type Counters,
  type SandboxOptions,
} from './state';
import { createTeamKeys } from './team-keys';

export * from './state';

export interface StartSandboxOptions extends Partial<SandboxOptions> {
  /** HTTPS port (default: a free one). */
  port?: number;
  /** The loopback address the edge listens on (default 127.0.0.1). */
  host?: string;
  /** Start a real sshd trusting the SSH user CA (default true). */
  sshd?: boolean;
  /** Unix users the sshd lets in (default ['jdoe']). */
  users?: string[];
  /** Per app host carrier destination; default: the sandbox sshd. */
  origins?: Record<string, Origin>;
  /**
   * Start a second real sshd (its own host key, the same user CA) as the origin of
   * tcp.sandbox.test: a plain TCP service for `access-ssh tcp --url` (default false).
   */
  tcpService?: boolean;
  /** Start a real PostgreSQL server (Debian's postgresql) as the origin of db.sandbox.test (default false). */
  database?: boolean;
  /** Keep the temp directory on stop (for debugging). */
  keepDir?: boolean;
  /** Log lines from the edge (default: silent unless ACCESS_SSH_SANDBOX_DEBUG is set). */
  log?(line: string): void;
}

export interface SandboxEnv {
  ACCESS_SSH_CONNECT_TO: string;
  NODE_EXTRA_CA_CERTS: string;
  [name: string]: string;
}

export interface Sandbox {
  port: number;
  /** What a client needs: ACCESS_SSH_CONNECT_TO and NODE_EXTRA_CA_CERTS. */
  env: SandboxEnv;
  /** The TLS CA's PEM file. */
  caFile: string;
  /** The SSH user CA's public key file (sshd's TrustedUserCAKeys). */
  sshCaPublicKeyFile: string;
  /** Live counters (mutated in place; copy with {...counters} to compare). */
  counters: Counters;
  /** The sandbox's temp directory. */
  dir: string;
  sshd?: Sshd | undefined;
  /** The origin of tcp.sandbox.test (option tcpService). */
  tcpSshd?: Sshd | undefined;
  /** The origin of db.sandbox.test (option database). */
  database?: Postgres | undefined;
  /** The carrier handshakes the edge saw, oldest first (credential headers left out). */
  carrierRequests(): CarrierRequest[];
  /** A known_hosts line for the sandbox sshd under the default app name. */
  knownHostsLine?: string | undefined;
  appHost: string;
  appAud(host?: string): string;
  teamDomain: string;
  options(): SandboxOptions;
  setOptions(patch: Partial<SandboxOptions>): SandboxOptions;
  resetCounters(): void;
  /** Revokes every token issued so far; the carrier then answers 302 to the login. */
  revokeAllTokens(kind?: 'app' | 'org' | 'all'): number;
  lastCertificate(): string | undefined;
  /** Mints tokens directly (tests that need a token without a login). */
  mintAppToken(email?: string, host?: string): Promise<string>;
  mintOrgToken(email?: string): Promise<string>;
  stop(): Promise<void>;
}

export async function startSandbox(opts: StartSandboxOptions = {}): Promise<Sandbox> {
  const {
    port: wantPort,
    host: listenHost = '127.0.0.1',
    sshd: wantSshd = true,
    users,
    origins,
    tcpService = false,
    database: wantDatabase = false,
    keepDir,
    log: logOpt,
    ...options
  } = opts;
  const log = logOpt ?? (process.env.ACCESS_SSH_SANDBOX_DEBUG ? (l: string) => process.stderr.write(`[sandbox] ${l}\n`) : undefined);
  const dir = mkdtempSync(join(tmpdir(), 'access-ssh-sandbox-'));
  let sshd: Sshd | undefined;
  let tcpSshd: Sshd | undefined;
  let database: Postgres | undefined;
  let edge: Edge | undefined;
  try {
    const [tls, keys, sshCa] = await Promise.all([createTlsPki(dir), createTeamKeys(dir), createSshCa(dir)]);
    const state = new SandboxState(options);
    if (wantSshd) {
      sshd = await startSshd({ dir: mkdtempSync(join(dir, 'sshd-')), trustedUserCaKeysFile: sshCa.publicKeyFile, users });
    }
    if (tcpService) {
      tcpSshd = await startSshd({ dir: mkdtempSync(join(dir, 'tcp-sshd-')), trustedUserCaKeysFile: sshCa.publicKeyFile, users });
    }
    if (wantDatabase) database = await startPostgres();
    const origin = (host: string, jump: string | undefined): Origin | string | undefined => {
      if (origins?.[host]) return origins[host];
      if (host === DB_APP && database) return { host: database.host, port: database.port };
      if (host === BASTION_APP) return bastionOrigin(jump);
      if (host === TCP_APP && tcpSshd) return { host: tcpSshd.host, port: tcpSshd.port };
      return sshd ? { host: sshd.host, port: sshd.port } : undefined;
    };
    let env: SandboxEnv | undefined;
    const admin = async (req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean> => {
      const key = `${req.method} ${path}`;
      switch (key) {
        case 'GET /counters':
          sendJson(res, 200, state.counters);
          return true;
        case 'POST /counters/reset':
          state.resetCounters();
          sendJson(res, 200, state.counters);
          return true;
        case 'GET /options':
          sendJson(res, 200, state.options);
          return true;
        case 'POST /options': {
          try {
            sendJson(res, 200, state.setOptions(JSON.parse((await readBody(req)) || '{}') as Partial<SandboxOptions>));
          } catch (err) {
            sendError(res, 400, (err as Error).message);
          }
          return true;
        }
        case 'POST /revoke': {
          let kind: 'app' | 'org' | 'all' = 'all';
          try {
            const b = JSON.parse((await readBody(req)) || '{}') as { kind?: 'app' | 'org' | 'all' };
            if (b.kind) kind = b.kind;
          } catch {
            // default: all
          }
          sendJson(res, 200, { revoked: state.revokeAll(kind) });
          return true;
        }
        case 'GET /env':
          sendJson(res, 200, env);
          return true;
        case 'GET /last-certificate':
          sendJson(res, 200, { certificate: state.lastCertificate ?? null, serial: state.counters.lastSerial });
          return true;
        case 'GET /carrier-requests':
          sendJson(res, 200, state.carrierRequests);
          return true;
        case 'GET /health':
          sendJson(res, 200, { ok: true, sshdPort: sshd?.port ?? null });
          return true;
        default:
          return false;
      }
    };
    edge = new Edge({ state, keys, sshCa, tls, origin, admin, dir, log });
    const port = await edge.listen(wantPort ?? 0, listenHost);
    env = { ACCESS_SSH_CONNECT_TO: `::${listenHost}:${port}`, NODE_EXTRA_CA_CERTS: tls.caFile };
    writeFileSync(
      join(dir, 'env'),
      Object.entries(env)
        .map(([k, v]) => `${k}=${v}\n`)
        .join(''),
    );
    const e = edge;
    const s = sshd;
    const t = tcpSshd;
    const db = database;
    let stopped = false;
    return {
      port,
      env,
      caFile: tls.caFile,
      sshCaPublicKeyFile: sshCa.publicKeyFile,
      counters: state.counters,
      dir,
      sshd: s,
      ...(t ? { tcpSshd: t } : {}),
      ...(db ? { database: db } : {}),
      carrierRequests: () => state.carrierRequests.map((r) => ({ ...r, headers: { ...r.headers } })),
      knownHostsLine: s?.knownHostsLine(DEFAULT_APP),
      appHost: DEFAULT_APP,
      appAud: (host = DEFAULT_APP) => appAud(host),
      teamDomain: TEAM_DOMAIN,
      options: () => state.options,
      setOptions: (patch) => state.setOptions(patch),
      resetCounters: () => state.resetCounters(),
      revokeAllTokens: (kind = 'all') => state.revokeAll(kind),
      lastCertificate: () => state.lastCertificate,
      mintAppToken: (email = state.options.defaultEmail, host = DEFAULT_APP) => e.mint.appToken(host, email),
      mintOrgToken: (email = state.options.defaultEmail) => e.mint.orgToken(email),
      async stop() {
        if (stopped) return;
        stopped = true;
        await Promise.allSettled([e.close(), s?.stop(), t?.stop(), db?.stop()]);
        if (!keepDir) rmSync(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await Promise.allSettled([edge?.close(), sshd?.stop(), tcpSshd?.stop(), database?.stop()]);
    if (!keepDir) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
}

/**
 * cloudflared's bastion mode (carrier.ResolveBastionDest): the destination is the
 * Cf-Access-Jump-Destination header, scheme and path stripped. The sandbox connects
 * only to loopback; anything else, or no header, is refused as the bastion would fail.
 */
export function bastionOrigin(jump: string | undefined): Origin | string {
  if (jump === undefined || jump === '') {
    return 'Did not receive final destination from client. The --destination flag is likely not set on the client side';
  }
  let hostPort = jump;
  try {
    const u = new URL(jump);
    if (u.host !== '') hostPort = u.host;
  } catch {
    // not a URL: host:port[/path]
  }
  hostPort = hostPort.split('/')[0]!;
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(hostPort);
  if (!m) return `bastion: ${hostPort} is not host:port`;
  const host = (m[1] ?? m[2])!.toLowerCase();
  if (!['127.0.0.1', 'localhost', '::1'].includes(host)) return `bastion: the sandbox reaches only loopback destinations, not ${host}`;
  return { host: host === 'localhost' ? '127.0.0.1' : host, port: Number(m[3]) };
}

export const SANDBOX_NAMES = { app: DEFAULT_APP, team: TEAM_DOMAIN, transfer: TRANSFER_HOST, admin: ADMIN_HOST, teamAud: TEAM_AUD };
