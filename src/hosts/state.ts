// A host's state for the view and the status bar, computed from what is on
// disk (tokens, certificate) and the clock. Pure: the view caches the inputs
// and recomputes this every second while visible, with no file I/O per tick.

import { emailLocalPart } from '../access/jwt.js';
import { displayText } from '../base/display.js';
import { hasStarted } from '../access/cert-file.js';
import { isFedrampTeam } from '../access/transfer.js';
import type { NextAction } from './failure.js';

/** What the view needs from a stored Access token (app or org). */
export interface TokenInfo {
  /** Expiry, seconds since the epoch. */
  readonly exp: number;
  readonly email?: string;
  /** The team's auth domain, e.g. `example.cloudflareaccess.com`. */
  readonly authDomain?: string;
}

/** What the view needs from a certificate on disk. Times in seconds since the epoch. */
export interface CertInfo {
  readonly validAfter: number;
  readonly validBefore: number;
  readonly principals: readonly string[];
  readonly keyId: string;
  readonly serial?: string;
  readonly path?: string;
}

/**
 * A certificate as read from disk: the same fields as CertInfo, but its principals and
 * key id are the edge's text, not yet escaped for display (certInfoOf does that).
 */
export type CertificateOnDisk = CertInfo;

/**
 * What the view keeps of a certificate: times in seconds, and the texts the edge chose (its
 * principals and key id) made safe to show, since rows, tooltips and the status bar print
 * them. A principal that needed escaping is no valid ssh user either, so `sshUserFor`
 * skips it as it would the raw one.
 */
export function certInfoOf(cert: CertificateOnDisk): CertInfo {
  return {
    validAfter: cert.validAfter,
    validBefore: cert.validBefore,
    principals: cert.principals.map((p) => displayText(p)),
    keyId: displayText(cert.keyId, 200),
    ...(cert.serial !== undefined ? { serial: cert.serial } : {}),
    ...(cert.path !== undefined ? { path: cert.path } : {}),
  };
}

export type HostStateKind = 'valid' | 'signedIn' | 'signedOut' | 'signingIn' | 'error';

/** The last failure of an operation on a host (see failure.ts). */
export interface HostError {
  readonly reason: string;
  readonly detail: string;
  readonly action: NextAction;
}

export interface HostStateInput {
  readonly now: number;
  readonly cert?: CertInfo;
  /** The app token of this host, when one is stored and not expired. */
  readonly appToken?: TokenInfo;
  /** The org token of this host's team, when known, stored and not expired. */
  readonly orgToken?: TokenInfo;
  /** The last error of an operation on this host (cleared by the next success). */
  readonly error?: HostError;
  /** A browser sign-in through this host is under way. */
  readonly signingIn?: boolean;
  /** Renewal margin (the certificate is renewed with less left; shown in the tooltip). */
  readonly marginSeconds: number;
}

export interface HostState {
  readonly kind: HostStateKind;
  /** Short text beside the label (fits the default sidebar width). */
  readonly description: string;
  /** Codicon id and theme color id (mapped to ThemeIcon/ThemeColor by the view). */
  readonly icon: { readonly id: string; readonly color?: string };
  /** `contextValue` of the tree item: `host.<kind>`, `host.error<Action>` for a failure. */
  readonly contextValue: string;
  /** Seconds left on the certificate (negative when expired); undefined without one. */
  readonly certSecondsLeft?: number;
  /** Seconds since the epoch when the login (app or org token) runs out, when signed in. */
  readonly signedInUntil?: number;
  readonly email?: string;
  readonly authDomain?: string;
}

/** `2:41`, `12:05`, `1h 02m`, `2d 3h`; zero or less is `0:00`. */
export function countdown(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 3600) return `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}m`;
  return `${Math.floor(s / 86400)}d ${Math.floor((s % 86400) / 3600)}h`;
}

/** `just now`, `42s`, `3m`, `2h`, `5d`: the age part of "expired 3m ago". */
export function ago(seconds: number): string {
  const s = Math.max(0, Math.floor(seconds));
  if (s < 5) return 'just now';
  if (s < 60) return `${s}s ago`;
  if (s < 3600) return `${Math.floor(s / 60)}m ago`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ago`;
  return `${Math.floor(s / 86400)}d ago`;
}

/** `expired 3m ago`, `expired just now`. */
export function expiredText(secondsSinceExpiry: number): string {
  return `expired ${ago(secondsSinceExpiry)}`;
}

/** The later-expiring usable token: the app token lets ssh connect; the org token renews it without a browser. */
function bestToken(input: HostStateInput): TokenInfo | undefined {
  const tokens = [input.appToken, input.orgToken].filter((t): t is TokenInfo => t !== undefined && t.exp > input.now);
  if (tokens.length === 0) return undefined;
  return tokens.reduce((a, b) => (b.exp > a.exp ? b : a));
}

export function hostState(input: HostStateInput): HostState {
  const { now, cert } = input;
  const token = bestToken(input);
  const email = input.appToken?.email ?? input.orgToken?.email;
  const authDomain = input.appToken?.authDomain ?? input.orgToken?.authDomain;
  const base = {
    ...(email !== undefined ? { email } : {}),
    ...(authDomain !== undefined ? { authDomain } : {}),
    ...(token ? { signedInUntil: token.exp } : {}),
    ...(cert ? { certSecondsLeft: cert.validBefore - now } : {}),
  };

  if (input.signingIn) {
    return { ...base, kind: 'signingIn', description: 'signing in…', icon: { id: 'loading~spin' }, contextValue: 'host.signingIn' };
  }
  if (input.error !== undefined) {
    const action = input.error.action;
    return {
      ...base,
      kind: 'error',
      description: oneLine(input.error.reason),
      icon: { id: 'error', color: 'errorForeground' },
      contextValue: `host.error${action.charAt(0).toUpperCase()}${action.slice(1)}`,
    };
  }
  // A certificate is renewed at every connect and before it runs out in a connected
  // window: the last minute of a normal cycle is not a warning.
  if (cert && hasStarted(cert.validAfter, now) && cert.validBefore > now) {
    return {
      ...base,
      kind: 'valid',
      description: `valid for ${countdown(cert.validBefore - now)}`,
      icon: { id: 'pass-filled', color: 'testing.iconPassed' },
      contextValue: 'host.valid',
    };
  }
  if (token) {
    // Signed in; no live certificate: the next connect (or Refresh) gets one without a browser.
    return {
      ...base,
      kind: 'signedIn',
      description: 'signed in',
      icon: { id: 'account', color: 'charts.blue' },
      contextValue: 'host.signedIn',
    };
  }
  return {
    ...base,
    kind: 'signedOut',
    description: 'signed out',
    icon: { id: 'circle-slash', color: 'disabledForeground' },
    contextValue: 'host.signedOut',
  };
}

/** The parts of a team's auth domain: its short name, and whether it is a FedRAMP team. */
function teamParts(authDomain: string): { name: string; fedramp: boolean } {
  const m = /^(.+?)\.(?:fed\.)?cloudflareaccess\.com$/i.exec(authDomain);
  return m ? { name: m[1]!, fedramp: isFedrampTeam(authDomain) } : { name: authDomain, fedramp: false };
}

/**
 * The short name of a team, as rows and menus show it: `sandbox` for
 * `sandbox.cloudflareaccess.com`, `sandbox · FedRAMP` for `sandbox.fed.cloudflareaccess.com`
 * (a commercial and a FedRAMP team may share a name, and the same e-mail signs in to both).
 */
export function teamName(authDomain: string): string {
  const { name, fedramp } = teamParts(authDomain);
  return fedramp ? `${name} · FedRAMP` : name;
}

/** The team in a sentence (often inside parentheses): `team sandbox`, `FedRAMP team sandbox`. */
export function teamPhrase(authDomain: string): string {
  const { name, fedramp } = teamParts(authDomain);
  return `${fedramp ? 'FedRAMP team' : 'team'} ${name}`;
}

/**
 * The account of a team's session in the Accounts menu: `jdoe@example.com · sandbox`.
 * The team is part of it because VS Code lists one entry per distinct label: one e-mail
 * signed in to two teams would otherwise be one entry, and its Sign Out both.
 */
export function accountLabel(authDomain: string, email: string | undefined): string {
  return email ? `${email} · ${teamName(authDomain)}` : teamName(authDomain);
}

/** What a host's row shows, and what a screen reader says for it. */
export interface HostRowText {
  /** The host's own label, else its host name. */
  readonly label: string;
  /** The state; then the account to log in as, when the host has its own `user`. */
  readonly description: string;
  readonly accessible: string;
}

/**
 * The texts of a host's row, short for the default side bar width: the state comes first
 * and is never pushed out (the side bar cuts a description at its end); a labelled host's
 * name is in its tooltip (as Remote Explorer's rows show only the alias), its own `user`
 * after the state (`valid for 2:41 · as deploy`). The screen reader hears all of them.
 */
export function hostRowText(
  host: { readonly hostname: string; readonly label?: string; readonly user?: string },
  state: string,
): HostRowText {
  const as = host.user ? ` as ${host.user}` : '';
  return {
    label: host.label ?? host.hostname,
    description: host.user ? `${state} ·${as}` : state,
    accessible: `${host.label ? `${host.label}, ${host.hostname}` : host.hostname}${as}, ${state}`,
  };
}

/** `23h 59m left`, `4:59 left`, `ended`. */
export function timeLeft(seconds: number): string {
  return seconds > 0 ? `${countdown(seconds)} left` : 'ended';
}

function oneLine(text: string, max = 60): string {
  const line = text.split(/\r?\n/, 1)[0]!.trim();
  return line.length > max ? line.slice(0, max - 1) + '…' : line;
}

export interface TooltipField {
  readonly label: string;
  readonly value: string;
}

export interface TooltipInput extends HostStateInput {
  readonly hostname: string;
  readonly label?: string;
  /** The account to log in as, when one is chosen for this host. */
  readonly user?: string;
  readonly source: 'settings' | 'repo' | 'cli';
  /** A FedRAMP account (the host's `fedramp`). */
  readonly fedramp?: boolean;
  /** Local clock time for the certificate window; HH:MM:SS by default. */
  readonly formatTime?: (epochSeconds: number) => string;
}

export function defaultFormatTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

const SOURCE_TEXT: Record<TooltipInput['source'], string> = {
  settings: 'user settings',
  repo: '.vscode/access-hosts.json (this workspace)',
  cli: 'the command line (access-ssh config add), not your VS Code settings',
};

/** The rows of the host's tooltip, in order; absent facts are left out. */
export function tooltipFields(input: TooltipInput): TooltipField[] {
  const state = hostState(input);
  const fmt = input.formatTime ?? defaultFormatTime;
  const now = input.now;
  const rows: TooltipField[] = [{ label: 'Host', value: input.hostname }];
  rows.push({ label: 'State', value: state.description });
  if (input.error) {
    rows.push({ label: 'Error', value: oneLine(input.error.detail.replace(/\s*\n\s*/g, ' '), 300) });
  }
  if (state.email) rows.push({ label: 'Account', value: state.email });
  if (state.authDomain) rows.push({ label: 'Team', value: state.authDomain });
  const user = input.user ?? input.cert?.principals[0];
  if (user) rows.push({ label: 'Logs in as', value: input.user ? user : `${user} (the certificate's principal)` });
  if (input.appToken && input.appToken.exp > now) rows.push({ label: 'App session', value: timeLeft(input.appToken.exp - now) });
  if (input.orgToken && input.orgToken.exp > now) rows.push({ label: 'Team session', value: timeLeft(input.orgToken.exp - now) });
  const cert = input.cert;
  if (cert) {
    const left = cert.validBefore - now;
    rows.push({
      label: 'Certificate',
      value:
        left > 0
          ? `valid for ${countdown(left)} (${fmt(cert.validAfter)}–${fmt(cert.validBefore)}), renewed with less than ${countdown(input.marginSeconds)} left`
          : `${expiredText(-left)}; a new one is issued at the next connect`,
    });
    rows.push({ label: cert.principals.length === 1 ? 'Principal' : 'Principals', value: cert.principals.join(', ') || '(none)' });
    rows.push({ label: 'Key ID', value: cert.keyId });
    if (cert.serial !== undefined) rows.push({ label: 'Serial', value: cert.serial });
  } else if (state.kind === 'signedIn') {
    rows.push({ label: 'Certificate', value: 'none yet; one is issued at the next connect' });
  }
  rows.push({ label: 'SSH alias', value: `cfpipe-${input.hostname}` });
  if (input.fedramp === true) rows.push({ label: 'Account type', value: 'FedRAMP (signs in through login.fed.cloudflareaccess.org)' });
  rows.push({ label: 'From', value: SOURCE_TEXT[input.source] });
  return rows;
}

/** The view's description: who is signed in (`jdoe@example.com · sandbox`), or undefined. */
export function sessionSummary(teams: readonly { authDomain: string; email?: string }[]): string | undefined {
  if (teams.length === 0) return undefined;
  const email = teams.find((t) => t.email)?.email;
  const where = teams.length === 1 ? teamName(teams[0]!.authDomain) : `${teams.length} teams`;
  return email ? `${email} · ${where}` : where;
}

/**
 * Teams whose session (the last token of the team) ends within `warnSeconds`
 * and has not been warned about yet (keyed by team and end time, so a renewed
 * session can be warned about again).
 */
export function sessionsEndingSoon(
  teams: readonly { authDomain: string; exp: number }[],
  now: number,
  warnSeconds: number,
  warned: ReadonlySet<string>,
): { authDomain: string; exp: number; key: string }[] {
  return teams
    .filter((t) => t.exp > now && t.exp - now <= warnSeconds)
    .map((t) => ({ authDomain: t.authDomain, exp: t.exp, key: `${t.authDomain}@${Math.floor(t.exp)}` }))
    .filter((t) => !warned.has(t.key));
}

/** What the status bar of a window connected to a host shows. */
export interface CertificateStatus {
  /** `$(key) jdoe · 9:41`, `$(key) jdoe · expired`, `$(key) no certificate`. */
  readonly text: string;
  /** No live certificate: shown on the error background. */
  readonly alarm: boolean;
  /** Markdown lines of the tooltip (values escaped where they are text from outside). */
  readonly tooltip: string;
}

/**
 * The status item of a connected window: who (the certificate's principal, else the
 * e-mail's local part) and how long the certificate has left.
 */
export function certificateStatus(
  host: string,
  input: Pick<HostStateInput, 'cert' | 'appToken' | 'orgToken' | 'error' | 'now'>,
  formatTime: (epochSeconds: number) => string = defaultFormatTime,
): CertificateStatus {
  const { cert, now } = input;
  const email = input.appToken?.email ?? input.orgToken?.email;
  const user = cert?.principals[0] ?? (email ? emailLocalPart(email) : undefined);
  const left = cert ? cert.validBefore - now : undefined;
  const who = user ? `${user} · ` : '';
  const live = left !== undefined && left > 0;
  const text = live ? `$(key) ${who}${countdown(left)}` : `$(key) ${who}${left === undefined ? 'no certificate' : 'expired'}`;
  let tooltip = `**Cloudflare Access** — ${host}\n\n`;
  if (cert) tooltip += `Certificate for \`${cert.principals.join(', ')}\` valid until ${formatTime(cert.validBefore)}\n\n`;
  if (input.error) tooltip += `Last error: ${input.error.reason}\n\n`;
  tooltip += 'Click to refresh the certificate.';
  return { text, alarm: !live, tooltip };
}
