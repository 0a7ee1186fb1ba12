// The sandbox Access edge: one HTTPS server that answers for every host name of the
// wire contract (DESIGN §3), routed by the Host header:
//   *.sandbox.test                 the Access applications (metadata, login page, carrier, exchange)
//   sandbox.cloudflareaccess.com   the team domain (JWKS, team login, cert_sign)
//   login.cloudflareaccess.org     the transfer service
//   sandbox.fed.cloudflareaccess.com, login.fed.cloudflareaccess.org
//                                  the FedRAMP team and its transfer service (apps in fedrampHosts)
//   admin.sandbox.test, localhost  the sandbox's own admin API (counters, options, revoke)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { createServer as createHttpsServer, type Server } from 'node:https';
import { connect as netConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import nacl from 'tweetnacl';
import './ws-mask'; // before ws: word-wise masking, as in the bundles
import { createWebSocketStream, WebSocketServer } from 'ws';
import { cookies, escapeHtml, hostOf, page, readBody, redirect, send, sendError, sendJson } from './http-util';
import { requireTool, run } from './exec';
import { USER_EXTENSIONS, type SshCa } from './ssh-ca';
import {
  ADMIN_HOST,
  appAud,
  FED_TRANSFER_HOST,
  isAppHost,
  JUMP_DESTINATION_HEADER,
  randomId,
  teamByDomain,
  TRANSFER_HOST,
  type Endpoint,
  type Fault,
  type SandboxState,
  type Team,
} from './state';
import { createTeamKeys, type TeamKeys } from './team-keys';
import { TokenMint, type AccessClaims } from './tokens';

export interface Origin {
  host: string;
  port: number;
}

export interface EdgeDeps {
  state: SandboxState;
  keys: TeamKeys;
  sshCa: SshCa;
  tls: { keyPem: string; certPem: string };
  /**
   * Where an accepted carrier connection goes, per app host and the client's
   * Cf-Access-Jump-Destination (a string: refuse with 502 and that message).
   */
  origin(host: string, jumpDestination: string | undefined): Origin | string | undefined;
  /** Admin API hook (admin.sandbox.test); returns false when the path is unknown. */
  admin?(req: IncomingMessage, res: ServerResponse, path: string): Promise<boolean>;
  /** Work directory for scratch files (wrong-key certificates). */
  dir: string;
  log?: ((line: string) => void) | undefined;
}

const CLI_PATH = '/cdn-cgi/access/cli';
const CERTS_PATH = '/cdn-cgi/access/certs';
const LOGIN_PATH = '/cdn-cgi/access/login';
const AUTHORIZED_PATH = '/cdn-cgi/access/authorized';
const CERT_SIGN_PATH = '/cdn-cgi/access/cert_sign';
const TRANSFER_PREFIX = '/transfer/';

/** Decodes a NaCl box public key as the CLI sends it (base64url, padded or not). */
function decodeBoxKey(s: string): Uint8Array | undefined {
  if (!/^[A-Za-z0-9_-]{43}=?$/.test(s)) return undefined;
  const buf = Buffer.from(s.replace(/=+$/, ''), 'base64url');
  return buf.length === 32 ? new Uint8Array(buf) : undefined;
}

/** Go's base64.URLEncoding: base64url with padding. */
function goUrlEncoding(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64').replace(/\+/g, '-').replace(/\//g, '_');
}

function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

function principalOf(email: string): string {
  return email.slice(0, email.lastIndexOf('@'));
}

export class Edge {
  readonly server: Server;
  readonly mint: TokenMint;
  private readonly wss = new WebSocketServer({ noServer: true, perMessageDeflate: false });
  private readonly sockets = new Set<Socket>();
  private readonly pipes = new Set<{ close(): void }>();
  private readonly state: SandboxState;

  constructor(private readonly deps: EdgeDeps) {
    this.state = deps.state;
    this.mint = new TokenMint(deps.keys, deps.state);
    this.server = createHttpsServer({ key: deps.tls.keyPem, cert: deps.tls.certPem });
    this.server.on('connection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server.on('secureConnection', (s: Socket) => {
      this.sockets.add(s);
      s.once('close', () => this.sockets.delete(s));
    });
    this.server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      this.handle(req, res).catch((err: Error) => {
        this.log(`error on ${req.method} ${hostOf(req)}${req.url}: ${err.stack ?? err.message}`);
        if (!res.headersSent) sendError(res, 500, 'sandbox edge error: ' + err.message);
        else res.destroy();
      });
    });
    this.server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      this.upgrade(req, socket, head).catch((err: Error) => {
        this.log(`upgrade error: ${err.stack ?? err.message}`);
        socket.destroy();
      });
    });
  }

  listen(port: number, host = '127.0.0.1'): Promise<number> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, host, () => {
        const addr = this.server.address();
        resolve(typeof addr === 'object' && addr ? addr.port : port);
      });
    });
  }

  async close(): Promise<void> {
    for (const waiters of this.state.transferWaiters.values()) for (const w of waiters) w();
    for (const p of this.pipes) p.close();
    for (const c of this.wss.clients) c.terminate();
    this.wss.close();
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      for (const s of this.sockets) s.destroy();
      this.server.closeAllConnections?.();
    });
  }

  private log(line: string): void {
    this.deps.log?.(line);
  }

  // ---------------------------------------------------------------- faults

  /**
   * The one place faults are applied. Returns true when the fault answered (or dropped)
   * the request; false when the endpoint should be served (possibly after a stall).
   */
  private async applyFault(endpoint: Endpoint, res: ServerResponse): Promise<boolean> {
    const f = this.state.takeFault(endpoint);
    if (!f) return false;
    return this.applyHttpFault(f, res);
  }

  /** A second RSA key pair, made on first use: "signed by someone else". */
  private foreignKeys?: Promise<TeamKeys>;
  private foreign(): Promise<TeamKeys> {
    this.foreignKeys ??= createTeamKeys(mkdtempSync(join(this.deps.dir, 'foreign-team-')), 'foreign');
    return this.foreignKeys;
  }

  private async applyHttpFault(f: Fault, res: ServerResponse): Promise<boolean> {
    if (f.delayMs) await sleep(f.delayMs);
    if (f.hang) return true; // never answer; close() destroys the socket
    if (f.reset) {
      res.socket?.destroy();
      return true;
    }
    if (f.status !== undefined) {
      if (f.body !== undefined) send(res, f.status, f.body, { 'content-type': f.contentType ?? 'text/plain' });
      else sendError(res, f.status, `sandbox fault: status ${f.status}`);
      return true;
    }
    // Only a stall, or a fault in the content the endpoint serves: serve normally.
    if (f.certificate) (res as unknown as { certificateFault?: Fault['certificate'] }).certificateFault = f.certificate;
    (res as unknown as { contentFault?: Fault }).contentFault = f;
    return false;
  }

  // ---------------------------------------------------------------- routing

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const host = hostOf(req);
    const url = new URL(req.url ?? '/', `https://${host || 'localhost'}`);
    this.state.prune();
    if (host === ADMIN_HOST || host === 'localhost' || host === '127.0.0.1') {
      if (this.deps.admin && (await this.deps.admin(req, res, url.pathname))) return;
      sendError(res, 404, `no such admin endpoint ${url.pathname}`);
      return;
    }
    const team = teamByDomain(host);
    if (team) return this.team(req, res, url, team);
    if (host === TRANSFER_HOST || host === FED_TRANSFER_HOST) return this.transfer(req, res, url, host);
    if (isAppHost(host)) return this.app(req, res, url, host);
    send(res, 404, `no Access application at ${host}\n`, { 'content-type': 'text/plain' });
  }

  // ---------------------------------------------------------------- app host

  private async app(req: IncomingMessage, res: ServerResponse, url: URL, host: string): Promise<void> {
    const aud = appAud(host);
    if (req.headers['cf-access-metadata-request'] === 'true') {
      this.state.counters.metadata += 1;
      if (await this.applyFault('metadata', res)) return;
      const bad = (res as unknown as { contentFault?: Fault }).contentFault?.metadataJwt;
      const signer = bad === 'foreign-key' ? await this.foreign() : this.deps.keys;
      const jwt = await signer.sign({
        type: 'match',
        hostname: host,
        auth_domain: bad === 'foreign-auth-domain' ? 'login.attacker.example' : this.state.teamOf(host).domain,
        aud,
        app_hostname: host,
        iat: Math.floor(Date.now() / 1000),
      });
      const offset = (res as unknown as { contentFault?: Fault }).contentFault?.dateOffsetSeconds;
      redirect(res, this.teamLoginUrl(host, aud, url.pathname + url.search).url, {
        'cf-access-metadata': jwt,
        ...(offset !== undefined ? { date: new Date(Date.now() + offset * 1000).toUTCString() } : {}),
      });
      return;
    }
    if (url.pathname.startsWith(LOGIN_PATH) && cookies(req).has('CF_Authorization')) {
      // A login page on an app host: whoever runs it now holds the cookie (the
      // `redirectTo: 'foreign-login'` fault's collector). Counted, then refused.
      this.state.counters.orgTokenLeaks += 1;
      sendError(res, 403, 'this is not the team domain');
      return;
    }
    if (url.pathname === CLI_PATH) return this.cli(req, res, url, host, aud);
    if (url.pathname === AUTHORIZED_PATH) return this.authorized(req, res, url, host);

    // The protected application itself: valid app token (cookie or header) → the origin
    // page; an app under a Bypass policy serves everyone.
    if (this.state.options.bypassHosts.includes(host)) {
      send(res, 200, `sandbox origin ${host}: Bypass policy, no login needed\n`, { 'content-type': 'text/plain' });
      return;
    }
    const presented = cookies(req).get('CF_Authorization') ?? (req.headers['cf-access-token'] as string | undefined);
    if (presented) {
      try {
        const claims = await this.mint.check(presented, { kind: 'app', host });
        send(res, 200, `sandbox origin ${host}: signed in as ${claims.email}\n`, { 'content-type': 'text/plain' });
        return;
      } catch {
        // fall through to the login redirect, as Access does
      }
    }
    this.state.counters.appRedirects += 1;
    if (await this.applyFault('appRedirect', res)) return;
    const session = randomId(16);
    const teamLogin = this.teamLoginUrl(host, aud, url.pathname + url.search);
    const { ref } = teamLogin;
    const location =
      (res as unknown as { contentFault?: Fault }).contentFault?.redirectTo === 'foreign-login'
        ? teamLogin.url.replace(`https://${this.state.teamOf(host).domain}/`, 'https://collector.sandbox.test/')
        : teamLogin.url;
    this.state.appSessions.set(session, { host, aud, redirectUrl: url.pathname + url.search, expires: Date.now() + 5 * 60_000 });
    this.state.loginRefs.set(ref, session);
    redirect(res, location, { 'set-cookie': `CF_AppSession=${session}; Path=/; Secure; HttpOnly; SameSite=None` });
  }

  private teamLoginUrl(host: string, aud: string, redirectUrl: string): { url: string; ref: string } {
    const ref = randomId(12);
    const q = new URLSearchParams({ kid: aud, redirect_url: redirectUrl || '/', meta: ref });
    return { url: `https://${this.state.teamOf(host).domain}${LOGIN_PATH}/${host}?${q.toString()}`, ref };
  }

  /** The CLI login page: plays the identity provider (a form, or auto-approval). */
  private async cli(req: IncomingMessage, res: ServerResponse, url: URL, host: string, aud: string): Promise<void> {
    let params = url.searchParams;
    let approveAs: string | undefined;
    if (req.method === 'POST') {
      params = new URLSearchParams(await readBody(req));
      approveAs = (params.get('email') ?? '').trim();
    } else if (req.method === 'GET' || req.method === 'HEAD') {
      this.state.counters.loginPage += 1;
      if (await this.applyFault('loginPage', res)) return;
      const auto = this.state.options.autoApprove;
      if (auto) approveAs = typeof auto === 'string' ? auto : this.state.options.defaultEmail;
    } else {
      sendError(res, 405, 'method not allowed');
      return;
    }
    const token = params.get('token') ?? '';
    const clientKey = decodeBoxKey(token);
    if (!clientKey) {
      send(
        res,
        400,
        page('Bad login request', '<h1>Bad login request</h1><p>The <code>token</code> parameter is not a NaCl box public key.</p>'),
        { 'content-type': 'text/html; charset=utf-8' },
      );
      return;
    }
    if (params.get('aud') !== aud) {
      send(
        res,
        400,
        page('Unknown application', `<h1>Unknown application</h1><p>The <code>aud</code> parameter does not name ${escapeHtml(host)}.</p>`),
        { 'content-type': 'text/html; charset=utf-8' },
      );
      return;
    }
    if (approveAs === undefined) {
      const hidden = ['token', 'aud', 'redirect_url', 'send_org_token', 'edge_token_transfer', 'close_interstitial']
        .filter((k) => params.has(k))
        .map((k) => `<input type="hidden" name="${k}" value="${escapeHtml(params.get(k) ?? '')}">`)
        .join('\n');
      const body = `<h1>Sign in to ${escapeHtml(host)}</h1>
<p>Cloudflare Access sandbox (<code>${escapeHtml(this.state.teamOf(host).domain)}</code>). This page plays the identity provider: choose who you are.</p>
<form method="post" action="${CLI_PATH}">
${hidden}
<label for="email">E-mail</label>
<input type="email" id="email" name="email" value="${escapeHtml(this.state.options.defaultEmail)}" required>
<button type="submit" id="approve">Approve</button>
</form>
<p class="muted">The command line that opened this page receives its tokens once you approve.</p>`;
      send(res, 200, page(`Sign in – ${host}`, body), { 'content-type': 'text/html; charset=utf-8' });
      return;
    }
    if (!/^[a-z_][a-z0-9._-]*@[a-z0-9.-]+$/i.test(approveAs)) {
      sendError(res, 400, `not an e-mail address: ${approveAs}`);
      return;
    }
    if (await this.applyFault('approve', res)) return;
    const hostileEmail = (res as unknown as { contentFault?: Fault }).contentFault?.email;
    if (hostileEmail !== undefined) approveAs = hostileEmail;
    await this.approve(host, approveAs, clientKey);
    const close = params.get('close_interstitial') === 'true' ? '<script>window.close()</script>' : '';
    send(
      res,
      200,
      page(
        'Signed in',
        `<h1 id="done">You may close this tab</h1><p>Signed in to ${escapeHtml(host)} as <b>${escapeHtml(approveAs)}</b>. Go back to your terminal or editor.</p>${close}`,
      ),
      { 'content-type': 'text/html; charset=utf-8' },
    );
  }

  /** Mints the token pair and seals it for the transfer service. */
  private async approve(host: string, email: string, clientKey: Uint8Array): Promise<void> {
    this.state.counters.approvals += 1;
    const team = this.state.teamOf(host);
    const appToken = await this.mint.appToken(host, email);
    // sendOrgToken false: the login service hands over the app token alone.
    const tokens = this.state.options.sendOrgToken
      ? { app_token: appToken, org_token: await this.mint.orgToken(email, team) }
      : { app_token: appToken };
    const edgeKeys = nacl.box.keyPair();
    const nonce = nacl.randomBytes(nacl.box.nonceLength);
    const message = new TextEncoder().encode(JSON.stringify(tokens));
    const boxed = nacl.box(message, nonce, clientKey, edgeKeys.secretKey);
    const sealed = Buffer.concat([Buffer.from(nonce), Buffer.from(boxed)]);
    const key = goUrlEncoding(clientKey);
    this.state.deliveries.set(key, {
      body: sealed.toString('base64'),
      servicePublicKey: goUrlEncoding(edgeKeys.publicKey),
      transferHost: team.transferHost,
    });
    const waiters = this.state.transferWaiters.get(key);
    if (waiters) for (const w of waiters) w();
  }

  /** Last hop of the org → app exchange: needs the CF_AppSession cookie set on the first hop. */
  private async authorized(req: IncomingMessage, res: ServerResponse, url: URL, host: string): Promise<void> {
    if (await this.applyFault('authorized', res)) return;
    const code = this.state.authCodes.get(url.searchParams.get('token') ?? '');
    const session = cookies(req).get('CF_AppSession');
    if (!code || code.host !== host) {
      sendError(res, 400, 'unknown or expired authorization code');
      return;
    }
    if (!session || session !== code.session) {
      sendError(res, 403, 'missing or mismatched CF_AppSession cookie');
      return;
    }
    this.state.authCodes.delete(url.searchParams.get('token') ?? '');
    const app = this.state.appSessions.get(session);
    this.state.appSessions.delete(session);
    const appToken = await this.mint.appToken(host, code.email);
    const exp = new Date((Math.floor(Date.now() / 1000) + this.state.options.appTokenTtlSeconds) * 1000);
    this.state.counters.exchanges += 1;
    redirect(res, app?.redirectUrl ?? '/', {
      'set-cookie': [
        `CF_Authorization=${appToken}; Expires=${exp.toUTCString()}; Path=/; Secure; HttpOnly; SameSite=None`,
        `CF_AppSession=; Expires=Thu, 01 Jan 1970 00:00:00 GMT; Path=/; Secure; HttpOnly`,
      ],
    });
  }

  // ---------------------------------------------------------------- team host

  private async team(req: IncomingMessage, res: ServerResponse, url: URL, team: Team): Promise<void> {
    if (url.pathname === CERTS_PATH && (req.method === 'GET' || req.method === 'HEAD')) {
      this.state.counters.jwks += 1;
      if (await this.applyFault('jwks', res)) return;
      const bad = (res as unknown as { contentFault?: Fault }).contentFault?.jwks;
      if (bad === 'other-key') sendJson(res, 200, (await this.foreign()).jwks);
      else if (bad === 'not-a-jwks')
        sendJson(res, 200, { keys: [{ kty: 'RSA', kid: 'x', n: 'not base64!', e: 'AQAB' }], public_cert: null });
      else sendJson(res, 200, this.deps.keys.jwks);
      return;
    }
    if (url.pathname === CERT_SIGN_PATH) {
      if (req.method !== 'POST') {
        sendError(res, 405, 'method not allowed');
        return;
      }
      return this.certSign(req, res, team);
    }
    if (url.pathname.startsWith(`${LOGIN_PATH}/`)) return this.teamLogin(req, res, url, team);
    sendError(res, 404, `not found: ${url.pathname}`);
  }

  /** The team login endpoint: with a valid org token, straight back to the app; else the login page. */
  private async teamLogin(req: IncomingMessage, res: ServerResponse, url: URL, team: Team): Promise<void> {
    this.state.counters.teamLogins += 1;
    if (await this.applyFault('teamLogin', res)) return;
    const host = decodeURIComponent(url.pathname.slice(LOGIN_PATH.length + 1)).toLowerCase();
    const orgToken = cookies(req).get('CF_Authorization');
    const session = this.state.loginRefs.get(url.searchParams.get('meta') ?? '');
    if (orgToken && isAppHost(host) && session && this.state.teamOf(host) === team) {
      try {
        const claims = await this.mint.check(orgToken, { kind: 'org', team });
        this.state.loginRefs.delete(url.searchParams.get('meta') ?? '');
        const code = randomId(24);
        this.state.authCodes.set(code, { session, email: claims.email, host, expires: Date.now() + 60_000 });
        redirect(res, `https://${host}${AUTHORIZED_PATH}?token=${code}`);
        return;
      } catch (err) {
        this.log(`team login: org token refused: ${(err as Error).message}`);
      }
    }
    const body = `<h1>Sign in to ${escapeHtml(isAppHost(host) ? host : team.domain)}</h1>
<p>Cloudflare Access sandbox (<code>${escapeHtml(team.domain)}</code>): you have no valid session for this team.</p>
<p class="muted">Sign in from the command line with <code>access-ssh login https://${escapeHtml(host)}</code>.</p>`;
    send(res, 200, page('Sign in', body), { 'content-type': 'text/html; charset=utf-8' });
  }

  private async certSign(req: IncomingMessage, res: ServerResponse, team: Team): Promise<void> {
    const fail = (status: number, message: string) => {
      this.state.counters.certSignErrors += 1;
      sendError(res, status, message);
    };
    if (await this.applyFault('certSign', res)) {
      this.state.counters.certSignErrors += 1;
      return;
    }
    const certificateFault = (res as unknown as { certificateFault?: Fault['certificate'] }).certificateFault;
    let body: { public_key?: unknown; jwt?: unknown; issuer?: unknown };
    try {
      body = JSON.parse(await readBody(req)) as typeof body;
    } catch {
      return fail(400, 'request body is not JSON');
    }
    if (typeof body.public_key !== 'string' || typeof body.jwt !== 'string') return fail(400, 'public_key and jwt are required');
    if (body.issuer !== undefined && body.issuer !== team.issuer)
      return fail(400, `issuer ${JSON.stringify(body.issuer)} is not ${team.issuer}`);
    let claims: AccessClaims;
    try {
      claims = await this.mint.check(body.jwt, { kind: 'app', team });
    } catch (err) {
      return fail(401, (err as Error).message);
    }
    const email = claims.email;
    // The edge decides the principal: the e-mail's local part, or the account it maps to.
    let principal = this.state.options.certPrincipal ?? principalOf(email);
    let publicKey = body.public_key;
    const now = Math.floor(Date.now() / 1000);
    let validAfter = new Date(now * 1000);
    let validBefore = new Date((now + this.state.options.certTtlSeconds) * 1000);
    if (certificateFault === 'wrong-key') publicKey = await this.foreignPublicKey();
    if (certificateFault === 'expired') {
      validAfter = new Date((now - 600) * 1000);
      validBefore = new Date((now - 300) * 1000);
    }
    if (certificateFault === 'other-principal') principal = `${principal}-other`;
    if (certificateFault === 'years') validBefore = new Date((now + 5 * 365 * 86400) * 1000);
    const criticalOptions =
      certificateFault === 'force-command'
        ? { 'force-command': '/bin/true' }
        : certificateFault === 'source-address'
          ? { 'source-address': '203.0.113.7/32' }
          : undefined;
    // doctor: a CA that grants no port forwarding (Remote-SSH needs it).
    const extensions =
      certificateFault === 'no-port-forwarding' ? USER_EXTENSIONS.filter((e) => e !== 'permit-port-forwarding') : undefined;
    const principals = certificateFault === 'no-principal' ? [] : [principal];
    const serial = this.state.nextSerial();
    let certificate: string;
    try {
      certificate = await this.deps.sshCa.sign({
        publicKey,
        keyId: email,
        principals,
        validAfter,
        validBefore,
        serial,
        ...(extensions ? { extensions } : {}),
        ...(criticalOptions ? { criticalOptions } : {}),
        ...(certificateFault === 'forever' ? { forever: true } : {}),
      });
    } catch (err) {
      return fail(400, `cannot sign public_key: ${(err as Error).message}`);
    }
    this.state.counters.certSigns += 1;
    this.state.lastCertificate = certificate;
    sendJson(res, 200, {
      id: randomId(16),
      certificate,
      expires_at: validBefore.toISOString().replace(/\.\d+Z$/, 'Z'),
    });
  }

  private async foreignPublicKey(): Promise<string> {
    const dir = mkdtempSync(join(this.deps.dir, 'foreign-'));
    try {
      await run(requireTool('ssh-keygen'), ['-q', '-t', 'ecdsa', '-b', '256', '-N', '', '-f', join(dir, 'k')]);
      return readFileSync(join(dir, 'k.pub'), 'utf8').trim();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }

  // ---------------------------------------------------------------- transfer service

  private async transfer(req: IncomingMessage, res: ServerResponse, url: URL, transferHost: string): Promise<void> {
    if (!url.pathname.startsWith(TRANSFER_PREFIX) || req.method !== 'GET') {
      send(res, 404, 'not found\n', { 'content-type': 'text/plain' });
      return;
    }
    this.state.counters.transferPolls += 1;
    if (transferHost === FED_TRANSFER_HOST) this.state.counters.fedTransferPolls += 1;
    if (await this.applyFault('transfer', res)) return;
    const raw = decodeURIComponent(url.pathname.slice(TRANSFER_PREFIX.length));
    const keyBytes = decodeBoxKey(raw);
    if (!keyBytes) {
      send(res, 400, 'bad key\n', { 'content-type': 'text/plain' });
      return;
    }
    const key = goUrlEncoding(keyBytes);
    // A login's tokens are handed over only by its team's transfer service.
    const ready = (): boolean => this.state.deliveries.get(key)?.transferHost === transferHost;
    if (!ready()) {
      // Long-poll: wait for the approval, then answer (or 404 when the wait is over).
      await new Promise<void>((resolve) => {
        const waiters = this.state.transferWaiters.get(key) ?? new Set<() => void>();
        this.state.transferWaiters.set(key, waiters);
        const done = () => {
          clearTimeout(timer);
          waiters.delete(done);
          if (waiters.size === 0) this.state.transferWaiters.delete(key);
          res.off('close', done);
          resolve();
        };
        const timer = setTimeout(done, this.state.options.transferWaitMs);
        waiters.add(done);
        res.once('close', done);
      });
    }
    if (res.destroyed || res.writableEnded) return;
    const delivery = this.state.deliveries.get(key);
    if (!delivery || delivery.transferHost !== transferHost) {
      // "Not yet": a 404, or (transferPending: 'empty-200') a 200 with an empty body.
      if (this.state.options.transferPending === 'empty-200') send(res, 200, '', { 'content-type': 'text/plain' });
      else send(res, 404, 'not found\n', { 'content-type': 'text/plain' });
      return;
    }
    // One-shot: the sealed tokens are gone once delivered.
    this.state.deliveries.delete(key);
    this.state.counters.transferDeliveries += 1;
    send(res, 200, delivery.body, { 'content-type': 'text/plain', 'service-public-key': delivery.servicePublicKey });
  }

  // ---------------------------------------------------------------- carrier (websocket)

  private async upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    socket.on('error', () => socket.destroy());
    const host = hostOf(req);
    const jump = req.headers[JUMP_DESTINATION_HEADER];
    const destination = typeof jump === 'string' ? jump : undefined;
    const seen: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers)) {
      if (k === 'cf-access-token' || k === 'cf-access-client-secret' || k === 'cookie' || v === undefined) continue;
      seen[k] = Array.isArray(v) ? v.join(', ') : v;
    }
    const record = { host, headers: seen, ...(destination !== undefined ? { destination } : {}), outcome: 'no answer' };
    this.state.recordCarrier(record);
    const rawReply = (status: string, headers: Record<string, string> = {}, body = '') => {
      record.outcome = status.startsWith('302') ? 'refused' : status.split(' ')[0]!;
      const lines = [
        `HTTP/1.1 ${status}`,
        ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`),
        `Content-Length: ${Buffer.byteLength(body)}`,
        'Connection: close',
        '',
        body,
      ];
      socket.end(lines.join('\r\n'));
    };
    if (!isAppHost(host)) {
      rawReply('404 Not Found');
      return;
    }
    const fault = this.state.takeFault('carrier');
    if (fault) {
      if (fault.delayMs) await sleep(fault.delayMs);
      if (fault.hang) return;
      if (fault.reset) {
        socket.destroy();
        return;
      }
      if (fault.status === 302) {
        // What Access answers when it no longer accepts the token.
        this.state.counters.carrierRefused += 1;
        rawReply('302 Found', { Location: this.teamLoginUrl(host, appAud(host), '/').url });
        return;
      }
      if (fault.status !== undefined) {
        rawReply(`${fault.status} Sandbox Fault`);
        return;
      }
    }
    const dropAfterBytes = fault?.dropAfterBytes;
    const aud = appAud(host);
    let who: string | undefined;
    let viaServiceToken = false;
    const id = req.headers['cf-access-client-id'];
    const secret = req.headers['cf-access-client-secret'];
    const token = (req.headers['cf-access-token'] as string | undefined) ?? cookies(req).get('CF_Authorization');
    if (typeof id === 'string' && typeof secret === 'string') {
      const st = this.state.options.serviceTokens.find((t) => t.clientId === id && t.clientSecret === secret);
      if (st) {
        who = st.name ?? `service token ${id}`;
        viaServiceToken = true;
      }
    }
    if (!who && this.state.options.bypassHosts.includes(host)) {
      // A Bypass policy (or a WARP-admitted user): in without a token.
      who = 'bypass';
      this.state.counters.carrierBypass += 1;
    }
    if (!who && token) {
      try {
        who = (await this.mint.check(token, { kind: 'app', host })).email;
      } catch (err) {
        this.log(`carrier ${host}: token refused: ${(err as Error).message}`);
      }
    }
    if (!who) {
      this.state.counters.carrierRefused += 1;
      rawReply('302 Found', { Location: this.teamLoginUrl(host, aud, '/').url });
      return;
    }
    const origin = this.deps.origin(host, destination);
    if (!origin || typeof origin === 'string') {
      rawReply('502 Bad Gateway', { 'Content-Type': 'text/plain' }, origin ? `${origin}\n` : '');
      return;
    }
    // As cloudflared's proxyStream: the origin is dialled first, and only a connection
    // that reached it is acknowledged; an origin that refuses (sshd stopped) is a 502.
    let tcp: Socket;
    try {
      tcp = await new Promise<Socket>((resolve, reject) => {
        const c = netConnect(origin.port, origin.host);
        c.once('connect', () => {
          c.off('error', reject);
          resolve(c);
        });
        c.once('error', reject);
      });
    } catch (err) {
      this.log(`carrier ${host}: origin ${origin.host}:${origin.port} unreachable: ${(err as Error).message}`);
      rawReply('502 Bad Gateway');
      return;
    }
    if (socket.destroyed) {
      tcp.destroy();
      return;
    }
    record.outcome = 'accepted';
    this.state.counters.carrierAccepted += 1;
    if (viaServiceToken) this.state.counters.carrierServiceToken += 1;
    this.wss.handleUpgrade(req, socket, head, (ws) => {
      const stream = createWebSocketStream(ws);
      const pipe = {
        close: () => {
          tcp.destroy();
          stream.destroy();
          ws.terminate();
        },
      };
      this.pipes.add(pipe);
      const end = () => {
        this.pipes.delete(pipe);
        pipe.close();
      };
      tcp.on('error', end);
      stream.on('error', end);
      tcp.on('close', () => {
        this.pipes.delete(pipe);
        if (ws.readyState === ws.OPEN) ws.close(1000);
      });
      stream.on('close', () => {
        this.pipes.delete(pipe);
        tcp.end();
      });
      if (dropAfterBytes !== undefined) {
        // The websocket dropped mid-session: after this many bytes from the origin, the
        // connection goes away without a close frame.
        let carried = 0;
        tcp.on('data', (chunk: Buffer) => {
          carried += chunk.length;
          if (carried >= dropAfterBytes) {
            this.log(`carrier ${host}: dropping the websocket after ${carried} bytes (fault)`);
            setImmediate(() => {
              ws.terminate();
              tcp.destroy();
            });
          }
        });
      }
      // pipe() gives backpressure both ways.
      stream.pipe(tcp);
      tcp.pipe(stream);
    });
  }
}
