// In a window connected through us (`ssh-remote+cfpipe-<host>`): a status bar
// item counting the certificate down, and the renewal scheduler of src/hosts/renewal.ts
// renewing it at the margin so that Remote-SSH's reconnects find a fresh one (the Match
// exec entry renews it too; this one keeps the view honest and spares the reconnect a wait).

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
import { emailLocalPart } from '../access/jwt.js';
import { hostFromAuthority } from '../remote-ssh/authority.js';
import { RenewalScheduler, realClock } from '../hosts/renewal.js';
import { countdown, defaultFormatTime } from '../hosts/state.js';
import { refreshCertificate, type Services } from './connect.js';
import { describe, isCancellation } from './log.js';
import { readSettings } from './settings.js';

/** The host of the window's remote authority when it is one of ours. */
export function connectedHost(): string | undefined {
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

export class ConnectedHost implements Disposable {
  private readonly item: StatusBarItem;
  private tickTimer: NodeJS.Timeout | undefined;
  private readonly scheduler: RenewalScheduler;
  private readonly disposables: Disposable[] = [];
  private warned = false;

  constructor(
    private readonly svc: Services,
    readonly host: string,
  ) {
    this.item = vscodeWindow.createStatusBarItem('accessSsh.certificate', StatusBarAlignment.Left, 100);
    this.item.name = 'Access SSH certificate';
    this.item.command = { command: 'accessSsh.refreshCertificate', title: 'Refresh Certificate', arguments: [host] };
    this.scheduler = new RenewalScheduler({
      clock: realClock,
      validBefore: () => svc.state.cert(host)?.validBefore,
      marginSeconds: () => readSettings().renewalMarginSeconds,
      renew: () => this.renew(),
      onFailure: (err) => this.renewalFailed(err),
    });
    this.disposables.push(
      this.item,
      this.scheduler,
      svc.state.onDidChange(() => {
        this.render();
        this.scheduler.reschedule();
      }),
    );
    this.tickTimer = setInterval(() => this.render(), 1000);
    this.render();
    this.item.show();
    this.scheduler.reschedule();
  }

  private render(): void {
    const { cert, appToken, orgToken, error } = this.svc.state.input(this.host);
    const email = appToken?.email ?? orgToken?.email;
    const user = cert?.principals[0] ?? (email ? emailLocalPart(email) : undefined);
    const left = cert ? cert.validBefore - Date.now() / 1000 : undefined;
    const who = user ? `${user} · ` : '';
    if (left === undefined || left <= 0) {
      this.item.text = `$(key) ${who}${left === undefined ? 'no certificate' : 'expired'}`;
      this.item.backgroundColor = new ThemeColor('statusBarItem.errorBackground');
    } else {
      this.item.text = `$(key) ${who}${countdown(left)}`;
      this.item.backgroundColor = undefined;
    }
    const md = new MarkdownString(`**Cloudflare Access** — ${this.host}\n\n`);
    if (cert) md.appendMarkdown(`Certificate for \`${cert.principals.join(', ')}\` valid until ${defaultFormatTime(cert.validBefore)}\n\n`);
    if (error) md.appendMarkdown(`Last error: ${error.reason}\n\n`);
    md.appendMarkdown('Click to refresh the certificate.');
    this.item.tooltip = md;
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
    if (this.tickTimer) clearInterval(this.tickTimer);
    for (const d of this.disposables) d.dispose();
  }
}
