// The `cloudflare-access` authentication provider: one session per Access team
// (auth domain), read from the token files in ~/.cloudflared, so a login by the
// helper or by cloudflared shows up in the Accounts menu too. Signing in runs
// the browser login through one of the team's applications (a configured
// host); signing out deletes the team's tokens. App tokens are renewed in the
// background through the org token, before they expire, without a browser.

import {
  type AuthenticationProvider,
  type AuthenticationProviderAuthenticationSessionsChangeEvent,
  type AuthenticationSession,
  CancellationError,
  type Disposable,
  EventEmitter,
  ProgressLocation,
  type Uri,
  authentication as vscodeAuthentication,
  env,
  window,
} from 'vscode';
import { AccessError } from '../access/errors.js';
import { setContext } from './context.js';
import { removeCertificateFiles } from '../access/cert-file.js';
import { parseHostname, type Hostname } from '../base/hostname.js';
import { hostnameProblem, normaliseHostname, type HostEntry } from '../hosts/hosts.js';
import { accountLabel, teamPhrase } from '../hosts/state.js';
import { every, realClock, type Clock } from '../hosts/renewal.js';
import type { AccessService } from './access.js';
import {
  appTokensToRenew,
  sessionChanges,
  sessionSnapshot,
  signInHostForScopes,
  signOutHosts,
  teamForScope,
  type Team,
} from '../hosts/teams.js';
import type { AccessState } from './access-state.js';
import { describe, isCancellation, type ExtensionLog } from './log.js';

export const PROVIDER_ID = 'cloudflare-access';
const PROVIDER_LABEL = 'Cloudflare Access';
/**
 * The one scope of every session: a session is a team's, whatever was asked.
 * Also the scope of the Accounts menu's "Sign in with Cloudflare Access to use
 * Access SSH" request. Not empty on purpose: VS Code keys a sign-in request by
 * its scopes joined with " " and clears it when a session whose scopes equal
 * that key split on " " is added; `[]` gives the key "" and `"".split(" ")` is
 * `[""]`, which no session's scopes ever equal, so the Accounts badge stayed
 * after sign-in (VS Code 1.139, authenticationExtensionsService).
 */
export const SESSION_SCOPE = 'access-ssh';

/** How often the background renewal looks for app tokens close to expiry (`appTokensToRenew`). */
export const RENEW_APP_TOKENS_EVERY_MS = 60_000;

export class AccessAuthProvider implements AuthenticationProvider, Disposable {
  private readonly changed = new EventEmitter<AuthenticationProviderAuthenticationSessionsChangeEvent>();
  readonly onDidChangeSessions = this.changed.event;
  private known = new Map<string, string>();
  private readonly disposables: Disposable[] = [];
  private readonly renewTimer: { dispose(): void };
  private renewing = false;

  constructor(
    private readonly access: AccessService,
    private readonly state: AccessState,
    private readonly log: ExtensionLog,
    private readonly hosts: () => readonly HostEntry[],
    private readonly clock: Clock = realClock,
  ) {
    this.known = this.snapshot();
    this.disposables.push(state.onDidChange(() => this.onStateChange()));
    this.disposables.push(
      vscodeAuthentication.registerAuthenticationProvider(PROVIDER_ID, PROVIDER_LABEL, this, { supportsMultipleAccounts: true }),
    );
    this.renewTimer = every(clock, RENEW_APP_TOKENS_EVERY_MS, () => void this.renewAppTokens());
  }

  private snapshot(): Map<string, string> {
    return sessionSnapshot(this.state.teams());
  }

  private async onStateChange(): Promise<void> {
    const before = this.known;
    const teams = new Map(this.state.teams().map((t) => [t.authDomain, t]));
    const now = sessionSnapshot([...teams.values()]);
    const diff = sessionChanges(before, now);
    const added = await Promise.all(diff.added.map((d) => this.session(teams.get(d)!)));
    const changed = await Promise.all(diff.changed.map((d) => this.session(teams.get(d)!)));
    const removed = diff.removed.map((d) => emptySession(d, before.get(d) ?? ''));
    this.known = now;
    if (added.length + removed.length + changed.length > 0) {
      this.log.debug(`Access sessions: +${added.length} -${removed.length} ~${changed.length}`);
      this.changed.fire({ added, removed, changed });
    }
  }

  private async session(team: Team): Promise<AuthenticationSession> {
    return {
      id: team.authDomain,
      accessToken: await this.state.sessionToken(team.authDomain),
      account: { id: `${team.authDomain}/${team.email ?? ''}`, label: accountLabel(team.authDomain, team.email) },
      // A session is a team's, whatever was asked; its one scope also answers (and clears)
      // the Accounts menu's sign-in request (see SESSION_SCOPE).
      scopes: [SESSION_SCOPE],
    };
  }

  async getSessions(scopes?: readonly string[]): Promise<AuthenticationSession[]> {
    await this.state.reload();
    let teams = this.state.teams();
    const named = (scopes ?? []).filter((s) => s !== SESSION_SCOPE);
    if (named.length > 0) {
      const teamOf = (host: string): string | undefined => this.state.teamOf(host);
      const wanted = new Set(named.map((s) => teamForScope(s, teamOf)).filter((t): t is string => t !== undefined));
      teams = teams.filter((t) => wanted.has(t.authDomain));
    }
    return await Promise.all(teams.map((t) => this.session(t)));
  }

  /**
   * Sign in. A scope may be a host (log in through it) or an auth domain (log in
   * through one of the configured hosts of that team); otherwise the user picks a host.
   */
  async createSession(scopes: readonly string[]): Promise<AuthenticationSession> {
    const host = await this.hostForScopes(scopes);
    if (!host) throw new CancellationError();
    const team = this.signInFlow ? await this.signInFlow(host) : await this.signIn(host);
    if (!team) throw new CancellationError();
    const session = (await this.getSessions([team]))[0];
    if (!session) throw new Error(`Signed in to ${team}, but no token was stored`);
    return session;
  }

  private async hostForScopes(scopes: readonly string[]): Promise<Hostname | undefined> {
    const hosts = this.hosts();
    // Our own scope names no host or team (the Accounts menu's request): the user picks.
    const named = scopes.filter((s) => s !== SESSION_SCOPE);
    return signInHostForScopes(named, hosts, (h) => this.state.teamOf(h)) ?? (await pickSignInHost(hosts, this.state));
  }

  /** The browser sign-in under way: its host and login page, for "Copy Login Link". */
  private pending: { host: string; url?: string } | undefined;
  /** The whole sign-in as the user meets it (login, certificate, one notification); set by activation. */
  signInFlow: ((host: Hostname) => Promise<string | undefined>) | undefined;

  /** The login page of the sign-in under way, if any. */
  pendingLogin(): { host: string; url?: string } | undefined {
    return this.pending;
  }

  /**
   * The browser login for `host`, in one cancellable progress notification
   * (nothing else stays on screen). The login page's link is offered by
   * "Copy Login Link" while it runs, and dropped with it: after a cancel,
   * nothing that could still complete a login is left open. Resolves to the
   * team's auth domain.
   */
  async signIn(host: Hostname): Promise<string> {
    if (this.pending) throw new AccessError('login-cancelled', `A sign-in through ${this.pending.host} is already under way`);
    const abort = new AbortController();
    const pending: { host: string; url?: string } = { host };
    this.pending = pending;
    this.state.setError(host, undefined);
    this.state.setSigningIn(host, true);
    void setContext('accessSsh.signingIn', true);
    this.log.info(`Signing in to Cloudflare Access through ${host}`);
    try {
      const result = await window.withProgress(
        {
          location: ProgressLocation.Notification,
          title: 'Signing in to Cloudflare Access: complete the login in your browser.',
          cancellable: true,
        },
        async (progress, token) => {
          token.onCancellationRequested(() => abort.abort());
          return await this.access.login(host, {
            signal: abort.signal,
            // A host of a FedRAMP account (its `fedramp` field): the FedRAMP transfer service.
            ...(this.hosts().find((h) => h.hostname === host)?.fedramp === true ? { fedramp: true } : {}),
            openBrowser: async (url) => {
              pending.url = url;
              const opened = await openLoginPage(url);
              if (opened) {
                this.log.info('Opened the login page in the browser');
              } else {
                this.log.warn(
                  'The login page was not opened: the prompt to open it was declined. "Access: Copy Login Link" gives its address.',
                );
                progress.report({ message: 'The browser was not opened: use "Copy Login Link" in the Access view.' });
              }
            },
            onLoginUrl: (url) => {
              pending.url = url;
            },
          });
        },
      );
      await this.state.rememberTeam(host, result.appInfo.authDomain);
      await this.state.reload();
      this.log.info(`Signed in to ${result.appInfo.authDomain} as ${result.claims.email ?? '(no e-mail)'}`);
      return result.appInfo.authDomain;
    } catch (err) {
      if (isCancellation(err)) this.log.info(`Sign-in through ${host} cancelled; its login page no longer signs anything in`);
      throw err;
    } finally {
      this.pending = undefined;
      this.state.setSigningIn(host, false);
      void setContext('accessSsh.signingIn', false);
    }
  }

  /**
   * Sign out of a team: its tokens (logout) and the certificates of its hosts,
   * so that nothing on disk still grants access afterwards.
   */
  async removeSession(sessionId: string): Promise<void> {
    await this.state.reload();
    const hosts = signOutHosts(sessionId, this.hosts(), (h) => this.state.teamOf(h), this.state.appTokensOf(sessionId));
    const removed = await this.access.logout(sessionId);
    let certs = 0;
    for (const host of hosts) {
      certs += await removeCertificateFiles(this.state.dir, host);
      this.state.setError(host, undefined);
    }
    this.log.info(
      `Signed out of ${sessionId}: removed ${removed.length} token file${removed.length === 1 ? '' : 's'} and ${certs} key/certificate file${certs === 1 ? '' : 's'}`,
    );
    await this.state.reload();
  }

  /** Background renewal: app tokens close to expiry are exchanged through the org token, no browser. */
  private async renewAppTokens(): Promise<void> {
    if (this.renewing) return;
    this.renewing = true;
    try {
      const configured = new Set<string>(this.hosts().map((h) => h.hostname));
      const due = appTokensToRenew(await this.access.listAppTokens(), configured, this.clock.now() / 1000, (d) =>
        Boolean(this.state.orgToken(d)),
      );
      for (const t of due) {
        // A configured host's token (appTokensToRenew keeps only those), so a host name.
        const appHostname = parseHostname(t.appHostname);
        if (appHostname === undefined) continue;
        try {
          const ok = await this.access.renewAppToken({ authDomain: t.authDomain, appAud: t.aud, appHostname });
          this.log.info(
            ok
              ? `Renewed the app token for ${t.appHostname}`
              : `Could not renew the app token for ${t.appHostname}; a sign-in will be needed`,
          );
        } catch (err) {
          if (!isCancellation(err)) this.log.warn(`Renewing the app token for ${t.appHostname}: ${describe(err).message}`);
        }
      }
    } catch (err) {
      this.log.debug(`App token renewal pass failed: ${describe(err).message}`);
    } finally {
      this.renewing = false;
    }
  }

  dispose(): void {
    this.renewTimer.dispose();
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

function emptySession(domain: string, email: string): AuthenticationSession {
  return {
    id: domain,
    accessToken: '',
    account: { id: `${domain}/${email}`, label: accountLabel(domain, email || undefined) },
    scopes: [SESSION_SCOPE],
  };
}

/**
 * The host to sign in through: the login is per team, and any application of
 * the team will do. Hosts are shown with their team when it is known.
 */
export async function pickSignInHost(hosts: readonly HostEntry[], state: AccessState): Promise<Hostname | undefined> {
  if (hosts.length <= 1) return await pickHost(hosts, '');
  const pick = await window.showQuickPick(
    hosts.map((h) => {
      const team = state.teamOf(h.hostname);
      const description = [h.label ? h.hostname : undefined, team ? teamPhrase(team) : undefined].filter(Boolean).join(' · ');
      return { label: h.label ?? h.hostname, ...(description ? { description } : {}), host: h.hostname };
    }),
    {
      title: 'Sign In to Cloudflare Access',
      placeHolder: 'Choose a host: you sign in to its team in the browser',
      matchOnDescription: true,
    },
  );
  return pick?.host;
}

/** Quick pick of configured hosts; undefined when cancelled or none. */
export async function pickHost(hosts: readonly HostEntry[], placeHolder: string): Promise<Hostname | undefined> {
  if (hosts.length === 0) {
    const typed = await window.showInputBox({
      title: 'Cloudflare Access host',
      prompt: 'The host name of an Access SSH application, e.g. ssh.example.com',
      validateInput: hostnameProblem,
    });
    return typed === undefined ? undefined : normaliseHostname(typed);
  }
  if (hosts.length === 1) return hosts[0]!.hostname;
  const pick = await window.showQuickPick(
    hosts.map((h) => ({ label: h.label ?? h.hostname, ...(h.label ? { description: h.hostname } : {}), host: h.hostname })),
    { placeHolder, matchOnDescription: true },
  );
  return pick?.host;
}

/**
 * Opens the Access login page. The URL goes through as a string: a `Uri`
 * re-encodes the nested `redirect_url` (`%26` becomes `&`, `%3D` becomes
 * `%253D`), which breaks the login request. VS Code's `openUri` accepts a
 * string at run time for exactly this reason (microsoft/vscode#85930).
 */
function openLoginPage(url: string): Thenable<boolean> {
  return env.openExternal(url as unknown as Uri);
}
