// The hand-off to Remote-SSH: sign in if needed, make sure a fresh certificate
// is on disk (in process, never a browser inside ssh), write the ssh config and
// check it, then open `vscode-remote://ssh-remote+cfpipe-<host>/<path>`.

import type { Hostname } from '../base/hostname.js';
import { ProgressLocation, ThemeIcon, Uri, commands, env, extensions, window as vscodeWindow, workspace } from 'vscode';
import { handOff, hostsForConnect, type WindowChoice } from '../remote-ssh/hand-off.js';
import { shellWord } from '../ssh/quote.js';
import type { HostEntry } from '../hosts/hosts.js';
import type { AccessService } from './access.js';
import type { AccessState } from './access-state.js';
import type { AccessAuthProvider } from './auth-provider.js';
import type { HostRegistry } from './host-registry.js';
import type { EnsureResult } from '../access/cert.js';
import type { NextAction } from '../hosts/failure.js';
import { defaultFormatTime } from '../hosts/state.js';
import { failureOf, isCancellation, showFailure, type ExtensionLog } from './log.js';
import type { SshConfigSync } from './ssh-config-sync.js';

export type { WindowChoice };

export interface Services {
  readonly access: AccessService;
  readonly state: AccessState;
  readonly auth: AccessAuthProvider;
  readonly registry: HostRegistry;
  readonly sync: SshConfigSync;
  readonly log: ExtensionLog;
}

/** Signed in for `host` (a live app token, or an org token of its team); if not, the browser login. */
export async function ensureSignedIn(svc: Services, host: Hostname): Promise<void> {
  await svc.state.reload();
  const input = svc.state.input(host);
  if (input.appToken || input.orgToken) return;
  try {
    await svc.auth.signIn(host);
  } catch (err) {
    if (!isCancellation(err)) svc.state.setError(host, failureOf(host, err));
    throw err;
  }
}

/**
 * A certificate valid beyond the margin, under a progress notification. A
 * failure stays on the host's row (reason, detail, next step) until the next success.
 * One log line per renewal.
 */
export async function refreshCertificate(svc: Services, host: Hostname, quiet = false): Promise<EnsureResult> {
  const run = async (signal?: AbortSignal): Promise<EnsureResult> => {
    try {
      const result = await svc.access.ensureCertificate(host, signal);
      svc.state.setError(host, undefined);
      if (result.renewed) {
        svc.log.info(
          `Renewed the certificate for ${host}: valid until ${defaultFormatTime(result.cert.validBefore)} for ${result.cert.principals.join(', ')}`,
        );
      }
      svc.state.schedule(0);
      return result;
    } catch (err) {
      if (!isCancellation(err)) svc.state.setError(host, failureOf(host, err));
      throw err;
    }
  };
  if (quiet) return await run();
  return await vscodeWindow.withProgress(
    { location: ProgressLocation.Notification, title: `Getting an SSH certificate for ${host}…`, cancellable: true },
    async (_p, token) => {
      const abort = new AbortController();
      token.onCancellationRequested(() => abort.abort());
      return await run(abort.signal);
    },
  );
}

/** Sign in, certificate, ssh config: everything before ssh or Remote-SSH runs. */
async function prepare(svc: Services, host: Hostname): Promise<void> {
  await ensureSignedIn(svc, host);
  await refreshCertificate(svc, host);
  await svc.sync.sync(hostsForConnect(svc.registry.hosts, host), host);
}

export async function connect(svc: Services, entry: HostEntry | Hostname, window: WindowChoice): Promise<void> {
  const host = typeof entry === 'string' ? entry : entry.hostname;
  const hostEntry = typeof entry === 'string' ? svc.registry.find(host) : entry;
  // The host first (sign-in, certificate, entries): a host that cannot work says
  // so before anything is said about Remote-SSH.
  try {
    await prepare(svc, host);
  } catch (err) {
    await reportFailure(svc, `Cannot connect to ${host}`, host, err, () => connect(svc, entry, window));
    return;
  }
  let plan = handOff({
    host,
    path: hostEntry?.path,
    installed: extensions.all.map((e) => ({ id: e.id })),
    appName: env.appName,
    window,
    windowInUse: (workspace.workspaceFolders?.length ?? 0) > 0 || Boolean(env.remoteName),
  });
  if (plan.kind === 'offerRemoteSsh') {
    svc.log.warn(`No Remote-SSH extension is installed (looked for ${env.appName}'s)`);
    // The button names what it installs: this editor's own Remote-SSH.
    const install = plan.install ? `Install ${plan.install.name}` : undefined;
    const terminal = 'Open ssh in Terminal';
    const choice = await vscodeWindow.showWarningMessage(plan.message, ...(install ? [install, terminal] : [terminal]));
    if (install && choice === install) {
      await commands.executeCommand('workbench.extensions.installExtension', plan.install!.id);
    } else if (choice === terminal) {
      await openTerminal(svc, host);
    }
    return;
  }
  if (plan.kind === 'confirmUnsupported') {
    const choice = await vscodeWindow.showWarningMessage(plan.message, { modal: true }, 'Connect Anyway', 'Open in Terminal');
    if (choice === 'Open in Terminal') return await openTerminal(svc, host);
    if (choice !== 'Connect Anyway') return;
    plan = plan.then;
  }
  const { flavor, target, reuseWindow } = plan;
  svc.log.info(
    `Handing ${host} to ${flavor.name}: ${target.authority}${target.path ?? ''} (${reuseWindow ? 'this window' : 'new window'})`,
  );
  if (target.path !== undefined) {
    const uri = Uri.from({ scheme: 'vscode-remote', authority: target.authority, path: target.path });
    await commands.executeCommand('vscode.openFolder', uri, { forceNewWindow: !reuseWindow });
  } else {
    await commands.executeCommand('vscode.newWindow', { remoteAuthority: target.authority, reuseWindow });
  }
}

/**
 * A failure of an operation on `host`: on its row (set by the flow that failed),
 * in the log, and as one notification whose one button is the next step that
 * fits the cause. Retry runs `retry`.
 */
export async function reportFailure(
  svc: Services,
  what: string,
  host: string,
  err: unknown,
  retry?: () => Promise<unknown>,
): Promise<void> {
  const action = await showFailure(svc.log, what, host, err);
  await runAction(svc, host, action, retry);
}

async function runAction(svc: Services, host: string, action: NextAction | undefined, retry?: () => Promise<unknown>): Promise<void> {
  switch (action) {
    case 'retry':
      if (retry) await retry();
      else await commands.executeCommand('accessSsh.refreshCertificate', host);
      return;
    case 'signIn':
      await commands.executeCommand('accessSsh.signIn', host);
      return;
    case 'editHost':
      await commands.executeCommand('accessSsh.editHost', host);
      return;
    case 'showLog':
      svc.log.show();
      return;
    default:
      return;
  }
}

/** A terminal running `ssh cfpipe-<host>` through the written config. */
export async function openTerminal(svc: Services, host: Hostname): Promise<void> {
  try {
    await prepare(svc, host);
  } catch (err) {
    await reportFailure(svc, `Cannot open SSH to ${host}`, host, err, () => openTerminal(svc, host));
    return;
  }
  const terminal = vscodeWindow.createTerminal({ name: `ssh ${host}`, iconPath: new ThemeIcon('key') });
  terminal.show();
  terminal.sendText(commandLine(svc.sync.sshCommand(host)), true);
}

/** The command as a shell line: arguments with anything but safe characters quoted. */
export function commandLine(argv: readonly string[]): string {
  return argv.map((a) => (process.platform === 'win32' ? (/^[A-Za-z0-9@%+=:,./_-]+$/.test(a) ? a : `"${a}"`) : shellWord(a))).join(' ');
}
