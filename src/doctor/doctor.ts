// `access-ssh doctor` and "Access: Diagnose Connection…": the whole chain from this
// machine to the sshd behind Access, walked in the order a connection takes it, each
// step passed / failed / skipped with its time and, for a failure, the cause and the
// one next step. No `vscode` here: the helper and the extension run the same code.
//
// What it changes: like any ssh through the entries, it may exchange the team session
// for an app token (or, when interactive, sign in in the browser), and it has a new
// certificate signed (cert_sign is a step): the files are the ones `ssh-gen` writes.
// It never accepts a host key into the user's known_hosts.

import { spawn } from 'node:child_process';
import { promises as dns } from 'node:dns';
import { mkdtemp, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isAppError, type NextStep } from '../base/app-error.js';
import type { Hostname } from '../base/hostname.js';
import { describeError, isAccessError } from '../access/errors.js';
import type { HttpResponse } from '../access/http.js';
import { decodeClaims, emailLocalPart } from '../access/jwt.js';
import { hasStarted, isoTime } from '../access/cert-file.js';
import { certFile, certKeyFile } from '../access/paths.js';
import { redact } from '../access/redact.js';
import type { AccessContext, LoginOptions } from '../access/token-flow.js';
import type { AppInfo, AppToken } from '../access/types.js';
import { locateOption, normalizePath, sshG, type OptionSource } from '../ssh/ssh-g.js';

export type StepStatus = 'passed' | 'failed' | 'skipped';

export type StepId =
  'dns' | 'proxy' | 'tls' | 'discovery' | 'metadata' | 'clock' | 'tokens' | 'cert_sign' | 'certificate' | 'carrier' | 'ssh_config' | 'ssh';

export const STEP_TITLES: Readonly<Record<StepId, string>> = {
  dns: 'name resolution',
  proxy: 'proxy',
  tls: 'TLS to the app host',
  discovery: 'app discovery',
  metadata: 'metadata JWT and JWKS',
  clock: 'clock skew',
  tokens: 'tokens',
  cert_sign: 'cert_sign',
  certificate: 'certificate',
  carrier: 'carrier (websocket)',
  ssh_config: 'ssh config (ssh -G)',
  ssh: 'ssh (BatchMode)',
};

export interface StepResult {
  readonly id: StepId;
  readonly title: string;
  readonly status: StepStatus;
  /** Wall time of the step in milliseconds (0 when skipped). */
  readonly ms: number;
  /** What was found, one fact per line. */
  readonly details: readonly string[];
  /** Failed: what is wrong. Skipped: why the step did not run. */
  readonly cause?: string;
  /**
   * Failed: the one thing to do next, as a text that names no front end; or, with
   * `action`, more about that step (its hint). Read it through `stepNext` (report.ts).
   */
  readonly next?: string;
  /**
   * Failed: the next step as an action (src/base/app-error.ts) that each front end words
   * for itself (the helper its `login` command line, the extension its Sign In command):
   * the report is read in both. The host it is about is the report's.
   */
  readonly action?: NextStep;
}

export interface DoctorReport {
  readonly host: string;
  readonly alias: string;
  readonly startedAt: string;
  readonly ok: boolean;
  /** The first failed step, if any. */
  readonly failed?: StepId;
  readonly steps: readonly StepResult[];
}

export interface DoctorOptions {
  /** The Access application's host name (validated by the caller: a Hostname). */
  readonly host: Hostname;
  readonly ctx: AccessContext;
  /** May the tokens step sign in in the browser? Never with --non-interactive. */
  readonly login: LoginOptions;
  /** The environment of the ssh run (and the proxy settings). */
  readonly env: NodeJS.ProcessEnv;
  /** The ssh alias to try; default `cfpipe-<host>` (what Remote-SSH connects to). */
  readonly alias?: string;
  /** ssh's `-F`; default ssh's own (~/.ssh/config). */
  readonly sshConfigFile?: string;
  readonly sshPath?: string;
  /** For `~` in ssh paths; default the home directory. */
  readonly homeDir?: string;
  /** Each step as it ends (progress). */
  onStep?(step: StepResult): void;
  readonly now?: () => Date;
}

/** What to do after a failed step: a text, or an action the front end words (with more as `hint`). */
type Next = string | { readonly action: NextStep; readonly hint?: string | undefined };

/** A step's own verdict: it failed for `cause`, and the user should do `next`. */
class StepFailure extends Error {
  constructor(
    override readonly cause: string,
    readonly next: Next,
    readonly details: readonly string[] = [],
  ) {
    super(cause);
  }
}

/** A step result's `next` and `action` fields for `next`. */
function nextFields(next: Next): { next?: string; action?: NextStep } {
  if (typeof next === 'string') return { next: clean(next) };
  return { action: next.action, ...(next.hint ? { next: clean(next.hint) } : {}) };
}

class StepSkip extends Error {
  constructor(
    readonly why: string,
    readonly details: readonly string[] = [],
  ) {
    super(why);
  }
}

/** Clock skew beyond this fails (certificates carry a validity window; cert-file.ts tolerates 120 s). */
export const MAX_SKEW_SECONDS = 60;
/** What Remote-SSH needs from the certificate: it forwards a port to reach its server. */
export const REQUIRED_EXTENSIONS = ['permit-port-forwarding'] as const;
const SSH_TIMEOUT_MS = 45_000;
const BANNER_TIMEOUT_MS = 10_000;

export async function runDoctor(opts: DoctorOptions): Promise<DoctorReport> {
  const { host, ctx } = opts;
  const now = opts.now ?? (() => new Date());
  const alias = opts.alias ?? `cfpipe-${host}`;
  const appUrl = new URL(`https://${host}/`);
  const dir = ctx.store.dir;
  const startedAt = now().toISOString();
  const steps: StepResult[] = [];
  const status = (id: StepId): StepStatus | undefined => steps.find((s) => s.id === id)?.status;

  async function step(id: StepId, needs: readonly StepId[], fn: () => Promise<readonly string[]> | readonly string[]): Promise<void> {
    const blocked = needs.find((n) => status(n) !== 'passed');
    let result: StepResult;
    if (blocked !== undefined) {
      result = {
        id,
        title: STEP_TITLES[id],
        status: 'skipped',
        ms: 0,
        details: [],
        cause: `needs "${STEP_TITLES[blocked]}", which ${status(blocked) === 'failed' ? 'failed' : 'did not run'}`,
      };
    } else {
      const t0 = performance.now();
      try {
        const details = await fn();
        result = { id, title: STEP_TITLES[id], status: 'passed', ms: elapsed(t0), details: details.map(clean) };
      } catch (err) {
        const ms = elapsed(t0);
        if (err instanceof StepSkip) {
          result = { id, title: STEP_TITLES[id], status: 'skipped', ms, details: err.details.map(clean), cause: clean(err.why) };
        } else if (err instanceof StepFailure) {
          result = {
            id,
            title: STEP_TITLES[id],
            status: 'failed',
            ms,
            details: err.details.map(clean),
            cause: clean(err.cause),
            ...nextFields(err.next),
          };
        } else {
          const e = describe(err);
          result = {
            id,
            title: STEP_TITLES[id],
            status: 'failed',
            ms,
            details: [],
            cause: clean(e.cause),
            ...nextFields(e.next ?? 'Run again with --loglevel debug and report the output.'),
          };
        }
      }
    }
    steps.push(result);
    opts.onStep?.(result);
  }

  // ---------------------------------------------------------------- name resolution
  const route = ctx.http.route(host, 443);
  await step('dns', [], async () => {
    const rerouted = route.host !== host || route.port !== 443;
    const details = rerouted
      ? [`ACCESS_SSH_CONNECT_TO sends ${host}:443 to ${route.host}:${route.port} (TLS name and Host stay ${host})`]
      : [];
    if (route.proxy) throw new StepSkip(`the proxy ${route.proxy.display} (${route.proxy.source}) resolves ${route.host}`, details);
    const name = rerouted ? route.host : host;
    if (isIP(name)) return [...details, `${name} is an address: nothing to resolve`];
    try {
      const addrs = await dns.lookup(name, { all: true });
      return [...details, `${name} → ${addrs.map((a) => a.address).join(', ')}`];
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      throw new StepFailure(
        `${name} does not resolve (${code || describeError(err)})`,
        code === 'ENOTFOUND'
          ? `Check the host name: it must be the public host name of the Access application (as in the Zero Trust dashboard), and this machine's DNS must know it.`
          : 'Check the DNS / network connection of this machine (a VPN or captive portal?).',
        details,
      );
    }
  });

  // ---------------------------------------------------------------- proxy
  await step('proxy', [], async () => {
    if (!route.proxy) throw new StepSkip('no proxy applies (HTTPS_PROXY / ALL_PROXY unset, or NO_PROXY matches the host)');
    try {
      const p = await ctx.http.probeProxy(host, 443);
      return [
        `${p?.proxy ?? route.proxy.display} (${p?.source ?? route.proxy.source}) opened a tunnel to ${p?.target ?? `${route.host}:${route.port}`} (CONNECT answered 2xx)`,
      ];
    } catch (err) {
      const e = describe(err);
      throw new StepFailure(e.cause, e.next ?? `Check the proxy in ${route.proxy.source}.`);
    }
  });

  // ---------------------------------------------------------------- TLS
  await step('tls', [route.proxy ? 'proxy' : 'dns'], async () => {
    let t;
    try {
      t = await ctx.http.inspectTls(host, 443);
    } catch (err) {
      const e = describe(err);
      throw new StepFailure(e.cause, e.next ?? 'Check the network connection (and ACCESS_SSH_CONNECT_TO, if set).');
    }
    const facts = [
      `${t.protocol}, certificate for ${t.subject || '(no name)'} issued by ${t.issuer || '(no name)'}${t.validTo ? `, valid until ${t.validTo.toISOString()}` : ''}`,
      ...(t.via ? [`connected to ${t.via} (ACCESS_SSH_CONNECT_TO)`] : []),
      ...(t.proxy ? [`through the proxy ${t.proxy}`] : []),
    ];
    if (!t.trusted) {
      const chainError = /CERT|SELF_SIGNED|UNABLE_TO|ISSUER/.test(t.error ?? '');
      if (chainError) {
        throw new StepFailure(
          `The certificate chain of ${host} is not trusted (${t.error}): it was issued by "${t.issuer}" (chain: ${t.chain.join(' ← ')}). ` +
            'This is what a TLS-inspecting proxy or firewall looks like: it re-signs traffic with its own CA.',
          { action: 'trust-network-ca' },
          facts,
        );
      }
      throw new StepFailure(
        `The certificate of ${host} is not valid for it: ${t.error ?? 'unknown reason'}`,
        'Check the host name and ACCESS_SSH_CONNECT_TO (if set): the server answering is not the one for this name.',
        facts,
      );
    }
    return facts;
  });

  // ---------------------------------------------------------------- app discovery
  let discovery: HttpResponse | undefined;
  let metadataJwt: string | undefined;
  let receivedAt = 0;
  await step('discovery', ['tls'], async () => {
    const res = await ctx.http.request({ method: 'HEAD', url: appUrl, headers: { 'cf-access-metadata-request': 'true' } });
    receivedAt = Date.now();
    discovery = res;
    const raw = header(res.headers['cf-access-metadata']);
    const location = header(res.headers['location']);
    const answer = `HEAD ${appUrl.origin}/ answered HTTP ${res.status}${location ? ` → ${safeUrl(location)}` : ''}`;
    if (raw) {
      metadataJwt = raw;
      return [`${answer} with a cf-access-metadata header`];
    }
    if (res.status === 403) {
      throw new StepFailure(
        `${host} answered 403 Forbidden without Access metadata: a WAF or firewall rule of the zone, or a country / IP block, stops the request before Access.`,
        "Ask the zone's administrator which rule blocks this machine (Security → Events in the Cloudflare dashboard show it).",
        [answer],
      );
    }
    if (res.status >= 500) {
      throw new StepFailure(
        `The Access edge failed (HTTP ${res.status}) for ${host}.`,
        "Try again in a moment; if it persists, check Cloudflare's status page.",
        [answer],
      );
    }
    if (res.status >= 300 && res.status < 400) {
      throw new StepFailure(
        `${host} redirects to ${location ? safeUrl(location) : '(no Location)'} without Access metadata: it is not (or no longer) protected by an Access application.`,
        'Check in the Zero Trust dashboard that a self-hosted Access application covers this host name.',
        [answer],
      );
    }
    throw new StepFailure(
      `No Access application at ${host}: HTTP ${res.status} without a cf-access-metadata header.`,
      'Check the host name: it must be an application protected by Cloudflare Access (an SSH application with a tunnel).',
      [answer],
    );
  });

  // ---------------------------------------------------------------- metadata JWT and JWKS
  let appInfo: AppInfo | undefined;
  await step('metadata', ['discovery'], async () => {
    const { verifyAppMetadata } = await import('../access/metadata.js');
    appInfo = await verifyAppMetadata(ctx.http, appUrl, metadataJwt ?? '', { now: now() });
    return [
      `signed by the team ${appInfo.authDomain}, verified against https://${appInfo.authDomain}/cdn-cgi/access/certs`,
      `application ${appInfo.appHostname}, audience ${appInfo.appAud.slice(0, 12)}…`,
    ];
  });

  // ---------------------------------------------------------------- clock
  await step('clock', ['discovery'], () => {
    const date = header(discovery?.headers['date']);
    const edge = date ? Date.parse(date) : NaN;
    if (Number.isNaN(edge)) throw new StepSkip("the edge's answer has no Date header");
    // Date has a resolution of one second, and was taken before the answer travelled.
    const skew = Math.round((receivedAt - edge) / 1000);
    const says = skew === 0 ? 'in step with the edge (±1 s)' : `${Math.abs(skew)} s ${skew > 0 ? 'ahead of' : 'behind'} the edge`;
    if (Math.abs(skew) > MAX_SKEW_SECONDS) {
      throw new StepFailure(
        `This machine's clock is ${says} (edge Date: ${new Date(edge).toISOString()}). Access certificates live minutes: with this skew ssh may find them not yet valid or already expired.`,
        'Set the system clock right (enable NTP time synchronisation).',
      );
    }
    return [`this machine's clock is ${says}`];
  });

  // ---------------------------------------------------------------- tokens
  let token: AppToken | undefined;
  await step('tokens', ['metadata'], async () => {
    const info = appInfo!;
    const nowS = now().getTime() / 1000;
    const details: string[] = [];
    const apps = (await ctx.store.listAppTokens()).filter((t) => t.appHostname.toLowerCase() === info.appHostname.toLowerCase());
    const liveApp = apps.find((t) => t.aud === info.appAud && t.expiresAt.getTime() / 1000 >= nowS);
    if (apps.length === 0) details.push(`app token: none stored for ${info.appHostname}`);
    for (const t of apps) {
      const aud = t.aud === info.appAud ? 'audience matches the app' : `audience ${t.aud.slice(0, 12)}… is another app's`;
      details.push(`app token: ${lifetime(t.expiresAt, nowS)}, ${aud}${t.email ? `, ${t.email}` : ''}`);
    }
    const orgs = (await ctx.store.listOrgTokens()).filter((t) => t.authDomain.toLowerCase() === info.authDomain.toLowerCase());
    const liveOrg = orgs.find((t) => t.expiresAt.getTime() / 1000 >= nowS);
    details.push(
      orgs.length === 0
        ? `team token (${info.authDomain}): none stored`
        : `team token (${info.authDomain}): ${lifetime(orgs[0]!.expiresAt, nowS)}${orgs[0]!.email ? `, ${orgs[0]!.email}` : ''}`,
    );
    const { getAppToken } = await import('../access/token-flow.js');
    try {
      token = await getAppToken(ctx, appUrl, info, opts.login);
    } catch (err) {
      if (isAccessError(err, 'login-required')) {
        throw new StepFailure(
          `Signed out: no live app token for ${info.appHostname}${liveOrg ? ', and the team session could not be exchanged for one' : ' and no team session'}.`,
          { action: 'sign-in' },
          details,
        );
      }
      const e = describe(err);
      throw new StepFailure(e.cause, e.next ?? { action: 'sign-in' }, details);
    }
    const claims = decodeClaims(token);
    if (!claims.aud.includes(info.appAud)) {
      throw new StepFailure(
        `The app token's audience does not include the application's (${info.appAud.slice(0, 12)}…).`,
        { action: 'sign-in' },
        details,
      );
    }
    details.push(
      liveApp
        ? 'using the stored app token'
        : liveOrg
          ? 'got a new app token from the team session (no browser)'
          : 'signed in in the browser',
    );
    if (!liveApp)
      details.push(
        `app token: ${lifetime(new Date(claims.exp * 1000), nowS)}, audience matches the app${claims.email ? `, ${claims.email}` : ''}`,
      );
    return details;
  });

  // ---------------------------------------------------------------- cert_sign
  let principalWanted: string | undefined;
  await step('cert_sign', ['tokens'], async () => {
    const email = token ? decodeClaims(token).email : undefined;
    if (email) principalWanted = emailLocalPart(email);
    const { ensureCertificate } = await import('../access/cert.js');
    // A margin beyond any certificate's life: always a new key and a new certificate,
    // under the lock ssh-gen takes, with every check a renewal makes.
    const { cert } = await ensureCertificate(ctx, host, {
      marginSeconds: 10 * 365 * 86400,
      appUrl,
      login: { ...opts.login, interactive: false },
    });
    const iss = token ? decodeClaims(token).iss : '';
    return [
      `a new certificate (serial ${cert.serial}) from ${iss.replace(/\/+$/, '')}/cdn-cgi/access/cert_sign`,
      `written to ${cert.path}`,
    ];
  });

  // ---------------------------------------------------------------- the ssh config, read once (ssh -G)
  let sshOptions: Map<string, string[]> | undefined;
  let sshGError: unknown;
  try {
    sshOptions = await sshG({
      alias,
      ...(opts.sshConfigFile ? { configFile: opts.sshConfigFile } : {}),
      ...(opts.sshPath ? { sshPath: opts.sshPath } : {}),
      env: opts.env,
    });
  } catch (err) {
    sshGError = err;
  }
  const first = (k: string): string | undefined => sshOptions?.get(k)?.[0];
  const where = async (option: string, value: string): Promise<OptionSource | undefined> => {
    try {
      return await locateOption(
        { alias, ...(opts.sshConfigFile ? { configFile: opts.sshConfigFile } : {}), ...(opts.homeDir ? { homeDir: opts.homeDir } : {}) },
        option,
        value,
      );
    } catch {
      return undefined;
    }
  };
  const at = (s: OptionSource | undefined): string => (s ? ` (${s.file}:${s.line})` : '');

  // ---------------------------------------------------------------- certificate
  let principalMismatch: string | undefined;
  await step('certificate', ['cert_sign'], async () => {
    const { inspectCertificate } = await import('../access/cert-check.js');
    const state = await inspectCertificate(dir, host);
    if (state.status !== 'ok') throw new StepFailure(`No usable certificate: ${state.reason}`, { action: 'refresh-certificate' });
    const c = state.cert;
    const t = now().getTime() / 1000;
    const details = [
      `${c.type} certificate, principals ${c.principals.join(', ') || '(none)'}, key id ${c.keyId}`,
      `valid ${isoTime(c.validAfter)} → ${isoTime(c.validBefore)} (${Math.round(c.validBefore - t)} s left)`,
      `extensions: ${c.extensions.join(', ') || '(none)'}${c.criticalOptions.length ? `; critical options: ${c.criticalOptions.join(', ')}` : ''}`,
    ];
    if (c.type !== 'user')
      throw new StepFailure(
        'It is a host certificate, not a user certificate.',
        'Check the Access application: it must be an SSH application with short-lived certificates.',
        details,
      );
    if (c.validBefore <= t)
      throw new StepFailure(`It expired at ${isoTime(c.validBefore)}.`, 'Check the system clock, then diagnose again.', details);
    // The helper's own clock rule (CLOCK_SKEW_SECONDS): what it would use, the doctor passes.
    if (!hasStarted(c.validAfter, t))
      throw new StepFailure(
        `It is not valid before ${isoTime(c.validAfter)}: this machine's clock is behind the edge's.`,
        'Set the system clock right (enable NTP time synchronisation).',
        details,
      );
    const missing = REQUIRED_EXTENSIONS.filter((e) => !c.extensions.includes(e));
    if (missing.length > 0) {
      throw new StepFailure(
        `It lacks ${missing.join(', ')}: sshd will refuse the port forward Remote-SSH opens to reach its server (a plain ssh shell still works).`,
        "Ask your Access administrator: the certificates of this application must allow port forwarding (Cloudflare's do by default; a custom CA or a force-command setup may not).",
        details,
      );
    }
    if (!c.extensions.includes('permit-pty')) details.push('no permit-pty: terminals in Remote-SSH get no pseudo-terminal');
    if (c.criticalOptions.includes('force-command'))
      details.push('force-command is set: the server runs its own command, which may stop Remote-SSH from starting its server');
    if (sshOptions) {
      const user = first('user') ?? '';
      const src = await where('user', user);
      details.push(`ssh logs in to ${alias} as "${user}"${at(src)}`);
      if (!c.principals.includes(user)) {
        principalMismatch = user;
        throw new StepFailure(
          `The certificate is for ${c.principals.map((p) => `"${p}"`).join(', ')}, but ssh logs in to ${alias} as "${user}"${src ? `, set by ${src.file}:${src.line} (${src.text.trim()})` : ''}.`,
          `Log in as ${c.principals.length === 1 ? `"${c.principals[0]}"` : 'one of the principals'}: ${src ? `change or remove ${src.file}:${src.line}` : `add "User ${c.principals[0] ?? ''}" to the ${alias} entry`} (unless the server maps the principal to "${user}" with AuthorizedPrincipalsFile).`,
          details,
        );
      }
    } else {
      details.push('the User ssh will use is unknown (ssh -G failed; see "ssh config")');
    }
    if (principalWanted !== undefined && !c.principals.includes(principalWanted))
      details.push(`note: the e-mail's local part "${principalWanted}" is not a principal; the edge decided "${c.principals.join(', ')}"`);
    return details;
  });

  // ---------------------------------------------------------------- carrier
  await step('carrier', ['tokens'], async () => {
    const { carrierHandshake, carrierUrl, isAccessLoginRedirect } = await import('../access/carrier.js');
    const url = carrierUrl(appUrl);
    const r = await carrierHandshake(ctx.http, url, { 'Cf-Access-Token': token! }, ctx.log);
    if (!r.ok) {
      const answer = `the websocket upgrade to ${url.origin}/ was answered HTTP ${r.status}${r.location ? ` → ${safeUrl(r.location)}` : ''}`;
      if (isAccessLoginRedirect(r.status, r.location, url)) {
        throw new StepFailure(
          'Access refused the app token (302 to the login): it was revoked, or your session no longer satisfies the policy.',
          {
            action: 'sign-in',
            hint: "If a fresh sign-in is refused too, your identity is not allowed by the application's policy: ask your Access administrator.",
          },
          [answer],
        );
      }
      const mapped = carrierStatus(r.status, host);
      throw new StepFailure(mapped.cause, mapped.next, [answer]);
    }
    // Open: the bytes that come first are the origin's SSH banner.
    const banner = await firstBytes(r.ws, BANNER_TIMEOUT_MS);
    if (banner === undefined) {
      throw new StepFailure(
        'The websocket opened, but the origin sent no SSH banner and the connection closed: the tunnel reached nothing that speaks SSH.',
        "On the server: check that sshd runs and that the tunnel's ingress rule for this host is ssh://localhost:22 (or where sshd listens).",
        [`${url.origin}/ upgraded (101)`],
      );
    }
    return [`${url.origin}/ upgraded (101)`, `the origin answered: ${banner}`];
  });

  // ---------------------------------------------------------------- ssh -G
  await step('ssh_config', [], async () => {
    if (!sshOptions) {
      const e = describe(sshGError);
      throw new StepFailure(e.cause, e.next ?? "Check that OpenSSH's ssh is installed and on the PATH.");
    }
    const details: string[] = [];
    const proxyCommand = first('proxycommand');
    const jump = first('proxyjump');
    if (!proxyCommand) {
      const src = jump ? await where('proxyjump', jump) : undefined;
      throw new StepFailure(
        `ssh has no ProxyCommand for ${alias}${jump ? `: ProxyJump ${jump}${at(src)} is set instead` : ''}, so it would not go through Access.`,
        jump && src ? `Remove the ProxyJump at ${src.file}:${src.line} for this host.` : { action: 'write-entries' },
      );
    }
    const pcSrc = await where('proxycommand', proxyCommand);
    details.push(`ProxyCommand ${proxyCommand}${at(pcSrc)}`);
    if (!/\b(?:access )?ssh\s+--hostname\b/.test(proxyCommand)) {
      throw new StepFailure(
        `The ProxyCommand in force for ${alias} is not access-ssh's (nor cloudflared's)${pcSrc ? `: it is set by ${pcSrc.file}:${pcSrc.line}` : ''}.`,
        pcSrc
          ? `Remove or move ${pcSrc.file}:${pcSrc.line}: ssh takes the first value it meets, and it comes before the Access entries.`
          : 'Check your ssh config: an earlier line sets another ProxyCommand.',
        details,
      );
    }
    const home = opts.homeDir ?? process.env['HOME'] ?? '';
    for (const [option, want] of [
      ['identityfile', certKeyFile(dir, host)],
      ['certificatefile', certFile(dir, host)],
    ] as const) {
      const got = first(option);
      const src = got ? await where(option, got) : undefined;
      if (got === undefined || normalizePath(got, home) !== want) {
        throw new StepFailure(
          `ssh offers ${option === 'identityfile' ? 'the key' : 'the certificate'} ${got ?? '(none)'} first${at(src)}, not ${want}.`,
          src ? `Remove or move ${src.file}:${src.line}: ssh takes the first value it meets.` : { action: 'write-entries' },
          details,
        );
      }
      details.push(`${option === 'identityfile' ? 'IdentityFile' : 'CertificateFile'} ${got}${at(src)}`);
    }
    details.push(`User ${first('user') ?? ''}${at(await where('user', first('user') ?? ''))}`);
    if (first('identitiesonly') !== 'yes')
      details.push("IdentitiesOnly is off: agent keys are offered first and may use up the server's MaxAuthTries");
    return details;
  });

  // ---------------------------------------------------------------- a real ssh
  await step('ssh', ['carrier', 'ssh_config'], async () => {
    const base = ['-v', ...(opts.sshConfigFile ? ['-F', opts.sshConfigFile] : []), '-o', 'BatchMode=yes', '-o', 'ConnectTimeout=15'];
    let run = await runSsh(opts.sshPath ?? 'ssh', [...base, alias, 'id -un'], opts.env);
    let seen = readSshLog(run.stderr);
    const details: string[] = [];
    if (seen.hostKeyUnknown && run.code !== 0) {
      // Remote-SSH would ask once; the doctor never accepts a key for the user. Go on
      // with a throwaway known_hosts, to test what comes after.
      details.push(`the host key ${seen.hostKey ?? ''} is not in your known_hosts yet (Remote-SSH asks you once to accept it)`);
      const tmp = await mkdtemp(join(tmpdir(), 'access-ssh-doctor-'));
      try {
        run = await runSsh(
          opts.sshPath ?? 'ssh',
          [...base, '-o', `UserKnownHostsFile=${join(tmp, 'known_hosts')}`, '-o', 'StrictHostKeyChecking=accept-new', alias, 'id -un'],
          opts.env,
        );
      } finally {
        await rm(tmp, { recursive: true, force: true });
      }
      seen = readSshLog(run.stderr);
    } else if (seen.hostKey) {
      details.push(`host key ${seen.hostKey}${seen.hostKeyKnown ? ' (known)' : ''}`);
    }
    if (seen.offered.length > 0) details.push(...seen.offered.map((o) => `offered ${o}`));
    if (run.code === 0 && seen.authenticated) {
      details.push(`authenticated; the remote account is "${run.stdout.trim()}"`);
      return details;
    }
    details.push(...seen.helperLines.map((l) => `helper: ${l}`));
    throw new StepFailure(...sshFailure(seen, run, alias, host), details);
  });

  // A principal that differs from the User is fine when the server maps it: the real ssh decides.
  if (principalMismatch !== undefined && status('ssh') === 'passed') {
    const i = steps.findIndex((s) => s.id === 'certificate');
    const c = steps[i]!;
    steps[i] = {
      id: c.id,
      title: c.title,
      status: 'passed',
      ms: c.ms,
      details: [
        ...c.details,
        `the server accepted it for "${principalMismatch}": it maps the certificate's principal to that account (AuthorizedPrincipalsFile)`,
      ],
    };
  }

  const failed = steps.find((s) => s.status === 'failed')?.id;
  return { host, alias, startedAt, ok: failed === undefined, ...(failed ? { failed } : {}), steps };
}

/** What each carrier handshake status means on a Cloudflare zone. */
export function carrierStatus(status: number, host: string): { cause: string; next: string } {
  switch (status) {
    case 403:
      return {
        cause: "Access denied the connection (403): your identity is not allowed by the application's policy, or a WAF rule blocks it.",
        next: `Ask your Access administrator to allow your identity in the policy of ${host}'s application (or the rule that blocks it).`,
      };
    case 400:
    case 426:
      return {
        cause: `The websocket upgrade was refused (${status}): WebSockets are turned off for the zone, so the SSH stream cannot be carried.`,
        next: 'Turn WebSockets on for the zone in the Cloudflare dashboard (Network → WebSockets).',
      };
    case 502:
      return {
        cause:
          "The edge reached the tunnel, but the tunnel could not reach the origin (502): sshd is down, or the tunnel's ingress points elsewhere.",
        next: "On the server: start sshd (systemctl status ssh) and check the tunnel's ingress rule for this host (ssh://localhost:22).",
      };
    case 521:
      return {
        cause: 'The origin refused the connection (521): nothing listens where the edge sends this host.',
        next: "On the server: start sshd and check the address the host's DNS record or tunnel points at.",
      };
    case 530:
      return {
        cause: 'The edge has no working tunnel for this host (530, usually error 1033): cloudflared on the server is not connected.',
        next: 'On the server: start the tunnel (systemctl status cloudflared, or cloudflared tunnel run) and check its route for this host name.',
      };
    case 404:
      return { cause: 'Nothing serves this host (404).', next: 'Check that the host is an Access SSH application served by a tunnel.' };
    default:
      return status >= 500
        ? {
            cause: `The edge or the tunnel failed (HTTP ${status}).`,
            next: "Try again in a moment; if it persists, check the tunnel on the server and Cloudflare's status page.",
          }
        : {
            cause: `The websocket upgrade was answered HTTP ${status}.`,
            next: "Check the application and the zone's settings in the Cloudflare dashboard.",
          };
  }
}

interface SshLog {
  hostKey?: string;
  hostKeyKnown: boolean;
  hostKeyUnknown: boolean;
  hostKeyChanged: boolean;
  offered: string[];
  accepted: boolean;
  authenticated: boolean;
  refused: boolean;
  permissionDenied?: string;
  closedEarly: boolean;
  timedOut: boolean;
  helperLines: string[];
  lastError?: string;
}

/** What `ssh -v` said about the host key, the keys offered and the server's answers. */
export function readSshLog(stderr: string): SshLog {
  const lines = stderr.split(/\r?\n/);
  const log: SshLog = {
    hostKeyKnown: false,
    hostKeyUnknown: false,
    hostKeyChanged: false,
    offered: [],
    accepted: false,
    authenticated: false,
    refused: false,
    closedEarly: false,
    timedOut: false,
    helperLines: [],
  };
  let offeredSinceContinue = false;
  let verificationFailed = false;
  for (const line of lines) {
    let m: RegExpExecArray | null;
    if ((m = /Server host key: (\S+ \S+)/.exec(line))) log.hostKey = m[1]!;
    else if (/Host '.*' is known and matches|is known and matches the/.test(line)) log.hostKeyKnown = true;
    else if (/No \S+ host key is known for|The authenticity of host .* can't be established/.test(line)) log.hostKeyUnknown = true;
    else if (/REMOTE HOST IDENTIFICATION HAS CHANGED|Host key for .* has changed/.test(line)) log.hostKeyChanged = true;
    else if ((m = /Offering public key: (.+)$/.exec(line))) {
      log.offered.push(m[1]!.replace(/\s+explicit$/, '').trim());
      offeredSinceContinue = true;
    } else if (/Server accepts key:/.test(line)) log.accepted = true;
    else if (/Authenticated to .* using "publickey"|Authentication succeeded \(publickey\)/.test(line)) log.authenticated = true;
    else if (/Authentications that can continue:/.test(line)) {
      if (offeredSinceContinue) log.refused = true;
      offeredSinceContinue = false;
    } else if ((m = /(Permission denied \(.*\))/.exec(line))) log.permissionDenied = m[1]!;
    else if (/kex_exchange_identification|Connection closed by .*port|ssh_exchange_identification|Connection reset by/.test(line))
      log.closedEarly = true;
    else if (/Connection timed out|timed out during banner exchange/.test(line)) log.timedOut = true;
    else if (/^access-ssh: |^ {2}\S/.test(line) && !line.startsWith('debug')) log.helperLines.push(line.trim());
    if (/^Host key verification failed/.test(line)) verificationFailed = true;
    if (
      line &&
      !line.startsWith('debug') &&
      !line.startsWith('OpenSSH_') &&
      !/^(Warning: Permanently|Authenticated to|Transferred:|Bytes per second)/.test(line)
    )
      log.lastError = line.trim();
  }
  log.helperLines = log.helperLines.slice(0, 6);
  // In BatchMode an unknown key says only "Host key verification failed.".
  if (verificationFailed && !log.hostKeyKnown && !log.hostKeyChanged) log.hostKeyUnknown = true;
  return log;
}

function sshFailure(seen: SshLog, run: { code: number; stderr: string }, alias: string, host: string): [string, string] {
  if (seen.hostKeyChanged) {
    return [
      `The host key of ${alias} differs from the one in your known_hosts (${seen.hostKey ?? 'unknown'}): the server was reinstalled, or something impersonates it.`,
      `Ask the server's administrator for its host key fingerprint; only if it matches, remove the old one: ssh-keygen -R ${host}`,
    ];
  }
  if (seen.refused || seen.permissionDenied) {
    return [
      `The server refused the certificate${seen.offered.length ? ` (${seen.offered[0]})` : ''}: ${seen.permissionDenied ?? 'public key authentication failed'}.`,
      "On the server: TrustedUserCAKeys must hold this Access application's CA public key, and the account must exist and accept the certificate's principal (the e-mail's local part, or an AuthorizedPrincipalsFile mapping).",
    ];
  }
  if (seen.helperLines.length > 0) {
    return [
      `The ProxyCommand (access-ssh) failed: ${seen.helperLines[0]}`,
      seen.helperLines[1] ?? 'See the steps above for the layer that is broken.',
    ];
  }
  if (seen.closedEarly) {
    return [
      'The connection closed before the SSH handshake (no banner from the server): the carrier or the origin dropped it.',
      "On the server: check that sshd runs and that the tunnel's ingress points at it.",
    ];
  }
  if (seen.timedOut) return ['ssh timed out.', 'Check the network and the tunnel on the server.'];
  return [`ssh failed (exit ${run.code}): ${seen.lastError ?? 'no message'}`, 'Run `ssh -vvv ' + alias + '` and read where it stops.'];
}

function runSsh(cmd: string, args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString('utf8')));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString('utf8')));
    const timer = setTimeout(() => child.kill('SIGKILL'), SSH_TIMEOUT_MS);
    child.on('error', (err) => {
      clearTimeout(timer);
      resolve({ code: 127, stdout, stderr: `${stderr}\n${cmd}: ${err.message}` });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code: code ?? 255, stdout: stdout.slice(0, 4096), stderr: stderr.slice(-64 * 1024) });
    });
  });
}

/** The first line the origin sends (its SSH banner), or undefined when the socket closes first. */
function firstBytes(ws: import('../access/websocket.js').WebSocketClient, timeoutMs: number): Promise<string | undefined> {
  return new Promise((resolve) => {
    const done = (v: string | undefined): void => {
      clearTimeout(timer);
      ws.removeAllListeners('message');
      ws.removeAllListeners('close');
      ws.on('error', () => {});
      // Open: the closing handshake; closing or closed already: nothing more to do.
      ws.close(1000);
      resolve(v);
    };
    const timer = setTimeout(() => done(undefined), timeoutMs);
    ws.on('message', (buf: Buffer) => {
      done(
        buf
          .toString('latin1')
          .split(/\r?\n/)[0]!
          .replace(/[\u0000-\u001f\u007f-\u00ff]/g, '?')
          .slice(0, 120),
      );
    });
    ws.on('close', () => done(undefined));
    ws.on('error', () => done(undefined));
    ws.resume();
  });
}

function lifetime(expiresAt: Date, nowS: number): string {
  const left = Math.round(expiresAt.getTime() / 1000 - nowS);
  return left >= 0 ? `expires in ${duration(left)}` : `expired ${duration(-left)} ago`;
}

function duration(s: number): string {
  if (s < 120) return `${s}s`;
  if (s < 7200) return `${Math.floor(s / 60)}m`;
  return `${Math.floor(s / 3600)}h${Math.floor((s % 3600) / 60)}m`;
}

function header(v: string | string[] | undefined): string | undefined {
  const s = Array.isArray(v) ? v[0] : v;
  return s?.trim() || undefined;
}

/** A URL for the report: origin and path only (queries may carry secrets). */
function safeUrl(u: string): string {
  try {
    const url = new URL(u);
    return `${url.origin}${url.pathname}`;
  } catch {
    return '(not a URL)';
  }
}

/** An error as a failed step's cause and next step (an AppError's action and hint, for the front end to word). */
function describe(err: unknown): { cause: string; next?: Next } {
  if (isAppError(err)) {
    const next: Next | undefined = err.action !== undefined ? { action: err.action, hint: err.hint } : err.hint;
    return { cause: err.message, ...(next !== undefined ? { next } : {}) };
  }
  const e = err as { message?: unknown; hint?: unknown } | undefined;
  const cause = typeof e?.message === 'string' ? e.message : describeError(err);
  return { cause, ...(typeof e?.hint === 'string' ? { next: e.hint } : {}) };
}

/** Every line of the report: redacted, printable, one line. */
function clean(text: string): string {
  return redact(text)
    .replace(/[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g, ' ')
    .replace(/\n/g, ' ');
}

function elapsed(t0: number): number {
  return Math.round(performance.now() - t0);
}
