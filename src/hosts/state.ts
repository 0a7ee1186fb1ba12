// A host's state for the view and the status bar, computed from what is on
// disk (tokens, certificate) and the clock. Pure: the view caches the inputs
// and recomputes this every second while visible, with no file I/O per tick.

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

export type HostStateKind = 'valid' | 'expiring' | 'expired' | 'signedIn' | 'signedOut' | 'error';

export interface HostStateInput {
  readonly now: number;
  readonly cert?: CertInfo;
  /** The app token of this host, when one is stored and not expired. */
  readonly appToken?: TokenInfo;
  /** The org token of this host's team, when known, stored and not expired. */
  readonly orgToken?: TokenInfo;
  /** The last error of an operation on this host (cleared by the next success). */
  readonly error?: string;
  /** Renewal margin: a certificate with less left is shown as expiring. */
  readonly marginSeconds: number;
  /** Local clock formatter for "signed in until …"; HH:MM by default. */
  readonly formatTime?: (epochSeconds: number) => string;
}

export interface HostState {
  readonly kind: HostStateKind;
  /** Short text beside the label. */
  readonly description: string;
  /** Codicon id and theme color id (mapped to ThemeIcon/ThemeColor by the view). */
  readonly icon: { readonly id: string; readonly color?: string };
  /** `contextValue` of the tree item: `host.<kind>`. */
  readonly contextValue: string;
  /** Seconds left on the certificate (negative when expired); undefined without one. */
  readonly certSecondsLeft?: number;
  /** Seconds until the login (app or org token) runs out, when signed in. */
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

export function defaultFormatTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

/** The later-expiring usable token: the app token lets ssh connect; the org token renews it without a browser. */
function bestToken(input: HostStateInput): TokenInfo | undefined {
  const tokens = [input.appToken, input.orgToken].filter((t): t is TokenInfo => t !== undefined && t.exp > input.now);
  if (tokens.length === 0) return undefined;
  return tokens.reduce((a, b) => (b.exp > a.exp ? b : a));
}

export function hostState(input: HostStateInput): HostState {
  const { now, cert } = input;
  const fmt = input.formatTime ?? defaultFormatTime;
  const token = bestToken(input);
  const email = input.appToken?.email ?? input.orgToken?.email;
  const authDomain = input.appToken?.authDomain ?? input.orgToken?.authDomain;
  const base = {
    ...(email !== undefined ? { email } : {}),
    ...(authDomain !== undefined ? { authDomain } : {}),
    ...(token ? { signedInUntil: token.exp } : {}),
    ...(cert ? { certSecondsLeft: cert.validBefore - now } : {}),
  };

  if (input.error !== undefined) {
    return {
      ...base,
      kind: 'error',
      description: `error: ${oneLine(input.error)}`,
      icon: { id: 'error', color: 'errorForeground' },
      contextValue: 'host.error',
    };
  }
  if (cert && cert.validAfter <= now + 60 && cert.validBefore > now) {
    const left = cert.validBefore - now;
    const expiring = left <= input.marginSeconds;
    return {
      ...base,
      kind: expiring ? 'expiring' : 'valid',
      description: `certificate valid for ${countdown(left)}`,
      icon: expiring ? { id: 'warning', color: 'list.warningForeground' } : { id: 'pass-filled', color: 'testing.iconPassed' },
      contextValue: expiring ? 'host.expiring' : 'host.valid',
    };
  }
  const certPart = cert ? `certificate ${expiredText(now - cert.validBefore)}` : undefined;
  if (token) {
    const signedIn = `signed in until ${fmt(token.exp)}`;
    return {
      ...base,
      kind: cert ? 'expired' : 'signedIn',
      description: certPart ? `${certPart} · ${signedIn}` : signedIn,
      icon: cert ? { id: 'history', color: 'list.warningForeground' } : { id: 'account', color: 'charts.blue' },
      contextValue: cert ? 'host.expired' : 'host.signedIn',
    };
  }
  return {
    ...base,
    kind: 'signedOut',
    description: certPart ? `${certPart} · signed out` : 'signed out',
    icon: { id: 'circle-slash', color: 'disabledForeground' },
    contextValue: 'host.signedOut',
  };
}

function oneLine(text: string): string {
  const line = text.split(/\r?\n/, 1)[0]!.trim();
  return line.length > 80 ? line.slice(0, 79) + '…' : line;
}

export interface TooltipField {
  readonly label: string;
  readonly value: string;
}

export interface TooltipInput extends HostStateInput {
  readonly hostname: string;
  readonly label?: string;
  readonly source: 'settings' | 'repo';
  readonly formatDateTime?: (epochSeconds: number) => string;
}

export function defaultFormatDateTime(epochSeconds: number): string {
  const d = new Date(epochSeconds * 1000);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** The rows of the host's tooltip, in order; absent facts are left out. */
export function tooltipFields(input: TooltipInput): TooltipField[] {
  const state = hostState(input);
  const fmt = input.formatDateTime ?? defaultFormatDateTime;
  const rows: TooltipField[] = [{ label: 'Host', value: input.hostname }];
  rows.push({ label: 'State', value: state.description });
  if (state.authDomain) rows.push({ label: 'Team', value: state.authDomain });
  if (state.email) rows.push({ label: 'E-mail', value: state.email });
  if (state.signedInUntil !== undefined) rows.push({ label: 'Signed in until', value: fmt(state.signedInUntil) });
  const cert = input.cert;
  if (cert) {
    rows.push({ label: cert.principals.length === 1 ? 'Principal' : 'Principals', value: cert.principals.join(', ') || '(none)' });
    rows.push({ label: 'Key ID', value: cert.keyId });
    rows.push({ label: 'Valid', value: `${fmt(cert.validAfter)} – ${fmt(cert.validBefore)}` });
    if (cert.serial !== undefined) rows.push({ label: 'Serial', value: cert.serial });
  }
  rows.push({ label: 'ssh alias', value: `cfpipe-${input.hostname}` });
  rows.push({ label: 'From', value: input.source === 'repo' ? '.vscode/access-hosts.json (this workspace)' : 'user settings' });
  return rows;
}

/** Seconds until the next moment the displayed text can change (for timers outside the view). */
export function nextRenewalAt(cert: CertInfo | undefined, marginSeconds: number): number | undefined {
  return cert ? cert.validBefore - marginSeconds : undefined;
}
