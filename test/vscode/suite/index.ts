// The suite that runs INSIDE a real VS Code extension host (launched by
// `npm run test:vscode` through @vscode/test-electron where a desktop VS Code can
// be had; extensionTestsPath = out/test/vscode/suite/index.js). It checks what only
// the real API can: activation, registered commands, the auth provider, the view,
// setting scopes as VS Code itself reads them. No network, no login. It runs with a
// folder open (scripts/test-vscode.mjs), so that workspace-scope writes can be tried.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';
import type { AccessSshApi } from '../../../src/vscode/extension.js';

const EXTENSION_ID = 'access-ssh.access-ssh';

interface Case {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const cases: Case[] = [];
function test(name: string, run: () => Promise<void>): void {
  cases.push({ name, run });
}

async function extension(): Promise<vscode.Extension<AccessSshApi>> {
  const ext = vscode.extensions.getExtension<AccessSshApi>(EXTENSION_ID);
  assert.ok(ext, `${EXTENSION_ID} is installed`);
  if (!ext.isActive) await ext.activate();
  return ext;
}

test('the extension activates, as a UI extension', async () => {
  const ext = await extension();
  assert.equal(ext.isActive, true);
  assert.equal(ext.extensionKind, vscode.ExtensionKind.UI);
});

test('every declared command is registered', async () => {
  const ext = await extension();
  const manifest = ext.packageJSON as { contributes: { commands: Array<{ command: string }> } };
  const declared = manifest.contributes.commands.map((c) => c.command);
  const all = new Set(await vscode.commands.getCommands(true));
  for (const id of declared) assert.ok(all.has(id), `${id} registered`);
});

test('the cloudflare-access authentication provider answers (silently, no login)', async () => {
  await extension();
  // Without createIfNone this never prompts; it throws if no provider is registered.
  const session = await vscode.authentication.getSession('cloudflare-access', ['example.cloudflareaccess.com'], { silent: true });
  assert.ok(session === undefined || session.id === 'example.cloudflareaccess.com');
});

test('the Access hosts view is contributed and opens', async () => {
  await extension();
  const all = new Set(await vscode.commands.getCommands(true));
  // VS Code makes a focus command for every registered view and container.
  assert.ok(all.has('accessSsh.hosts.focus'), 'the accessSsh.hosts view exists');
  assert.ok(all.has('workbench.view.extension.accessSsh'), 'the Access container exists');
  await vscode.commands.executeCommand('workbench.view.extension.accessSsh');
  await vscode.commands.executeCommand('accessSsh.hosts.focus');
});

test('Refresh reads a host added to user settings; Show Log shows the "Access SSH" channel', async () => {
  const { services } = (await extension()).exports;
  const cfg = vscode.workspace.getConfiguration('accessSSH');
  const before = cfg.inspect('hosts')?.globalValue;
  try {
    await cfg.update('hosts', ['ssh.example.com'], vscode.ConfigurationTarget.Global);
    await vscode.commands.executeCommand('accessSsh.refreshView');
    assert.deepEqual(
      services.registry.hosts.map((h) => h.hostname),
      ['ssh.example.com'],
    );
  } finally {
    await cfg.update('hosts', before, vscode.ConfigurationTarget.Global);
  }
  await vscode.commands.executeCommand('accessSsh.showLog');
  assert.equal(services.log.channel.name, 'Access SSH');
});

test('settings that reach a command line or a path ignore workspace values', async () => {
  await extension();
  const cfg = vscode.workspace.getConfiguration('accessSSH');
  for (const key of ['hosts', 'configFile', 'extraCAFile', 'useCloudflared', 'cloudflaredPath']) {
    const inspected = cfg.inspect(key);
    assert.ok(inspected, `accessSSH.${key} is declared`);
  }
  const folders = vscode.workspace.workspaceFolders;
  assert.ok(folders && folders.length > 0, 'the suite runs with a folder open (scripts/test-vscode.mjs)');
  // VS Code refuses to write an application/machine setting to the workspace.
  const attempts: [string, unknown][] = [
    ['hosts', ['evil.example.com']],
    ['configFile', '/tmp/evil-ssh-config'],
    ['extraCAFile', '/tmp/evil-ca.pem'],
    ['useCloudflared', true],
    ['cloudflaredPath', '/tmp/evil'],
  ];
  for (const [key, value] of attempts) {
    await assert.rejects(
      Promise.resolve(cfg.update(key, value, vscode.ConfigurationTarget.Workspace)),
      `a workspace cannot set accessSSH.${key}`,
    );
    assert.equal(cfg.inspect(key)?.workspaceValue, undefined, `no workspace value of accessSSH.${key}`);
  }
});

export async function run(): Promise<void> {
  const failures: string[] = [];
  for (const c of cases) {
    try {
      await c.run();
      console.log(`ok - ${c.name}`);
    } catch (err) {
      failures.push(c.name);
      console.error(`not ok - ${c.name}\n${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    }
  }
  console.log(`${cases.length - failures.length}/${cases.length} passed`);
  if (failures.length > 0) throw new Error(`${failures.length} failed: ${failures.join('; ')}`);
}
