// The extension's settings, read in one place. Everything that reaches a
// command line or a path is application or machine scoped in package.json, so a
// workspace's settings cannot change it; this module reads only the global
// (user) value of those as a second line of defence.

import { homedir } from 'node:os';
import { join } from 'node:path';
import { ConfigurationTarget, Uri, type WorkspaceConfiguration, workspace as vscodeWorkspace } from 'vscode';
import { collectHosts, parseRepoHostsFile, REPO_HOSTS_FILE, type HostList } from '../hosts/hosts.js';
import { planSettingsMigration } from '../hosts/settings-migration.js';

export const SECTION = 'accessSSH';

function cfg(): WorkspaceConfiguration {
  return vscodeWorkspace.getConfiguration(SECTION);
}

/**
 * The value from user or remote-machine settings, never a workspace's. VS Code
 * already drops workspace values of application/machine scoped settings (and
 * `get` includes the remote machine's settings, which `inspect().globalValue`
 * does not); refusing a workspace value here is a second line of defence.
 */
function globalValue<T>(key: string, fallback: T): T {
  const c = cfg();
  const inspected = c.inspect<T>(key);
  if (inspected && (inspected.workspaceValue !== undefined || inspected.workspaceFolderValue !== undefined)) {
    const fromUser = inspected.globalValue;
    return fromUser ?? inspected.defaultValue ?? fallback;
  }
  return c.get<T>(key) ?? fallback;
}

function expandHome(p: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/') || p.startsWith('~\\')) return join(homedir(), p.slice(2));
  return p;
}

export interface Settings {
  readonly renewalMarginSeconds: number;
  readonly loginTimeoutSeconds: number;
  readonly connectTo: string;
  readonly extraCaFile: string;
  readonly useCloudflared: boolean;
  readonly cloudflaredPath: string;
  /** The ssh config Remote-SSH reads (ours gets an Include at its top). */
  readonly sshConfigFile: string;
  /** VS Code's `http.proxy` / `http.noProxy` from user settings (proxySupport "off": none). */
  readonly proxy: string;
  readonly noProxy: readonly string[];
}

export function readSettings(): Settings {
  const margin = Number(globalValue('renewalMarginSeconds', 60));
  // 600 s: as long as cloudflared waits for a browser login (10 polls of up to 60 s).
  const timeout = Number(globalValue('loginTimeoutSeconds', 600));
  return {
    renewalMarginSeconds: Number.isFinite(margin) ? Math.min(Math.max(margin, 0), 3600) : 60,
    loginTimeoutSeconds: Number.isFinite(timeout) ? Math.min(Math.max(timeout, 10), 3600) : 600,
    connectTo: String(globalValue('connectTo', '')).trim(),
    extraCaFile: expandHome(String(globalValue('extraCAFile', '')).trim()),
    useCloudflared: globalValue<boolean>('useCloudflared', false) === true,
    cloudflaredPath: expandHome(String(globalValue('cloudflaredPath', 'cloudflared')).trim() || 'cloudflared'),
    sshConfigFile: sshConfigFile(),
    ...editorProxy(),
  };
}

/**
 * The editor's proxy, from user settings only: `http.proxy` and `http.noProxy`
 * (a workspace could otherwise send the user's tokens through a proxy of its
 * choosing). `http.proxySupport: "off"` (no proxy for extensions) leaves both
 * out. `http.proxyStrictSSL` is not used: the Access edge's certificate is
 * always verified (a TLS-inspecting proxy's CA goes in accessSSH.extraCAFile).
 */
export function editorProxy(): { proxy: string; noProxy: string[] } {
  const http = vscodeWorkspace.getConfiguration('http');
  const support = http.inspect<string>('proxySupport')?.globalValue;
  if (support === 'off') return { proxy: '', noProxy: [] };
  const proxy = http.inspect<string>('proxy')?.globalValue;
  const noProxy = http.inspect<unknown>('noProxy')?.globalValue;
  return {
    proxy: typeof proxy === 'string' ? proxy.trim() : '',
    noProxy: Array.isArray(noProxy)
      ? noProxy.filter((v): v is string => typeof v === 'string' && v.trim() !== '').map((v) => v.trim())
      : [],
  };
}

/** The proxy variables of the editor's own environment (what ssh, started by the editor, passes on to the helper). */
const PROXY_ENV = ['HTTPS_PROXY', 'https_proxy', 'ALL_PROXY', 'all_proxy', 'NO_PROXY', 'no_proxy'] as const;

/**
 * The environment of the in-process client: the proxy variables the helper
 * would inherit, overlaid with what the launcher sets. Same rule in and out of
 * process.
 */
export function inProcessEnv(s: Settings, processEnv: NodeJS.ProcessEnv = process.env): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of PROXY_ENV) {
    const v = processEnv[name];
    if (v) env[name] = v;
  }
  return { ...env, ...helperEnv(s) };
}

/** `accessSSH.configFile`, else `remote.SSH.configFile`, else `~/.ssh/config`. */
export function sshConfigFile(): string {
  const ours = String(globalValue('configFile', '')).trim();
  if (ours) return expandHome(ours);
  const remote = vscodeWorkspace.getConfiguration('remote.SSH');
  const inspected = remote.inspect<string>('configFile');
  const theirs = String(
    (inspected?.workspaceValue ?? inspected?.workspaceFolderValue) !== undefined
      ? (inspected?.globalValue ?? '')
      : (remote.get<string>('configFile') ?? ''),
  ).trim();
  if (theirs) return expandHome(theirs);
  return join(homedir(), '.ssh', 'config');
}

/** The environment the helper needs for this configuration (launcher and in-process client alike). */
export function helperEnv(s: Settings): Record<string, string> {
  const env: Record<string, string> = {};
  if (s.connectTo) env['ACCESS_SSH_CONNECT_TO'] = s.connectTo;
  if (s.extraCaFile) env['NODE_EXTRA_CA_CERTS'] = s.extraCaFile;
  // In the launcher (mode 0700), never on a command line: the URL may hold credentials.
  if (s.proxy) env['HTTPS_PROXY'] = s.proxy;
  if (s.noProxy.length > 0) env['NO_PROXY'] = s.noProxy.join(',');
  return env;
}

/** The repository's hosts, each entry validated (collectHosts calls this only in a trusted workspace). */
async function repoHostLists(): Promise<HostList[]> {
  if (!vscodeWorkspace.isTrusted) return [];
  const folders = vscodeWorkspace.workspaceFolders ?? [];
  const lists: HostList[] = [];
  for (const folder of folders) {
    const uri = Uri.joinPath(folder.uri, REPO_HOSTS_FILE);
    let bytes: Uint8Array;
    try {
      bytes = await vscodeWorkspace.fs.readFile(uri);
    } catch {
      continue;
    }
    if (bytes.byteLength > 256 * 1024) {
      lists.push({
        hosts: [],
        problems: [{ source: 'repo', index: -1, value: REPO_HOSTS_FILE, message: 'file larger than 256 KiB, ignored' }],
      });
      continue;
    }
    lists.push(parseRepoHostsFile(new TextDecoder().decode(bytes)));
  }
  return lists;
}

export async function allHosts(): Promise<HostList> {
  return collectHosts({ settings: globalValue<unknown>('hosts', []), trusted: vscodeWorkspace.isTrusted, readRepoLists: repoHostLists });
}

export async function updateHostsSetting(value: unknown[]): Promise<void> {
  await cfg().update('hosts', value, ConfigurationTarget.Global);
}

export function rawHostsSetting(): unknown {
  return globalValue<unknown>('hosts', []);
}

/**
 * Moves the values of the renamed settings (`accessSsh.*` to `accessSSH.*`, see
 * src/hosts/settings-migration.ts) in the user's settings, once per value: the new
 * key is written, then the old one removed; a workspace's settings are never
 * written. VS Code puts each write where its scope says (a machine setting of a
 * remote window in the remote's settings). One log line per key.
 */
export async function migrateRenamedSettings(log: { info(m: string): void; warn(m: string): void }): Promise<void> {
  const inspect = (key: string): ReturnType<WorkspaceConfiguration['inspect']> => vscodeWorkspace.getConfiguration().inspect(key);
  for (const step of planSettingsMigration(inspect)) {
    try {
      for (const w of step.writes) {
        await vscodeWorkspace.getConfiguration().update(w.key, w.value, ConfigurationTarget.Global);
        // A removal goes to one settings file; in a remote window the key may be in both the
        // local and the remote user settings (VS Code then removes the remote one first).
        for (let again = 0; w.value === undefined && again < 2 && inspect(w.key)?.globalValue !== undefined; again++) {
          await vscodeWorkspace.getConfiguration().update(w.key, undefined, ConfigurationTarget.Global);
        }
      }
      log.info(step.log);
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err);
      log.warn(`Could not move the user setting ${step.from} to ${step.to} (${why}): set ${step.to} in your user settings.`);
    }
  }
}
