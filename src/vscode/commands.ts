// Every command of the "Access" category. Host commands take the view's item,
// a host name (status bar, deep link) or nothing (palette: a quick pick).

import { existsSync, promises as fsp } from 'node:fs';
import { dirname } from 'node:path';
import {
  type Disposable,
  ProgressLocation,
  type QuickPickItem,
  Uri,
  commands as vscodeCommands,
  env,
  window as vscodeWindow,
} from 'vscode';
import { removeCertificateFiles } from '../access/cert-file.js';
import { parseHostname, type Hostname } from '../base/hostname.js';
import type { AppInfo } from '../access/types.js';
import { addToSetting, hostnameProblem, normaliseHostname, removeFromSetting, renameInSetting, type HostEntry } from '../hosts/hosts.js';
import { countdown, teamPhrase, timeLeft } from '../hosts/state.js';
import { signedInTeam } from '../hosts/teams.js';
import { pickHost, pickSignInHost } from './auth-provider.js';
import type { CertificateDocuments } from './cert-document.js';
import {
  commandLine,
  connect,
  ensureSignedIn,
  openTerminal,
  refreshCertificate,
  reportFailure,
  type Services,
  type WindowChoice,
} from './connect.js';
import { copyReport, diagnose, registerDoctorDocuments } from './doctor.js';
import { CLI_GROUP_LABEL, isProblem } from './hosts-view.js';
import { importHosts } from './import-hosts.js';
import { setUpServer } from './server-setup.js';
import { failureOf, isCancellation, showError, showFailure } from './log.js';
import { rawHostsSetting, readSettings, updateHostsSetting } from './settings.js';

function hostOf(arg: unknown): Hostname | undefined {
  if (typeof arg === 'string') {
    try {
      return normaliseHostname(arg);
    } catch {
      return undefined;
    }
  }
  // A tree item's entry, or whatever a command was given: its host name parsed again.
  if (arg && typeof arg === 'object' && !isProblem(arg)) return parseHostname((arg as { hostname?: unknown }).hostname);
  return undefined;
}

async function resolveHost(svc: Services, arg: unknown, placeHolder: string): Promise<Hostname | undefined> {
  return hostOf(arg) ?? (await pickHost(svc.registry.hosts, placeHolder));
}

/** Input box for a host name; undefined when cancelled. */
async function askHostname(title: string, initial?: string): Promise<Hostname | undefined> {
  const value = await vscodeWindow.showInputBox({
    title,
    prompt: 'The host name of a Cloudflare Access SSH application',
    placeHolder: 'ssh.example.com',
    ...(initial ? { value: initial } : {}),
    ignoreFocusOut: true,
    validateInput: hostnameProblem,
  });
  return value === undefined ? undefined : normaliseHostname(value);
}

/**
 * Is `host` an Access application, and of which team? Asked of the edge before a
 * host is added (no token, no browser). The team is remembered, so a second host
 * of a signed-in team shows as signed in at once.
 */
async function checkHost(svc: Services, host: Hostname): Promise<AppInfo> {
  const info = await vscodeWindow.withProgress(
    { location: ProgressLocation.Notification, title: `Checking ${host} with Cloudflare Access…` },
    () => svc.access.discover(host),
  );
  await svc.state.rememberTeam(host, info.authDomain);
  svc.log.info(`${host} is an Access application of team ${info.authDomain}`);
  return info;
}

/**
 * Add Host: the name, then the check; a host that is not an Access application
 * is not added (the notification says what was found and offers the next step).
 */
export async function addHost(svc: Services, initial?: string): Promise<Hostname | undefined> {
  const host = await askHostname('Add Access Host', initial);
  if (!host) return undefined;
  try {
    await checkHost(svc, host);
  } catch (err) {
    const action = await showFailure(svc.log, `Cannot add ${host}`, host, err);
    if (action === 'editHost') return await addHost(svc, host);
    if (action === 'retry') return await addHost(svc, host);
    return undefined;
  }
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
    await showError(svc.log, 'Cannot write the SSH config', err);
  }
}

/** Who is signed in for `host`'s team, as a sentence; undefined when nobody is. */
function signedInAs(svc: Services, host: string | undefined): string | undefined {
  const team = signedInTeam(svc.state.teams(), host ? svc.state.teamOf(host) : undefined, host);
  if (!team) return undefined;
  return `You are signed in to Cloudflare Access as ${team.email ?? 'an unknown account'} (${teamPhrase(team.authDomain)}, ${timeLeft(team.exp - Date.now() / 1000)}).`;
}

/**
 * The sign-in as the user meets it, from every entry point (command, row,
 * Accounts menu): the browser login, then a certificate and the entries, then
 * one notification. A failure stays on the host's row and is shown with the
 * one next step. Resolves to the team, undefined when cancelled or failed.
 */
export async function signInFlow(svc: Services, host: Hostname): Promise<string | undefined> {
  let team: string;
  try {
    team = await svc.auth.signIn(host);
  } catch (err) {
    if (isCancellation(err)) return undefined;
    svc.state.setError(host, failureOf(host, err));
    await reportFailure(svc, 'Sign-in failed', host, err);
    return undefined;
  }
  // A certificate right away (no browser: the login just stored the tokens), and the entries with the User.
  await refreshCertificate(svc, host, true).catch((err) =>
    svc.log.warn(`Certificate for ${host} after sign-in: ${failureOf(host, err).detail}`),
  );
  await svc.sync.sync(svc.registry.hosts).catch((err) => svc.log.warn(`SSH config: ${String(err)}`));
  const email = svc.state.teams().find((t) => t.authDomain === team)?.email;
  void vscodeWindow.showInformationMessage(`Signed in as ${email ?? 'an unknown account'} (${teamPhrase(team)}).`);
  return team;
}

/** Edit Host: the name again (label and folder kept); the new name is checked like a new host. */
export async function editHost(svc: Services, host: string): Promise<void> {
  const entry = svc.registry.find(host);
  if (entry?.source === 'repo') {
    void vscodeWindow.showInformationMessage(`${host} comes from this workspace's .vscode/access-hosts.json; edit it there.`);
    return;
  }
  const next = await askHostname('Edit Access Host', host);
  if (!next) return;
  try {
    await checkHost(svc, next);
  } catch (err) {
    const action = await showFailure(svc.log, `Cannot use ${next}`, next, err);
    if (action === 'editHost' || action === 'retry') await editHost(svc, host);
    return;
  }
  if (entry) await updateHostsSetting(renameInSetting(rawHostsSetting(), host, next));
  else await updateHostsSetting(addToSetting(rawHostsSetting(), next));
  svc.state.setError(host, undefined);
  await svc.registry.reload();
  await svc.sync.sync(svc.registry.hosts).catch((err) => svc.log.warn(`SSH config: ${String(err)}`));
  svc.log.info(next === host ? `Checked host ${host}` : `Renamed host ${host} to ${next}`);
  void vscodeWindow.showInformationMessage(next === host ? `${host} is an Access application.` : `${host} is now ${next}.`);
}

/** `accessSsh.removeHost` → `Remove host`, for an error's first words. */
function commandTitle(id: string): string {
  const words = id
    .replace('accessSsh.', '')
    .replace(/([a-z])([A-Z])/g, '$1 $2')
    .toLowerCase();
  return words.charAt(0).toUpperCase() + words.slice(1);
}

export function registerCommands(svc: Services, certDocs: CertificateDocuments): Disposable[] {
  const reg = (id: string, fn: (...args: unknown[]) => unknown): Disposable =>
    vscodeCommands.registerCommand(id, async (...args: unknown[]) => {
      try {
        return await fn(...args);
      } catch (err) {
        await showError(svc.log, `${commandTitle(id)} failed`, err);
        return undefined;
      }
    });

  const connectWith = (window: WindowChoice) => async (arg: unknown) => {
    if (arg === undefined) {
      const items: Array<QuickPickItem & { host?: Hostname; add?: boolean }> = svc.registry.hosts.map((h) => ({
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
      const team = svc.state.teamOf(host);
      const signedIn = svc.state.input(host).appToken || svc.state.input(host).orgToken;
      const found = `Added ${host}, an Access application of ${team ? teamPhrase(team) : 'an unknown team'}.`;
      const next = await vscodeWindow.showInformationMessage(
        signedIn ? found : `${found} Sign in to connect.`,
        signedIn ? 'Connect' : 'Sign In',
      );
      if (next === 'Sign In') await vscodeCommands.executeCommand('accessSsh.signIn', host);
      if (next === 'Connect') await vscodeCommands.executeCommand('accessSsh.connect', host);
    }),
    reg('accessSsh.editHost', async (arg) => {
      const host = await resolveHost(svc, arg, 'Edit which host?');
      if (host) await editHost(svc, host);
    }),
    reg('accessSsh.removeHost', async (arg) => {
      const host = await resolveHost(svc, arg, 'Remove which host?');
      if (!host) return;
      const entry = svc.registry.find(host);
      if (entry?.source === 'repo') {
        void vscodeWindow.showInformationMessage(`${host} comes from this workspace's .vscode/access-hosts.json; remove it there.`);
        return;
      }
      // The command line's hosts are its own: removing one here does what `access-ssh config
      // remove` does, after saying so; a host both list keeps its entries (and its key).
      const cliOnly = !entry && svc.registry.cliHosts.some((h) => h.hostname === host);
      const cliToo = !!entry && svc.registry.managedFrom(host).includes('cli');
      const choice = await vscodeWindow.showWarningMessage(
        cliOnly ? `Remove ${host} from the SSH config?` : `Remove ${host} from your Access hosts?`,
        {
          modal: true,
          detail: cliOnly
            ? `${host} was added from the command line (access-ssh config add). Removing it here takes its SSH entries out, as "access-ssh config remove" does, and deletes its key and certificate in ~/.cloudflared. You stay signed in to its team.`
            : cliToo
              ? `It stays in the SSH config, listed under "${CLI_GROUP_LABEL}": it was also added with access-ssh config add (remove it there with "access-ssh config remove").`
              : `Its SSH entries and its key and certificate in ~/.cloudflared are deleted. You stay signed in to its team.`,
        },
        'Remove',
      );
      if (choice !== 'Remove') return;
      if (cliOnly) await svc.sync.removeCliHost(host);
      else await updateHostsSetting(removeFromSetting(rawHostsSetting(), host));
      const files = cliToo ? 0 : await removeCertificateFiles(svc.state.dir, host);
      svc.state.setError(host, undefined);
      await svc.registry.reload();
      await svc.sync.sync(svc.registry.hosts);
      svc.log.info(
        cliToo
          ? `Removed host ${host} from the settings; access-ssh config still lists it`
          : `Removed host ${host} and ${files} key/certificate file${files === 1 ? '' : 's'}`,
      );
    }),
    reg('accessSsh.addToSettings', async (arg) => {
      const host = hostOf(arg);
      if (!host) return;
      const cli = svc.registry.cliHosts.find((h) => h.hostname === host);
      if (svc.registry.find(host)) return;
      // The CLI's user and FedRAMP choice come along, so the entries stay the same.
      await updateHostsSetting(
        addToSetting(rawHostsSetting(), host, {
          ...(cli?.user !== undefined ? { user: cli.user } : {}),
          ...(cli?.fedramp === true ? { fedramp: true } : {}),
        }),
      );
      await svc.registry.reload();
      await svc.sync.sync(svc.registry.hosts);
      svc.log.info(`Added ${host} (from access-ssh config) to the settings`);
      void vscodeWindow.showInformationMessage(`${host} is now one of your Access hosts in VS Code too.`);
    }),
    reg('accessSsh.signIn', async (arg) => {
      let host = hostOf(arg);
      if (!host) {
        const who = signedInAs(svc, undefined);
        if (who && svc.registry.hosts.every((h) => svc.state.teamOf(h.hostname) !== undefined && signedInAs(svc, h.hostname))) {
          // Everyone of every host's team is signed in: say who, offer a fresh login.
          const again = await vscodeWindow.showInformationMessage(who, 'Sign In Again');
          if (again !== 'Sign In Again') return;
        }
        host = svc.registry.hosts.length === 0 ? await addHost(svc) : await pickSignInHost(svc.registry.hosts, svc.state);
      } else {
        const who = signedInAs(svc, host);
        if (who) {
          const again = await vscodeWindow.showInformationMessage(who, 'Sign In Again');
          if (again !== 'Sign In Again') return;
        }
      }
      if (!host) return;
      await signInFlow(svc, host);
    }),
    reg('accessSsh.copyLoginLink', async () => {
      const pending = svc.auth.pendingLogin();
      if (!pending?.url) {
        void vscodeWindow.showInformationMessage('No sign-in is waiting for the browser.');
        return;
      }
      await env.clipboard.writeText(pending.url);
      svc.log.info(`Copied the login link of the sign-in through ${pending.host}`);
      void vscodeWindow.setStatusBarMessage('$(check) Login link copied: open it in the browser where you sign in.', 5000);
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
          : (
              await vscodeWindow.showQuickPick(
                teams.map((t) => ({ label: t.authDomain, ...(t.email !== undefined ? { description: t.email } : {}), team: t })),
                { placeHolder: 'Sign out of which Access team?' },
              )
            )?.team;
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
      const refresh = async (): Promise<void> => {
        try {
          await ensureSignedIn(svc, host);
          const { cert, renewed } = await refreshCertificate(svc, host);
          await svc.sync.sync(svc.registry.hosts).catch((err) => svc.log.warn(`SSH config: ${String(err)}`));
          const left = countdown(cert.validBefore - Date.now() / 1000);
          void vscodeWindow.showInformationMessage(
            renewed
              ? `New certificate for ${host}, valid for ${left}.`
              : `The certificate for ${host} is still valid for ${left}; it is renewed when less than ${countdown(readSettings().renewalMarginSeconds)} is left.`,
          );
        } catch (err) {
          await reportFailure(svc, `Cannot refresh the certificate for ${host}`, host, err, refresh);
        }
      };
      await refresh();
    }),
    reg('accessSsh.copySshCommand', async (arg) => {
      const host = await resolveHost(svc, arg, 'Copy the SSH command of which host?');
      if (!host) return;
      await svc.sync.sync(svc.registry.hosts);
      const line = commandLine(svc.sync.sshCommand(host));
      await env.clipboard.writeText(line);
      void vscodeWindow.showInformationMessage(`Copied the SSH command: ${line}`);
    }),
    reg('accessSsh.openTerminal', async (arg) => {
      const host = await resolveHost(svc, arg, 'Open SSH to which host?');
      if (host) await openTerminal(svc, host);
    }),
    reg('accessSsh.showCertificate', async (arg) => {
      const host = await resolveHost(svc, arg, 'Show the certificate of which host?');
      if (host) await certDocs.show(host);
    }),
    reg('accessSsh.openSshConfig', async () => {
      const settings = readSettings();
      const items = [
        { label: '$(gear) Your SSH config', description: settings.sshConfigFile, file: settings.sshConfigFile },
        { label: '$(lock) Access SSH entries (managed)', description: svc.sync.ourConfigFile, file: svc.sync.ourConfigFile },
      ];
      const pick = await vscodeWindow.showQuickPick(items, { placeHolder: 'Open which SSH config file?' });
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
    registerDoctorDocuments(),
    reg('accessSsh.importHosts', () => importHosts(svc)),
    reg('accessSsh.setUpServer', () => setUpServer(svc)),
    reg('accessSsh.showLog', () => svc.log.show()),
    reg('accessSsh.refreshView', async () => {
      await Promise.all([svc.registry.reload(), svc.state.reload()]);
    }),
  ];
}
