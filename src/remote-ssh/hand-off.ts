// The connect decision, without an editor: once the host is ready (signed in, a fresh
// certificate, the entries written), which Remote-SSH opens it and how, or what to
// offer instead. src/vscode/connect.ts asks this and carries out the answer.

import type { HostEntry } from '../hosts/hosts.js';
import type { Hostname } from '../ssh/validate.js';
import { remoteTarget, type DeepLink, type RemoteTarget } from './authority.js';
import { detectRemoteSsh, missingRemoteSshOffer, type InstalledExtension, type RemoteSshFlavor } from './detect.js';

export type WindowChoice = 'new' | 'current' | 'default';

export interface HandOffInput {
  readonly host: string;
  /** The folder to open on the host (the entry's `path`), if any. */
  readonly path?: string | undefined;
  readonly installed: readonly InstalledExtension[];
  /** `env.appName`: which editor's Remote-SSH fork is its own. */
  readonly appName: string;
  readonly window: WindowChoice;
  /** The current window has a folder open, or is itself remote: it is not reused by default. */
  readonly windowInUse: boolean;
}

export type HandOff =
  /** No Remote-SSH: say so, offer to install `install` (when one can use certificates) or ssh in a terminal. */
  | { readonly kind: 'offerRemoteSsh'; readonly message: string; readonly install?: RemoteSshFlavor }
  /** A Remote-SSH that cannot use certificates: ask (Connect Anyway / Open in Terminal) before `then`. */
  | { readonly kind: 'confirmUnsupported'; readonly message: string; readonly then: OpenRemote }
  | OpenRemote;

export interface OpenRemote {
  readonly kind: 'open';
  readonly flavor: RemoteSshFlavor;
  readonly target: RemoteTarget;
  /** Open in this window (else a new one). */
  readonly reuseWindow: boolean;
}

export function handOff(input: HandOffInput): HandOff {
  const flavor = detectRemoteSsh(input.installed, input.appName);
  if (!flavor) {
    const offer = missingRemoteSshOffer(input.host, input.appName);
    return { kind: 'offerRemoteSsh', message: offer.message, ...(offer.install ? { install: offer.install } : {}) };
  }
  // Default: this window when it is empty and local, else a new one.
  const reuseWindow = input.window === 'current' || (input.window === 'default' && !input.windowInUse);
  const open: OpenRemote = { kind: 'open', flavor, target: remoteTarget(input.host, input.path, flavor.authorityPrefix), reuseWindow };
  if (!flavor.supportsCertificates) {
    return { kind: 'confirmUnsupported', message: flavor.note ?? `${flavor.name} cannot use Access certificates.`, then: open };
  }
  return open;
}

/** The hosts to write entries for before connecting to `host`: the configured ones, plus `host` for now when it is not one of them. */
export function hostsForConnect(hosts: readonly HostEntry[], host: Hostname): readonly HostEntry[] {
  return hosts.some((h) => h.hostname === host) ? hosts : [...hosts, { hostname: host, source: 'settings' }];
}

/** What a deep link connects to: the configured entry (the link's folder, if any, instead of its own), else the bare host. */
export function deepLinkEntry(link: DeepLink, entry: HostEntry | undefined): HostEntry {
  const base = entry ?? { hostname: link.hostname, source: 'settings' as const };
  return link.path ? { ...base, path: link.path } : base;
}
