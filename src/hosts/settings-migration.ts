// The settings renamed so that the Settings editor reads right. VS Code derives a
// setting's label from its key (`accessSsh.extraCaFile` rendered as "Access Ssh:
// Extra Ca File"; an extension cannot give a setting a title), so the keys now
// spell the acronyms: `accessSSH.extraCAFile` reads "Access SSH: Extra CA File".
// On activation, values of the old keys move to the new ones: this module is the
// policy (pure), src/vscode/settings.ts applies it.

export interface RenamedSetting {
  readonly from: string;
  readonly to: string;
}

export const RENAMED_SETTINGS: readonly RenamedSetting[] = [
  { from: 'accessSsh.hosts', to: 'accessSSH.hosts' },
  { from: 'accessSsh.sshConfigFile', to: 'accessSSH.configFile' },
  { from: 'accessSsh.renewalMarginSeconds', to: 'accessSSH.renewalMarginSeconds' },
  { from: 'accessSsh.loginTimeoutSeconds', to: 'accessSSH.loginTimeoutSeconds' },
  { from: 'accessSsh.extraCaFile', to: 'accessSSH.extraCAFile' },
  { from: 'accessSsh.useCloudflared', to: 'accessSSH.useCloudflared' },
  { from: 'accessSsh.cloudflaredPath', to: 'accessSSH.cloudflaredPath' },
];

/** What `WorkspaceConfiguration.inspect` says of one key (the scopes the migration looks at). */
export interface ScopedValues {
  readonly globalValue?: unknown;
  readonly workspaceValue?: unknown;
  readonly workspaceFolderValue?: unknown;
}

/** One change to the user (global) settings. `value: undefined` removes the key. */
export interface SettingWrite {
  readonly key: string;
  readonly value: unknown;
}

/** What to do for one renamed key: its writes in order (the new key before the old one goes), and the log line. */
export interface MigrationStep extends RenamedSetting {
  readonly writes: readonly SettingWrite[];
  readonly log: string;
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

/**
 * The moves for the keys as they are set now. Every renamed setting is
 * application or machine scoped, so only the user's (global) value counts:
 * - old set, new not: the value moves to the new key, the old key is removed;
 * - both set to the same value: the old key is removed;
 * - both set to different values: the new key wins and the old one is left as
 *   it is (nothing lost; the Settings editor shows it as renamed), logged;
 * - an old key in a workspace's settings is never copied into a workspace (VS
 *   Code ignores application/machine settings there, and a repository must not
 *   set them): it is logged and left alone.
 * Applying the steps and planning again gives no writes: each value moves once.
 */
export function planSettingsMigration(
  inspect: (key: string) => ScopedValues | undefined,
  renamed: readonly RenamedSetting[] = RENAMED_SETTINGS,
): MigrationStep[] {
  const steps: MigrationStep[] = [];
  for (const { from, to } of renamed) {
    const old = inspect(from);
    const now = inspect(to);
    if (old?.globalValue !== undefined) {
      if (now?.globalValue === undefined) {
        steps.push({
          from,
          to,
          writes: [
            { key: to, value: old.globalValue },
            { key: from, value: undefined },
          ],
          log: `Moved the user setting ${from} to ${to}`,
        });
      } else if (same(now.globalValue, old.globalValue)) {
        steps.push({
          from,
          to,
          writes: [{ key: from, value: undefined }],
          log: `Removed the user setting ${from}: ${to} has the same value`,
        });
      } else {
        steps.push({ from, to, writes: [], log: `Left the user setting ${from} as it is: ${to} is set too and is the one used` });
      }
    }
    if (old?.workspaceValue !== undefined || old?.workspaceFolderValue !== undefined) {
      steps.push({ from, to, writes: [], log: `Ignored ${from} in this workspace's settings: ${to} is read from user settings only` });
    }
  }
  return steps;
}
