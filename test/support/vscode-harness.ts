// The extension's services on the `vscode` stand-in, for unit tests of src/vscode/:
// the real AccessState over a ~/.cloudflared in the test's own HOME, the real host
// registry on the stand-in's settings, the real SSH config writer, the real
// provider; only the Access flows that would reach the network (login, discovery,
// certificate issue) are played by FakeAccess, which writes what the real flow
// writes (token files, a certificate signed by ssh-keygen) and records each call.
import { HOME } from './vscode.js';
import * as vscode from './vscode-stub.js';
import { writeUserCertificate } from './ssh-cert.js';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { EnsureResult } from '../../src/access/cert.js';
import { appTokenFile, orgTokenFile } from '../../src/access/paths.js';
import type { LoginOptions, LoginResult } from '../../src/access/token-flow.js';
import type { AppInfo } from '../../src/access/types.js';
import { parseAppToken, parseOrgToken } from '../../src/access/jwt.js';
import { readCertificate } from '../../src/access/cert-check.js';
import { parseHostname } from '../../src/ssh/validate.js';
import { AccessService } from '../../src/vscode/access.js';
import { AccessState } from '../../src/vscode/access-state.js';
import { AccessAuthProvider } from '../../src/vscode/auth-provider.js';
import type { Services } from '../../src/vscode/connect.js';
import { HostRegistry } from '../../src/vscode/host-registry.js';
import { createLog } from '../../src/vscode/log.js';
import { SshConfigSync } from '../../src/vscode/ssh-config-sync.js';
import type { Clock } from '../../src/hosts/renewal.js';
import { fakeJwt } from '../unit/access/helpers.js';
import { hostname } from './hostname.js';

export { HOME, vscode };
export const DIR = join(HOME, '.cloudflared');
export const TEAM = 'sandbox.cloudflareaccess.com';
export const EMAIL = 'jdoe@example.com';
export const nowS = (): number => Math.floor(Date.now() / 1000);

function ensureDir(): void {
  mkdirSync(DIR, { recursive: true, mode: 0o700 });
}

/** An app token file for `host` as the token flow stores it. */
export function writeAppToken(host: string, opts: { exp?: number; team?: string; email?: string; aud?: string } = {}): string {
  ensureDir();
  const aud = opts.aud ?? `aud${host.replace(/[^a-z0-9]/g, '')}`;
  const file = appTokenFile(DIR, hostname(host), aud);
  const claims = {
    aud: [aud],
    exp: opts.exp ?? nowS() + 3600,
    iss: `https://${opts.team ?? TEAM}`,
    email: opts.email ?? EMAIL,
    type: 'app',
  };
  writeFileSync(file, fakeJwt(claims), { mode: 0o600 });
  return file;
}

/** The team's org token file. */
export function writeOrgToken(opts: { exp?: number; team?: string; email?: string } = {}): string {
  ensureDir();
  const team = opts.team ?? TEAM;
  const file = orgTokenFile(DIR, team);
  writeFileSync(
    file,
    fakeJwt({ aud: [team], exp: opts.exp ?? nowS() + 86400, iss: `https://${team}`, email: opts.email ?? EMAIL, type: 'org' }),
    {
      mode: 0o600,
    },
  );
  return file;
}

/** A key pair and user certificate for `host` under ~/.cloudflared, valid from a minute ago for ten minutes (or `opts`). */
export function writeCertificate(host: string, principal = 'jdoe', opts: { validFromS?: number; validUntilS?: number } = {}): void {
  writeUserCertificate(DIR, host, { principal, ...opts });
}

/** The Access flows that would reach the edge, played locally; every call recorded. */
export class FakeAccess extends AccessService {
  readonly calls: { op: string; host?: string }[] = [];
  /** What a login does: by default stores tokens as a completed browser login would. */
  onLogin: (host: string, opts: Omit<LoginOptions, 'interactive'>) => Promise<void> = async () => undefined;
  /** What a certificate request does: by default issues one valid for ten minutes. */
  onEnsure: (host: string) => Promise<boolean> = async (host) => {
    writeCertificate(host);
    return true;
  };
  team = TEAM;

  constructor() {
    super(createLog(), 'test');
  }

  override async login(host: string, opts: Omit<LoginOptions, 'interactive'>): Promise<LoginResult> {
    this.calls.push({ op: 'login', host });
    await this.onLogin(host, opts);
    // Read back through the parsers, as the real login's result is made.
    const app = parseAppToken(readFileSync(writeAppToken(host, { team: this.team }), 'utf8'));
    const org = parseOrgToken(readFileSync(writeOrgToken({ team: this.team }), 'utf8'));
    const appInfo: AppInfo = { authDomain: this.team, appAud: app.claims.aud[0]!, appHostname: hostname(host) };
    return { appInfo, appToken: app.token, orgToken: org.token, claims: app.claims };
  }

  override discover(host: string): Promise<AppInfo> {
    this.calls.push({ op: 'discover', host });
    return Promise.resolve({ authDomain: this.team, appAud: 'aud', appHostname: hostname(host) });
  }

  override ensureCertificate(host: string): Promise<EnsureResult> {
    this.calls.push({ op: 'ensureCertificate', host });
    const run = (async () => {
      const renewed = await this.onEnsure(host);
      const name = parseHostname(host);
      const cert = name === undefined ? undefined : await readCertificate(DIR, name);
      if (!cert) throw new Error(`no certificate for ${host}`);
      return { cert, renewed };
    })();
    this.inflight.add(run);
    void run.then(
      () => this.inflight.delete(run),
      () => this.inflight.delete(run),
    );
    return run;
  }

  private readonly inflight = new Set<Promise<unknown>>();
  /** Resolves when no certificate request is under way (a test ends only then: the next one clears the files). */
  async idle(): Promise<void> {
    while (this.inflight.size > 0) await Promise.allSettled([...this.inflight]);
  }

  override renewAppToken(appInfo: AppInfo): Promise<boolean> {
    this.calls.push({ op: 'renewAppToken', host: appInfo.appHostname });
    return Promise.resolve(true);
  }

  ops(op: string): (string | undefined)[] {
    return this.calls.filter((c) => c.op === op).map((c) => c.host);
  }
}

/** The configured hosts (accessSSH.hosts in user settings). */
export function setHosts(hosts: unknown[]): void {
  vscode.setSetting('accessSSH.hosts', hosts);
}

export interface Harness extends Services {
  readonly access: FakeAccess;
  readonly context: ReturnType<typeof vscode.extensionContext>;
}

/** Fresh services on a fresh stand-in; disposed after the test. `clock`: the provider's timers (default the real one). */
export async function services(
  t: { after(fn: () => unknown): void },
  hosts: unknown[] = [],
  opts: { clock?: Clock } = {},
): Promise<Harness> {
  vscode.reset();
  for (const d of [DIR, join(HOME, '.ssh'), join(HOME, 'storage')]) rmSync(d, { recursive: true, force: true });
  setHosts(hosts);
  // Not ~/.ssh/config: ssh -G then gets it with -F (else it reads the passwd home's, not this HOME's).
  vscode.setSetting('accessSSH.configFile', join(HOME, '.ssh', 'config-under-test'));
  const context = vscode.extensionContext(join(HOME, 'storage'));
  const log = createLog();
  const access = new FakeAccess();
  const state = new AccessState(log, context.globalState, DIR);
  const registry = new HostRegistry(log);
  const sync = new SshConfigSync(context as never, log, state);
  const auth = new AccessAuthProvider(access, state, log, () => registry.hosts, opts.clock);
  t.after(async () => {
    await access.idle();
    for (const d of [auth, registry, state]) d.dispose();
    for (const d of context.subscriptions) d.dispose();
  });
  await Promise.all([state.reload(), registry.reload()]);
  return { access, state, auth, registry, sync, log, context };
}
