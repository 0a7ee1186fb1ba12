// The renamed settings (issue 9, finding 8): the keys read right in the Settings
// editor, and the migration of the old keys' values moves each user value once,
// never writes a workspace's settings, and loses nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/root';
import { planSettingsMigration, RENAMED_SETTINGS, type ScopedValues, type SettingWrite } from '../../../src/hosts/settings-migration.js';

interface Prop {
  type?: string;
  scope?: string;
  deprecationMessage?: string;
  markdownDeprecationMessage?: string;
}
const props = (
  JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { contributes: { configuration: { properties: Record<string, Prop> } } }
).contributes.configuration.properties;

/** A user's settings as VS Code's inspect() reports them, with writes applied to the global scope. */
function store(initial: Record<string, ScopedValues>): {
  inspect: (k: string) => ScopedValues | undefined;
  apply: (w: readonly SettingWrite[]) => void;
  global: () => Record<string, unknown>;
} {
  const s = new Map(Object.entries(initial).map(([k, v]) => [k, { ...v }]));
  return {
    inspect: (k) => s.get(k),
    apply: (writes) => {
      for (const w of writes) s.set(w.key, { ...s.get(w.key), globalValue: w.value });
    },
    global: () => Object.fromEntries([...s].filter(([, v]) => v.globalValue !== undefined).map(([k, v]) => [k, v.globalValue])),
  };
}

test('a user value of an old key moves to the new key, and the old key is removed', () => {
  const hosts = ['ssh.example.com', { hostname: 'build.example.com', user: 'deploy' }];
  const st = store({ 'accessSsh.hosts': { globalValue: hosts }, 'accessSsh.extraCaFile': { globalValue: '~/ca.pem' } });
  const steps = planSettingsMigration(st.inspect);
  assert.deepEqual(
    steps.map((s) => s.log),
    ['Moved the user setting accessSsh.hosts to accessSSH.hosts', 'Moved the user setting accessSsh.extraCaFile to accessSSH.extraCAFile'],
  );
  // The new key is written before the old one goes (a failed write loses nothing).
  assert.deepEqual(steps[0]!.writes, [
    { key: 'accessSSH.hosts', value: hosts },
    { key: 'accessSsh.hosts', value: undefined },
  ]);
  for (const s of steps) st.apply(s.writes);
  assert.deepEqual(st.global(), { 'accessSSH.hosts': hosts, 'accessSSH.extraCAFile': '~/ca.pem' });
  // Once: planning again finds nothing to do.
  assert.deepEqual(planSettingsMigration(st.inspect), []);
});

test('falsy values move too (false, 0, an empty list)', () => {
  const st = store({
    'accessSsh.useCloudflared': { globalValue: false },
    'accessSsh.renewalMarginSeconds': { globalValue: 0 },
    'accessSsh.hosts': { globalValue: [] },
  });
  for (const s of planSettingsMigration(st.inspect)) st.apply(s.writes);
  assert.deepEqual(st.global(), { 'accessSSH.useCloudflared': false, 'accessSSH.renewalMarginSeconds': 0, 'accessSSH.hosts': [] });
});

test('both keys set: the same value drops the old key; different values keep both (the new one is used), nothing lost', () => {
  const st = store({
    'accessSsh.loginTimeoutSeconds': { globalValue: 30 },
    'accessSSH.loginTimeoutSeconds': { globalValue: 30 },
    'accessSsh.cloudflaredPath': { globalValue: '/opt/cf' },
    'accessSSH.cloudflaredPath': { globalValue: '/usr/bin/cloudflared' },
  });
  const steps = planSettingsMigration(st.inspect);
  assert.deepEqual(
    steps.map((s) => [s.log, s.writes]),
    [
      [
        'Removed the user setting accessSsh.loginTimeoutSeconds: accessSSH.loginTimeoutSeconds has the same value',
        [{ key: 'accessSsh.loginTimeoutSeconds', value: undefined }],
      ],
      ['Left the user setting accessSsh.cloudflaredPath as it is: accessSSH.cloudflaredPath is set too and is the one used', []],
    ],
  );
  for (const s of steps) st.apply(s.writes);
  assert.deepEqual(st.global(), {
    'accessSSH.loginTimeoutSeconds': 30,
    'accessSsh.cloudflaredPath': '/opt/cf',
    'accessSSH.cloudflaredPath': '/usr/bin/cloudflared',
  });
});

test("a workspace's value of an old key is never written anywhere, only logged", () => {
  const st = store({
    'accessSsh.cloudflaredPath': { workspaceValue: '/tmp/evil' },
    'accessSsh.extraCaFile': { workspaceFolderValue: '/tmp/evil-ca.pem', globalValue: '/home/u/ca.pem' },
  });
  const steps = planSettingsMigration(st.inspect);
  const writes = steps.flatMap((s) => s.writes);
  assert.ok(!writes.some((w) => w.value === '/tmp/evil' || w.value === '/tmp/evil-ca.pem'), JSON.stringify(writes));
  // The user's own value still moves; the workspace's is named in the log.
  assert.deepEqual(writes, [
    { key: 'accessSSH.extraCAFile', value: '/home/u/ca.pem' },
    { key: 'accessSsh.extraCaFile', value: undefined },
  ]);
  assert.deepEqual(
    steps.map((s) => s.log).filter((l) => /workspace/.test(l)),
    [
      "Ignored accessSsh.extraCaFile in this workspace's settings: accessSSH.extraCAFile is read from user settings only",
      "Ignored accessSsh.cloudflaredPath in this workspace's settings: accessSSH.cloudflaredPath is read from user settings only",
    ],
  );
});

test('nothing set: no steps', () => {
  assert.deepEqual(
    planSettingsMigration(() => undefined),
    [],
  );
  assert.deepEqual(
    planSettingsMigration(() => ({})),
    [],
  );
});

test('the manifest: each new key declared application/machine, each old key declared the same way and marked renamed (hidden unless set)', () => {
  for (const { from, to } of RENAMED_SETTINGS) {
    const n = props[to];
    const o = props[from];
    assert.ok(n, `${to} is declared`);
    assert.ok(o, `${from} stays declared (so that its value can be removed from settings.json)`);
    assert.ok(n.scope === 'application' || n.scope === 'machine', `${to}: ${String(n.scope)}`);
    assert.equal(o.scope, n.scope, `${from} keeps the scope of ${to}: the removal goes to the file the value is in`);
    assert.equal(o.type, n.type);
    assert.equal(n.deprecationMessage, undefined);
    assert.match(o.markdownDeprecationMessage ?? '', new RegExp(`Renamed to \`#${to.replace('.', '\\.')}#\``));
    assert.ok(o.deprecationMessage, `${from} has a plain deprecation message too`);
  }
  const declared = Object.keys(props).filter((k) => props[k]!.deprecationMessage === undefined);
  assert.deepEqual(
    declared.sort(),
    RENAMED_SETTINGS.map((r) => r.to).sort(),
    'every current setting is a renamed one (the list is complete)',
  );
});

/**
 * How VS Code 1.139 labels a setting from its key (settingKeyToDisplayFormat /
 * wordifyKey in the workbench's settingsTreeModels; its acronym list has no SSH or
 * CA). The UI suite checks the real Settings editor; this catches a bad key early.
 */
function vscodeLabel(key: string): string {
  const wordify = (s: string): string =>
    s
      .replace(/\.([a-z0-9])/g, (_m, p: string) => ` \u203A ${p.toUpperCase()}`)
      .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
      .replace(/([A-Z]{1,})([A-Z][a-z])/g, '$1 $2')
      .replace(/^[a-z]/g, (m) => m.toUpperCase());
  const dot = key.lastIndexOf('.');
  return `${wordify(key.slice(0, dot))}: ${wordify(key.slice(dot + 1))}`;
}

test('the new keys read right as VS Code renders them; the old ones did not', () => {
  assert.deepEqual(
    RENAMED_SETTINGS.map((r) => vscodeLabel(r.to)),
    [
      'Access SSH: Hosts',
      'Access SSH: Config File',
      'Access SSH: Renewal Margin Seconds',
      'Access SSH: Login Timeout Seconds',
      'Access SSH: Extra CA File',
      'Access SSH: Use Cloudflared',
      'Access SSH: Cloudflared Path',
    ],
  );
  assert.equal(vscodeLabel('accessSsh.extraCaFile'), 'Access Ssh: Extra Ca File');
});
