// Activation: lazy (the view, the auth provider, a deep link, or Remote-SSH
// resolving an ssh-remote authority). Wires the services, the view, the
// commands and, in a window connected through us, the certificate status bar
// and its renewal. Writes the helper launcher on every activation so that the
// ssh config keeps pointing at this extension version's helper.

import { existsSync } from 'node:fs';
import { type ExtensionContext, type Uri, authentication, env, window as vscodeWindow, workspace } from 'vscode';
import { parseDeepLink } from '../remote-ssh/authority.js';
import { deepLinkEntry } from '../remote-ssh/hand-off.js';
import { AccessService } from './access.js';
import { AccessState } from './access-state.js';
import { AccessAuthProvider, PROVIDER_ID, SESSION_SCOPE } from './auth-provider.js';
import { SessionWatch } from './session-watch.js';
import { CertificateDocuments } from './cert-document.js';
import { addHostToSettings, registerCommands, signInFlow } from './commands.js';
import { setContext } from './context.js';
import { connect, refreshCertificate, type Services } from './connect.js';
import { HostRegistry } from './host-registry.js';
import { HostsView } from './hosts-view.js';
import { offerImportOnFirstRun } from './import-hosts.js';
import { createLog, describe, showError } from './log.js';
import { migrateRenamedSettings, SECTION } from './settings.js';
import { SshConfigSync } from './ssh-config-sync.js';
import { ConnectedHost, connectedHost } from './status-bar.js';

/** How long activation may wait for a certificate before Remote-SSH resolves our authority. */
const RESOLVE_REFRESH_BUDGET_MS = 20_000;

export interface AccessSshApi {
  readonly services: Services;
}

export async function activate(context: ExtensionContext): Promise<AccessSshApi> {
  const started = Date.now();
  const log = createLog();
  context.subscriptions.push(log.channel);
  const { version } = context.extension.packageJSON as { version?: unknown };
  log.info(`Activating Access SSH ${typeof version === 'string' ? version : ''} in ${env.appName} (${env.remoteName ?? 'local'})`);
  // Before anything reads a setting: values of the renamed keys (accessSsh.*) move to accessSSH.*.
  await migrateRenamedSettings(log);

  const access = new AccessService(log, typeof version === 'string' ? version : 'dev');
  const state = new AccessState(log, context.globalState);
  const registry = new HostRegistry(log);
  const sync = new SshConfigSync(context, log, state);
  const auth = new AccessAuthProvider(access, state, log, () => registry.allHosts);
  const svc: Services = { access, state, auth, registry, sync, log };
  context.subscriptions.push(state, registry, auth);

  auth.signInFlow = (host) => signInFlow(svc, host);
  let wasSignedIn: boolean | undefined;
  const updateSignedIn = (): void => {
    const signedIn = state.teams().length > 0;
    void setContext('accessSsh.signedIn', signedIn);
    // Signed out: the Accounts menu offers "Sign in with Cloudflare Access to use Access SSH".
    if (!signedIn && wasSignedIn !== false) {
      void authentication
        .getSession(PROVIDER_ID, [SESSION_SCOPE], { createIfNone: false })
        .then(undefined, (err) => log.debug(`Accounts menu sign-in request: ${describe(err).message}`));
    }
    wasSignedIn = signedIn;
  };
  context.subscriptions.push(state.onDidChange(updateSignedIn));
  const sessions = new SessionWatch(svc);
  context.subscriptions.push(sessions);

  const view = new HostsView(registry, state);
  const certDocs = new CertificateDocuments(state);
  context.subscriptions.push(view, certDocs, ...registerCommands(svc, certDocs));

  context.subscriptions.push(
    vscodeWindow.registerUriHandler({
      handleUri: (uri) => handleUri(svc, uri),
    }),
    workspace.onDidChangeConfiguration(async (e) => {
      if (
        e.affectsConfiguration(`${SECTION}.connectTo`) ||
        e.affectsConfiguration(`${SECTION}.extraCAFile`) ||
        e.affectsConfiguration(`${SECTION}.useCloudflared`) ||
        e.affectsConfiguration(`${SECTION}.cloudflaredPath`) ||
        e.affectsConfiguration(`${SECTION}.configFile`) ||
        e.affectsConfiguration('remote.SSH.configFile') ||
        e.affectsConfiguration('http.proxy') ||
        e.affectsConfiguration('http.noProxy') ||
        e.affectsConfiguration('http.proxySupport')
      ) {
        try {
          await sync.writeLauncher();
          if (registry.hosts.length > 0) await sync.sync(registry.hosts);
        } catch (err) {
          await showError(log, 'Cannot update the ssh configuration', err);
        }
      }
    }),
    state.onDidChange(() => {
      // A certificate for another principal (renewed here, by the helper or by cloudflared): its User follows.
      if (registry.hosts.length > 0 && sync.usersChanged(registry.hosts)) {
        sync.sync(registry.hosts).catch((err) => log.warn(`ssh config: ${describe(err).message}`));
      }
    }),
    registry.onDidChange(() => {
      // Keep the entries in step with the list (only once the user has hosts, or a file: no file for nobody).
      if (registry.hosts.length > 0 || existsSync(sync.ourConfigFile))
        sync.sync(registry.hosts).catch((err) => log.warn(`SSH config: ${describe(err).message}`));
      sessions.checkUnknownHostsSoon();
    }),
  );

  await Promise.all([state.start(), registry.reload()]);
  updateSignedIn();
  try {
    await sync.writeLauncher();
  } catch (err) {
    log.error(`Cannot write the helper launcher: ${describe(err).message}`);
  }
  await setContext('accessSsh.ready', true);
  sessions.checkUnknownHostsSoon();
  // First run: hosts already set up for cloudflared are offered for import (once).
  setTimeout(() => void offerImportOnFirstRun(svc, context).catch((err) => log.warn(`Import offer: ${describe(err).message}`)), 0);

  // A window Remote-SSH is opening (or has opened) through one of our aliases.
  const host = connectedHost();
  if (host) {
    log.info(`This window is connected to ${host} through Access`);
    context.subscriptions.push(new ConnectedHost(svc, host));
    // Activation runs before Remote-SSH resolves the authority: get a fresh
    // certificate first, within a budget (the Match exec entry is the fallback).
    await Promise.race([
      refreshCertificate(svc, host, true).catch((err) =>
        log.warn(`Refreshing the certificate of ${host} before connecting: ${describe(err).message}`),
      ),
      new Promise((resolve) => setTimeout(resolve, RESOLVE_REFRESH_BUDGET_MS).unref?.()),
    ]);
  }
  log.info(`Activated in ${Date.now() - started} ms (${registry.hosts.length} hosts)`);
  return { services: svc };
}

async function handleUri(svc: Services, uri: Uri): Promise<void> {
  svc.log.info(`Opened link ${uri.path}?${uri.query}`);
  let link;
  try {
    link = parseDeepLink(uri.path, uri.query);
  } catch (err) {
    await showError(svc.log, 'Cannot open the Access SSH link', err);
    return;
  }
  if (!svc.registry.find(link.hostname)) {
    const choice = await vscodeWindow.showWarningMessage(
      `A link asks to connect to ${link.hostname}, which is not one of your Access hosts. Add it and connect?`,
      { modal: true, detail: 'Only continue if you expected this link. The host will be added to your settings (accessSSH.hosts).' },
      'Add and Connect',
    );
    if (choice !== 'Add and Connect') return;
    await addHostToSettings(svc, link.hostname);
  }
  await connect(svc, deepLinkEntry(link, svc.registry.find(link.hostname)), link.window);
}

export function deactivate(): void {
  /* everything is in context.subscriptions */
}
