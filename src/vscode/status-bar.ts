// In a window connected through us (`ssh-remote+cfpipe-<host>`), two jobs:
// CertificateStatusItem, the status bar item counting the certificate down, and
// CertificateRenewal, which runs the scheduler of src/hosts/renewal.ts to renew the
// certificate at the margin so that Remote-SSH's reconnects find a fresh one (the Match
// exec entry renews it too; this one keeps the view honest and spares the reconnect a
// wait). Both run on an injected clock (the real one in the editor, a fake in tests).

import type { Hostname } from '../base/hostname.js';
import {
  type Disposable,
  MarkdownString,
  StatusBarAlignment,
  type StatusBarItem,
  ThemeColor,
  commands,
  env,
  window as vscodeWindow,
  workspace,
} from 'vscode';
import { hostFromAuthority } from '../remote-ssh/authority.js';
import { type Clock, RenewalScheduler, realClock } from '../hosts/renewal.js';
import { certificateStatus } from '../hosts/state.js';
import { refreshCertificate, type Services } from './connect.js';
import { describe, isCancellation } from './log.js';
import { readSettings, SECTION } from './settings.js';

/** The host of the window's remote authority when it is one of ours. */
export function connectedHost(): Hostname | undefined {
  if (env.remoteName !== 'ssh-remote') return undefined;
  const uris = [workspace.workspaceFile, ...(workspace.workspaceFolders ?? []).map((f) => f.uri)];
  for (const uri of uris) {
    if (uri?.scheme === 'vscode-remote') {
      const host = hostFromAuthority(uri.authority);
      if (host) return host;
    }
  }
  return undefined;
}

/** The status bar item: the certificate's countdown, re-rendered every second and on every state change. */
export class CertificateStatusItem implements Disposable {
  private readonly item: StatusBarItem;
  private tick: unknown;
  private readonly subscription: Disposable;

  constructor(
    private readonly svc: Services,
    readonly host: Hostname,
    private readonly clock: Clock = realClock,
  ) {
    this.item = vscodeWindow.createStatusBarItem('accessSsh.certificate', StatusBarAlignment.Left, 100);
    this.item.name = 'Access SSH certificate';
    this.item.command = { command: 'accessSsh.refreshCertificate', title: 'Refresh Certificate', arguments: [host] };
    this.subscription = svc.state.onDidChange(() => this.render());
    this.render();
    this.item.show();
  }

  private render(): void {
    const status = certificateStatus(this.host, { now: this.clock.now() / 1000, ...this.svc.state.input(this.host) });
    this.item.text = status.text;
    this.item.backgroundColor = status.alarm ? new ThemeColor('statusBarItem.errorBackground') : undefined;
    this.item.tooltip = new MarkdownString(status.tooltip);
    if (this.tick !== undefined) this.clock.clearTimeout(this.tick);
    this.tick = this.clock.setTimeout(() => {
      this.tick = undefined;
      this.render();
    }, 1000);
  }

  dispose(): void {
    if (this.tick !== undefined) this.clock.clearTimeout(this.tick);
    this.tick = undefined;
    this.subscription.dispose();
    this.item.dispose();
  }
}

/**
 * Renews the host's certificate at the margin (accessSSH.renewalMarginSeconds, read when
 * it changes), again after every state change; a failure is logged each time and shown
 * once until a renewal succeeds.
 */
export class CertificateRenewal implements Disposable {
  private readonly scheduler: RenewalScheduler;
  private readonly disposables: Disposable[] = [];
  private margin = readSettings().renewalMarginSeconds;
  private warned = false;

  constructor(
    private readonly svc: Services,
    readonly host: Hostname,
    clock: Clock = realClock,
  ) {
    this.scheduler = new RenewalScheduler({
      clock,
      validBefore: () => svc.state.cert(host)?.validBefore,
      marginSeconds: () => this.margin,
      renew: () => this.renew(),
      onFailure: (err) => this.renewalFailed(err),
    });
    this.disposables.push(
      this.scheduler,
      svc.state.onDidChange(() => this.scheduler.reschedule()),
      workspace.onDidChangeConfiguration((e) => {
        if (!e.affectsConfiguration(`${SECTION}.renewalMarginSeconds`)) return;
        this.margin = readSettings().renewalMarginSeconds;
        this.scheduler.reschedule();
      }),
    );
    this.scheduler.reschedule();
  }

  /** One renewal; false when the user cancelled it (the scheduler then waits for a state change). */
  private async renew(): Promise<boolean> {
    try {
      await refreshCertificate(this.svc, this.host, true);
    } catch (err) {
      if (isCancellation(err)) return false;
      throw err;
    }
    this.warned = false;
    await this.svc.state.reload();
    return true;
  }

  /** Logged each time, shown once until a renewal succeeds; the scheduler retries in a minute. */
  private renewalFailed(err: unknown): void {
    const { message, hint } = describe(err);
    this.svc.log.warn(`Keeping the certificate of ${this.host} fresh: ${message}`);
    if (this.warned) return;
    this.warned = true;
    void vscodeWindow
      .showWarningMessage(
        `The Access certificate for ${this.host} could not be renewed: ${message}${hint ? ` ${hint}` : ''} A reconnect will need it.`,
        'Sign In',
      )
      .then((c) => (c === 'Sign In' ? commands.executeCommand('accessSsh.signIn', this.host) : undefined));
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
  }
}

/** Both jobs for the host this window is connected to. */
export class ConnectedHost implements Disposable {
  private readonly parts: Disposable[];

  constructor(svc: Services, host: Hostname, clock: Clock = realClock) {
    this.parts = [new CertificateStatusItem(svc, host, clock), new CertificateRenewal(svc, host, clock)];
  }

  dispose(): void {
    for (const d of this.parts) d.dispose();
  }
}
