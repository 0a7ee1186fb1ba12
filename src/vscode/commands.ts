// Every command of the "Access" category. Host commands take the view's item,
// a host name (status bar, deep link) or nothing (palette: a quick pick).

import { existsSync, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import { type Disposable, type QuickPickItem, Uri, commands as vscodeCommands, env, window as vscodeWindow } from 'vscode';
import { addToSetting, hostnameProblem, normaliseHostname, removeFromSetting, type HostEntry } from '../hosts/hosts.js';
import { pickHost } from './auth-provider.js';
import type { CertificateDocuments } from './cert-document.js';
import { commandLine, connect, openTerminal, prepare, refreshCertificate, type Services, type WindowChoice } from './connect.js';
import { copyReport, diagnose } from './doctor.js';
import { isProblem } from './hosts-view.js';
import { importHosts } from './import-hosts.js';
import { setUpServer } from './server-setup.js';
import { showError } from './log.js';
import { rawHostsSetting, readSettings, updateHostsSetting } from './settings.js';

function hostOf(arg: unknown): string | undefined {
  if (typeof arg === 'string') {
    try {
      return normaliseHostname(arg);
    } catch {
      return undefined;
    }
  }
  if (arg && typeof arg === 'object' && !isProblem(arg) && typeof (arg as HostEntry).hostname === 'string') return (arg as HostEntry).hostname;
  return undefined;
}

async function resolveHost(svc: Services, arg: unknown, placeHolder: string): Promise<string | undefined> {
  return hostOf(arg) ?? (await pickHost(svc.registry.hosts, placeHolder));
}

/** Input box for a new host; adds it to the user setting. */
export async function addHost(svc: Services, initial?: string): Promise<string | undefined> {
  const value = await vscodeWindow.showInputBox({
    title: 'Add Access Host',
    prompt: 'The host name of a Cloudflare Access SSH application',
    placeHolder: 'ssh.example.com',
    ...(initial ? { value: initial } : {}),
    ignoreFocusOut: true,
    validateInput: hostnameProblem,
  });
  if (value === undefined) return undefined;
  const host = normaliseHostname(value);
  await addHostToSettings(svc, host);
  return host;
}

export async function addHostToSettings(svc: Services, host: string): Promise<void> {
  await updateHostsSetting(addToSetting(rawHostsSetting(), host));
  await svc.registry.reload();
  svc.log.info(`Added host ${host}`);
  try {
    await svc.sync.sync(svc.registry.hosts);
  } catch (err) {
    await showError(svc.log, 'Cannot write the ssh config', err);
  }
}

export function registerCommands(svc: Services, certDocs: CertificateDocuments): Disposable[] {
  const reg = (id: string, fn: (...args: unknown[]) => unknown): Disposable =>
    vscodeCommands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        await showError(svc.log, `${id.replace('accessSsh.', '')} failed`, err);
        return undefined;
      }
    });

  const connectWith = (window: WindowChoice) => async (arg: unknown) => {
    if (arg === undefined) {
      const items: Array<QuickPickItem & { host?: string; add?: boolean }> = svc.registry.hosts.map((h) => ({
        label: `$(server) ${h.label ?? h.hostname}`,
        ...(h.label ? { description: h.hostname } : {}),
        ...(h.path !== undefined ? { detail: h.path } : {}),
        host: h.hostname,
      }));
      items.push({ label: '$(add) Add host...', add: true, alwaysShow: true });
      const pick = await vscodeWindow.showQuickPick(items, { placeHolder: 'Connect to which Access host?', matchOnDescription: true });
      if (!pick) return;
      const host = pick.add ? await addHost(svc) : pick.host;
      if (host) await connect(svc, svc.registry.find(host) ?? host, window);
      return;
    }
    const host = hostOf(arg);
    if (host) await connect(svc, typeof arg === 'object' ? (arg as HostEntry) : host, window);
  };

  return [
    reg('accessSsh.addHost', async () => {
      const host = await addHost(svc);
      if (!host) return;
      const signedIn = svc.state.input(host).appToken || svc.state.input(host).orgToken;
      const next = await vscodeWindow.showInformationMessage(`Added ${host}.`, ...(signedIn ? ['Connect'] : ['Sign In', 'Connect']));
      if (next === 'Sign In') await vscodeCommands.executeCommand('accessSsh.signIn', host);
      if (next === 'Connect') await vscodeCommands.executeCommand('accessSsh.connect', host);
    }),
    reg('accessSsh.removeHost', async (arg) => {
      const host = await resolveHost(svc, arg, 'Remove which host?');
      if (!host) return;
      const entry = svc.registry.find(host);
      if (entry?.source === 'repo') {
        void vscodeWindow.showInformationMessage(`${host} comes from this workspace's .vscode/access-hosts.json; remove it there.`);
        return;
      }
      await updateHostsSetting(removeFromSetting(rawHostsSetting(), host));
      await svc.registry.reload();
      await svc.sync.sync(svc.registry.hosts);
      svc.log.info(`Removed host ${host}`);
    }),
    reg('accessSsh.signIn', async (arg) => {
      let host = hostOf(arg);
      if (!host) {
        if (svc.registry.hosts.length === 0) {
          host = await addHost(svc);
        } else {
          host = await pickHost(svc.registry.hosts, 'Sign in to Cloudflare Access through which host?');
        }
      }
      if (!host) return;
      try {
        const team = await svc.auth.signIn(host);
        // A certificate right away (no browser: the login just stored the tokens), and the entries with the User.
        await refreshCertificate(svc, host, true).catch((err) => svc.log.warn(`Certificate for ${host} after sign-in: ${String(err)}`));
        await svc.sync.sync(svc.registry.hosts).catch((err) => svc.log.warn(`ssh config: ${String(err)}`));
        void vscodeWindow.showInformationMessage(`Signed in to Cloudflare Access (${team}).`);
      } catch (err) {
        svc.state.setError(host, undefined);
        await showError(svc.log, `Sign-in through ${host} failed`, err);
      }
    }),
    reg('accessSsh.signOut', async () => {
      const teams = svc.state.teams();
      if (teams.length === 0) {
        void vscodeWindow.showInformationMessage('You are not signed in to Cloudflare Access.');
        return;
      }
      const pick =
        teams.length === 1
          ? teams[0]
          : (await vscodeWindow.showQuickPick(teams.map((t) => ({ label: t.authDomain, ...(t.email !== undefined ? { description: t.email } : {}), team: t })), { placeHolder: 'Sign out of which Access team?' }))?.team;
      if (!pick) return;
      await svc.auth.removeSession(pick.authDomain);
      void vscodeWindow.showInformationMessage(`Signed out of ${pick.authDomain}.`);
    }),
    reg('accessSsh.connect', connectWith('default')),
    reg('accessSsh.connectInNewWindow', connectWith('new')),
    reg('accessSsh.connectInCurrentWindow', connectWith('current')),
    reg('accessSsh.refreshCertificate', async (arg) => {
      const host = await resolveHost(svc, arg, 'Refresh the certificate of which host?');
      if (!host) return;
      try {
        await prepare(svc, host);
        const cert = svc.state.cert(host);
        svc.log.info(`Certificate for ${host} is fresh${cert ? ` (valid until ${new Date(cert.validBefore * 1000).toLocaleTimeString()})` : ''}`);
      } catch (err) {
        const c = await showError(svc.log, `Cannot refresh the certificate for ${host}`, err, 'Sign In');
        if (c === 'Sign In') await vscodeCommands.executeCommand('accessSsh.signIn', host);
      }
    }),
    reg('accessSsh.copySshCommand', async (arg) => {
      const host = await resolveHost(svc, arg, 'Copy the ssh command of which host?');
      if (!host) return;
      await svc.sync.sync(svc.registry.hosts);
      const line = commandLine(svc.sync.sshCommand(host));
      await env.clipboard.writeText(line);
      void vscodeWindow.showInformationMessage(`Copied: ${line}`);
    }),
    reg('accessSsh.openTerminal', async (arg) => {
      const host = await resolveHost(svc, arg, 'Open ssh to which host?');
      if (host) await openTerminal(svc, host);
    }),
    reg('accessSsh.showCertificate', async (arg) => {
      const host = await resolveHost(svc, arg, 'Show the certificate of which host?');
      if (host) await certDocs.show(host);
    }),
    reg('accessSsh.openSshConfig', async () => {
      const settings = readSettings();
      const items = [
        { label: '$(gear) Your ssh config', description: settings.sshConfigFile, file: settings.sshConfigFile },
        { label: '$(lock) Access SSH entries (managed)', description: svc.sync.ourConfigFile, file: svc.sync.ourConfigFile },
      ];
      const pick = await vscodeWindow.showQuickPick(items, { placeHolder: 'Open which ssh config file?' });
      if (!pick) return;
      if (!existsSync(pick.file)) {
        await svc.sync.sync(svc.registry.hosts);
      }
      if (!existsSync(pick.file)) {
        await fsp.mkdir(dirname(pick.file), { recursive: true, mode: 0o700 });
        await fsp.writeFile(pick.file, '', { mode: 0o600 });
      }
      await vscodeWindow.showTextDocument(Uri.file(pick.file));
    }),
    reg('accessSsh.diagnose', async (arg) => {
      const host = await resolveHost(svc, arg, 'Diagnose the connection to which host?');
      if (host) return await diagnose(svc, host);
      return undefined;
    }),
    reg('accessSsh.copyDiagnosis', () => copyReport()),
    reg('accessSsh.importHosts', () => importHosts(svc)),
    reg('accessSsh.setUpServer', () => setUpServer(svc)),
    reg('accessSsh.showLog', () => svc.log.show()),
    reg('accessSsh.refreshView', async () => {
      await Promise.all([svc.registry.reload(), svc.state.reload()]);
    }),
  ];
}

export { refreshCertificate };
