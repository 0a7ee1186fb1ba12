// "Access: Import Hosts from SSH Config…" and its offer on first run: hosts the
// user already set up for cloudflared (src/ssh/import.ts finds them, following
// Include) become Access hosts. The user's lines are only read; our Include at
// the top of the file makes the Access entries the ones in force for them.

import { userInfo } from 'node:os';
import { join, resolve } from 'node:path';
import { type ExtensionContext, type QuickPickItem, commands as vscodeCommands, window as vscodeWindow } from 'vscode';
import { addToSetting } from '../hosts/hosts.js';
import { nodeScanIo, scanForCloudflaredHosts, type ImportCandidate } from '../ssh/import.js';
import { readManagedHosts } from '../ssh/managed-hosts.js';
import type { Services } from './connect.js';
import { describe } from './log.js';
import { rawHostsSetting, readSettings, updateHostsSetting } from './settings.js';

/** globalState key: the first-run offer was made (once per installation). */
const IMPORT_OFFERED_KEY = 'accessSsh.importOffered';

function passwdHome(): string | undefined {
  try {
    return userInfo().homedir || undefined;
  } catch {
    return undefined;
  }
}

/** The ssh configs to look in: the one we include into, and the one plain ssh reads. */
function configsToScan(): string[] {
  const files = [resolve(readSettings().sshConfigFile)];
  const home = passwdHome();
  if (home) {
    const plain = join(home, '.ssh', 'config');
    if (!files.includes(plain)) files.push(plain);
  }
  return files;
}

/** Hosts set up for cloudflared that are not Access hosts yet. */
async function findImportable(svc: Services): Promise<{ hosts: ImportCandidate[]; files: string[]; skipped: number }> {
  const known = new Set(svc.registry.hosts.map((h) => h.hostname));
  try {
    for (const h of await readManagedHosts(svc.sync.ourConfigFile)) known.add(h.hostname);
  } catch (err) {
    svc.log.warn(`Reading ${svc.sync.ourConfigFile}: ${describe(err).message}`);
  }
  const hosts = new Map<string, ImportCandidate>();
  const files: string[] = [];
  let skipped = 0;
  for (const file of configsToScan()) {
    const scan = await scanForCloudflaredHosts(file, nodeScanIo(passwdHome()));
    files.push(...scan.files.filter((f) => !files.includes(f)));
    skipped += scan.skipped.length;
    for (const e of scan.errors) svc.log.warn(`Import: cannot read ${e.file}${e.line ? ` (Include on line ${e.line})` : ''}: ${e.message}`);
    for (const s of scan.skipped) svc.log.info(`Import: ${s.file}:${s.line} ${s.text}: ${s.reason}`);
    for (const h of scan.hosts) if (!known.has(h.hostname) && !hosts.has(h.hostname)) hosts.set(h.hostname, h);
  }
  return { hosts: [...hosts.values()], files, skipped };
}

function where(h: ImportCandidate): string {
  const f = h.found[0]!;
  const by = f.by === 'proxycommand' ? 'ProxyCommand cloudflared' : f.by === 'cfpipe' ? 'cfpipe- alias' : 'Match exec cloudflared ssh-gen';
  return `${by}, ${f.file}:${f.line}${f.alias ? ` (Host ${f.alias})` : ''}`;
}

/** The command: pick among the hosts found, add them to `accessSSH.hosts`, write the entries. */
export async function importHosts(svc: Services): Promise<number> {
  const found = await findImportable(svc);
  if (found.hosts.length === 0) {
    void vscodeWindow.showInformationMessage(
      `No hosts set up for cloudflared were found in ${found.files.length > 0 ? found.files.join(', ') : 'your ssh config'} that are not Access hosts already.` +
        (found.skipped > 0 ? ` ${found.skipped} line(s) use cloudflared for a wildcard pattern or a service token; see the log.` : ''),
    );
    return 0;
  }
  const items: Array<QuickPickItem & { host: string; fedramp?: boolean }> = found.hosts.map((h) => ({
    label: `$(server) ${h.hostname}`,
    description: [h.user ? `user ${h.user}` : '', h.fedramp ? 'FedRAMP' : ''].filter(Boolean).join(' · '),
    detail: where(h),
    picked: true,
    host: h.hostname,
    ...(h.fedramp === true ? { fedramp: true } : {}),
  }));
  const picked = await vscodeWindow.showQuickPick(items, {
    title: 'Import Hosts from SSH Config',
    placeHolder: 'Hosts set up for cloudflared: add the checked ones as Access hosts (your ssh config is not changed)',
    canPickMany: true,
    matchOnDetail: true,
    ignoreFocusOut: true,
  });
  if (!picked || picked.length === 0) return 0;
  let value: unknown[] = Array.isArray(rawHostsSetting()) ? [...(rawHostsSetting() as unknown[])] : [];
  for (const p of picked) {
    const before = value.length;
    value = addToSetting(value, p.host);
    // A host set up with `cloudflared access --fedramp`: keep it a FedRAMP host.
    if (p.fedramp === true && value.length > before) value[value.length - 1] = { hostname: p.host, fedramp: true };
  }
  await updateHostsSetting(value);
  await svc.registry.reload();
  await svc.sync.sync(svc.registry.hosts);
  const names = picked.map((p) => p.host);
  svc.log.info(`Imported ${names.length} host(s) from the ssh config: ${names.join(', ')}`);
  const next = await vscodeWindow.showInformationMessage(
    `Added ${names.length === 1 ? names[0] : `${names.length} hosts`} as Access host${names.length === 1 ? '' : 's'}. Your ssh config's own lines are unchanged; the Access entries, included at its top, now come first for ${names.length === 1 ? 'it' : 'them'}.`,
    'Sign In',
  );
  if (next === 'Sign In') await vscodeCommands.executeCommand('accessSsh.signIn', names[0]);
  return names.length;
}

/** Once per installation, after activation: offer the import when there is something to import. */
export async function offerImportOnFirstRun(svc: Services, context: ExtensionContext): Promise<void> {
  if (context.globalState.get<boolean>(IMPORT_OFFERED_KEY) === true) return;
  let found;
  try {
    found = await findImportable(svc);
  } catch (err) {
    svc.log.warn(`Looking for cloudflared hosts to import: ${describe(err).message}`);
    return;
  }
  if (found.hosts.length === 0) return;
  await context.globalState.update(IMPORT_OFFERED_KEY, true);
  const names = found.hosts.map((h) => h.hostname);
  const shown = names.length <= 3 ? names.join(', ') : `${names.slice(0, 3).join(', ')} and ${names.length - 3} more`;
  const choice = await vscodeWindow.showInformationMessage(
    `Your ssh config has ${names.length} host${names.length === 1 ? '' : 's'} set up for cloudflared (${shown}). Add ${names.length === 1 ? 'it' : 'them'} as Access hosts?`,
    'Import…',
    'Not Now',
  );
  if (choice === 'Import…') await vscodeCommands.executeCommand('accessSsh.importHosts');
}
