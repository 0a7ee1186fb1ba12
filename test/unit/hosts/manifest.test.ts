// The extension manifest (package.json `contributes`): ids the UI tests and users
// rely on stay stable; nothing a workspace can set reaches a command line or a
// path; every command the code registers is declared and vice versa.
import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/root';

interface Command {
  command: string;
  title: string;
  category?: string;
  icon?: string;
}
interface Manifest {
  extensionKind: string[];
  activationEvents: string[];
  extensionPack?: string[];
  extensionDependencies?: string[];
  capabilities: { untrustedWorkspaces: { supported: boolean | string; description?: string } };
  contributes: {
    commands: Command[];
    configuration: { properties: Record<string, { scope?: string; type: string; deprecationMessage?: string }> };
    authentication: Array<{ id: string; label: string }>;
    viewsContainers: { activitybar: Array<{ id: string; icon: string }> };
    views: Record<string, Array<{ id: string; name: string }>>;
    viewsWelcome: Array<{ view: string; contents: string; when?: string }>;
    menus: Record<string, Array<{ command: string; when?: string }>>;
    walkthroughs: Array<{ id: string; steps: Array<{ media: { markdown?: string } }> }>;
  };
  icon?: string;
}

const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;
const c = pkg.contributes;

test('every setting is application or machine scoped (a repository must not inject a ProxyCommand)', () => {
  const props = Object.entries(c.configuration.properties);
  assert.ok(props.length >= 7);
  for (const [key, prop] of props) {
    // accessSSH.* (accessSsh.*: the old names, declared only to be migrated; see settings-migration.test.ts).
    assert.ok(key.startsWith('accessSSH.') || (key.startsWith('accessSsh.') && prop.deprecationMessage), key);
    assert.ok(prop.scope === 'application' || prop.scope === 'machine', `${key} has scope ${String(prop.scope)}`);
  }
  // The ones that reach a command line or a path are machine or application, by name.
  for (const key of ['hosts', 'configFile', 'extraCAFile', 'useCloudflared', 'cloudflaredPath']) {
    assert.ok(c.configuration.properties[`accessSSH.${key}`], `accessSSH.${key} declared`);
  }
  // Test-only routing: read from user settings only (settings.ts), never shown in the Settings editor.
  assert.equal(c.configuration.properties['accessSSH.connectTo'], undefined);
});

test('stable ids: view container, view, auth provider, commands under "Access"', () => {
  assert.deepEqual(pkg.extensionKind, ['ui']);
  assert.equal(c.viewsContainers.activitybar[0]!.id, 'accessSsh');
  assert.ok(existsSync(join(ROOT, c.viewsContainers.activitybar[0]!.icon)));
  assert.equal(c.views['accessSsh']![0]!.id, 'accessSsh.hosts');
  // The container is "Access SSH" and its one view "Hosts": the header reads "ACCESS SSH: HOSTS".
  assert.equal(c.views['accessSsh']![0]!.name, 'Hosts');
  assert.deepEqual(c.authentication, [{ id: 'cloudflare-access', label: 'Cloudflare Access' }]);
  const titles = new Map(c.commands.map((x) => [x.command, x.title]));
  for (const [id, title] of [
    ['accessSsh.addHost', 'Add Host...'],
    ['accessSsh.signIn', 'Sign In'],
    ['accessSsh.signOut', 'Sign Out'],
    ['accessSsh.connect', 'Connect via Access'],
    ['accessSsh.openTerminal', 'Open in Terminal'],
    ['accessSsh.copySshCommand', 'Copy SSH Command'],
    ['accessSsh.openSshConfig', 'Open SSH Config'],
    ['accessSsh.editHost', 'Edit Host...'],
    ['accessSsh.copyLoginLink', 'Copy Login Link'],
  ])
    assert.equal(titles.get(id!), title);
  for (const cmd of c.commands) {
    assert.equal(cmd.category, 'Access', cmd.command);
    assert.match(cmd.icon ?? '', /^\$\([a-z-]+\)$/, cmd.command);
  }
});

test('lazy activation only, Remote-SSH as an extension pack', () => {
  assert.ok(!pkg.activationEvents.includes('*'));
  assert.ok(!pkg.activationEvents.includes('onStartupFinished'));
  for (const e of ['onView:accessSsh.hosts', 'onAuthenticationRequest:cloudflare-access', 'onUri', 'onResolveRemoteAuthority:ssh-remote']) {
    assert.ok(pkg.activationEvents.includes(e), e);
  }
  assert.deepEqual(pkg.extensionPack, ['ms-vscode-remote.remote-ssh']);
  assert.equal(pkg.extensionDependencies, undefined);
  assert.equal(pkg.capabilities.untrustedWorkspaces.supported, 'limited');
  assert.ok(pkg.capabilities.untrustedWorkspaces.description);
});

test('menus and welcome links name declared commands', () => {
  const declared = new Set(c.commands.map((x) => x.command));
  for (const [menu, items] of Object.entries(c.menus)) {
    for (const item of items) assert.ok(declared.has(item.command), `${menu}: ${item.command}`);
  }
  for (const w of c.viewsWelcome) {
    assert.equal(w.view, 'accessSsh.hosts');
    for (const m of w.contents.matchAll(/command:(accessSsh\.[A-Za-z]+)/g)) assert.ok(declared.has(m[1]!), m[1]);
  }
});

test('the code registers exactly the declared commands', () => {
  const src = readFileSync(join(ROOT, 'src', 'vscode', 'commands.ts'), 'utf8');
  const registered = new Set([...src.matchAll(/reg\('(accessSsh\.[A-Za-z]+)'/g)].map((m) => m[1]!));
  const declared = new Set(c.commands.map((x) => x.command));
  assert.deepEqual([...registered].sort(), [...declared].sort());
});

test('walkthrough pages and the icon exist', () => {
  for (const w of c.walkthroughs)
    for (const s of w.steps) if (s.media.markdown) assert.ok(existsSync(join(ROOT, s.media.markdown)), s.media.markdown);
  assert.ok(pkg.icon && existsSync(join(ROOT, pkg.icon)));
  const server = readFileSync(join(ROOT, 'media', 'walkthrough', 'server-setup.md'), 'utf8');
  assert.match(server, /TrustedUserCAKeys \/etc\/ssh\/ca\.pub/);
  assert.match(server, /PubkeyAuthentication yes/);
});
