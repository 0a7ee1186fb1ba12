// The suite that runs INSIDE a real VS Code extension host (launched by
// `npm run test:vscode` through @vscode/test-electron where a desktop VS Code can
// be had; extensionTestsPath = out/test/vscode/suite/index.js). It checks what only
// the real API can: activation, registered commands, the auth provider, the view,
// setting scopes as VS Code itself reads them. No network, no login.
import * as assert from 'node:assert/strict';
import * as vscode from 'vscode';

const EXTENSION_ID = 'access-ssh.access-ssh';

interface Case {
  readonly name: string;
  readonly run: () => Promise<void>;
}

const cases: Case[] = [];
function test(name: string, run: () => Promise<void>): void {
  cases.push({ name, run });
}

async function extension(): Promise<vscode.Extension<unknown>> {
  const ext = vscode.extensions.getExtension(EXTENSION_ID);
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

test('the Access hosts view opens', async () => {
  await extension();
  await vscode.commands.executeCommand('workbench.view.extension.accessSsh');
  await vscode.commands.executeCommand('accessSsh.hosts.focus');
});

test('Refresh and Show Log run without a host', async () => {
  await extension();
  await vscode.commands.executeCommand('accessSsh.refreshView');
  await vscode.commands.executeCommand('accessSsh.showLog');
});

test('settings that reach a command line or a path ignore workspace values', async () => {
  await extension();
  const cfg = vscode.workspace.getConfiguration('accessSsh');
  for (const key of ['hosts', 'sshConfigFile', 'connectTo', 'extraCaFile', 'useCloudflared', 'cloudflaredPath']) {
    const inspected = cfg.inspect(key);
    assert.ok(inspected, `accessSsh.${key} is declared`);
  }
  const folders = vscode.workspace.workspaceFolders;
  if (folders && folders.length > 0) {
    // VS Code refuses to write an application/machine setting to the workspace.
    await assert.rejects(
      Promise.resolve(cfg.update('connectTo', 'evil:443:127.0.0.1:1', vscode.ConfigurationTarget.Workspace)),
      'a workspace cannot set accessSSH.connectTo',
    );
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
