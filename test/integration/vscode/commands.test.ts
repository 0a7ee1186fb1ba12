// The commands' decision paths on the vscode stand-in, run as the palette, a row or a
// link runs them (executeCommand): what is asked, what is shown, what is opened, and
// what is left on disk and in the settings.
import {
  DIR,
  HOME,
  TEAM,
  services,
  setHosts,
  vscode,
  writeAppToken,
  writeCertificate,
  writeOrgToken,
  type Harness,
} from '../../support/vscode-harness.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { AccessError } from '../../../src/access/errors.js';
import { certFile, certKeyFile } from '../../../src/access/paths.js';
import { MS_REMOTE_SSH } from '../../../src/remote-ssh/detect.js';
import { LIST_INTRO } from '../../../src/ssh/managed-hosts.js';
import { CertificateDocuments } from '../../../src/vscode/cert-document.js';
import { registerCommands } from '../../../src/vscode/commands.js';
import { hostname } from '../../support/hostname.js';

const HOST = hostname('ssh.example.com');
const MANAGED = join(HOME, '.ssh', 'access-ssh', 'config');

async function withCommands(t: { after(fn: () => unknown): void }, hosts: unknown[] = [HOST]): Promise<Harness> {
  const svc = await services(t, hosts);
  const docs = new CertificateDocuments(svc.state);
  const registered = registerCommands(svc, docs);
  t.after(() => {
    for (const d of registered) d.dispose();
    docs.dispose();
  });
  return svc;
}

const run = (id: string, ...args: unknown[]) => vscode.commands.executeCommand(id, ...args);
const executed = (id: string) => vscode.registered.executed.filter((e) => e.id === id);

test('every command is registered once, under the "accessSsh." prefix', async (t) => {
  await withCommands(t);
  const ids = [...vscode.registered.commands.keys()];
  assert.ok(ids.length >= 20);
  assert.ok(ids.every((id) => id.startsWith('accessSsh.')));
  const declared = (
    JSON.parse(readFileSync(join(__dirname, '..', '..', '..', '..', 'package.json'), 'utf8')) as {
      contributes: { commands: { command: string }[] };
    }
  ).contributes.commands.map((c) => c.command);
  assert.deepEqual([...ids].sort(), [...declared].sort(), 'the same commands as package.json declares');
});

test('connect when signed out: the browser sign-in through the host, a certificate, the entries, then Remote - SSH opens it here', async (t) => {
  const svc = await withCommands(t);
  vscode.extensions.all = [{ id: MS_REMOTE_SSH }];
  await run('accessSsh.connect', HOST);
  assert.deepEqual(svc.access.ops('login'), [HOST]);
  assert.deepEqual(svc.access.ops('ensureCertificate'), [HOST]);
  assert.match(readFileSync(MANAGED, 'utf8'), /Host cfpipe-ssh\.example\.com/);
  assert.deepEqual(executed('vscode.newWindow')[0]?.args, [{ remoteAuthority: 'ssh-remote+cfpipe-ssh.example.com', reuseWindow: true }]);
  assert.deepEqual(vscode.ui.messages('error'), []);
});

test('connect when signed in: no browser; a window in use gets a new one, with the folder of the entry', async (t) => {
  const svc = await withCommands(t, [{ hostname: HOST, path: '/srv/app' }]);
  writeAppToken(HOST);
  vscode.extensions.all = [{ id: MS_REMOTE_SSH }];
  vscode.workspace.workspaceFolders = [{ uri: vscode.Uri.file(HOME), name: 'home', index: 0 }];
  await run('accessSsh.connect', HOST);
  assert.deepEqual(svc.access.ops('login'), []);
  const open = executed('vscode.openFolder')[0]?.args as [vscode.Uri, { forceNewWindow: boolean }] | undefined;
  assert.equal(open?.[0].authority, 'ssh-remote+cfpipe-ssh.example.com');
  assert.equal(open?.[0].path, '/srv/app');
  assert.deepEqual(open?.[1], { forceNewWindow: true });
});

test('connect without Remote-SSH: offered to install it or open ssh in a terminal; the terminal runs ssh on the alias', async (t) => {
  await withCommands(t);
  writeAppToken(HOST);
  vscode.ui.answer = (q) => (q.kind === 'warning' ? 'Open ssh in Terminal' : undefined);
  await run('accessSsh.connect', HOST);
  const offer = vscode.ui.asked.find((q) => q.kind === 'warning');
  assert.ok(offer && offer.kind === 'warning');
  assert.deepEqual(offer.items, ['Install Remote - SSH', 'Open ssh in Terminal']);
  assert.equal(executed('vscode.newWindow').length + executed('vscode.openFolder').length, 0);
  assert.equal(vscode.ui.terminals.length, 1);
  assert.match(vscode.ui.terminals[0]!.sent[0]!, /^ssh .*cfpipe-ssh\.example\.com$/);
});

test('connect, install chosen: the editor installs Remote - SSH and nothing is opened', async (t) => {
  await withCommands(t);
  writeAppToken(HOST);
  vscode.ui.answer = (q) => (q.kind === 'warning' ? 'Install Remote - SSH' : undefined);
  await run('accessSsh.connect', HOST);
  assert.deepEqual(executed('workbench.extensions.installExtension')[0]?.args, [MS_REMOTE_SSH]);
  assert.equal(vscode.ui.terminals.length, 0);
});

test('connect to a host not in the list: entries written for it, the list unchanged', async (t) => {
  const svc = await withCommands(t, []);
  vscode.extensions.all = [{ id: MS_REMOTE_SSH }];
  await run('accessSsh.connect', 'new.example.com');
  assert.match(readFileSync(MANAGED, 'utf8'), /Host cfpipe-new\.example\.com/);
  assert.equal(executed('vscode.newWindow').length, 1);
  assert.deepEqual(svc.registry.hosts, []);
  assert.deepEqual(vscode.workspace.getConfiguration('accessSSH').get('hosts'), []);
});

test('connect, sign-in cancelled: nothing opened, no error shown', async (t) => {
  const svc = await withCommands(t);
  vscode.extensions.all = [{ id: MS_REMOTE_SSH }];
  svc.access.onLogin = () => Promise.reject(new AccessError('login-cancelled', 'cancelled'));
  await run('accessSsh.connect', HOST);
  assert.deepEqual(svc.access.ops('ensureCertificate'), []);
  assert.equal(executed('vscode.newWindow').length, 0);
  assert.deepEqual(vscode.ui.messages(), []);
});

test('connect, sign-in failed: one error with the one next step, kept on the row; nothing opened', async (t) => {
  const svc = await withCommands(t);
  vscode.extensions.all = [{ id: MS_REMOTE_SSH }];
  svc.access.onLogin = () => Promise.reject(new AccessError('network', 'connect ECONNREFUSED 127.0.0.1:443'));
  await run('accessSsh.connect', HOST);
  const errors = vscode.ui.asked.filter((q) => q.kind === 'error');
  assert.equal(errors.length, 1);
  assert.match(errors[0]!.kind === 'error' ? errors[0]!.message : '', /^Cannot connect to ssh\.example\.com: /);
  assert.equal(errors[0]!.kind === 'error' && errors[0]!.items.length, 1);
  assert.equal(executed('vscode.newWindow').length, 0);
  assert.ok(svc.state.error(HOST), 'the failure stays on the row');
});

test('connect from the palette: a pick of the hosts and "Add host..."; dismissed, nothing happens', async (t) => {
  const svc = await withCommands(t, [{ hostname: HOST, label: 'Build' }, 'b.example.com']);
  await run('accessSsh.connect');
  const pick = vscode.ui.asked[0];
  assert.equal(pick?.kind, 'quickPick');
  assert.deepEqual(pick?.kind === 'quickPick' && pick.items.map((i) => i.label), [
    '$(server) Build',
    '$(server) b.example.com',
    '$(add) Add host...',
  ]);
  assert.deepEqual(svc.access.calls, []);
});

test('remove host asks first; dismissed, the host, its key and its certificate stay', async (t) => {
  await withCommands(t, [HOST, 'b.example.com']);
  writeCertificate(HOST);
  await run('accessSsh.removeHost', HOST);
  const ask = vscode.ui.asked[0];
  assert.ok(ask?.kind === 'warning' && ask.modal);
  assert.equal(ask.message, 'Remove ssh.example.com from your Access hosts?');
  assert.deepEqual(ask.items, ['Remove']);
  assert.deepEqual(vscode.workspace.getConfiguration('accessSSH').get('hosts'), [HOST, 'b.example.com']);
  assert.equal(existsSync(certFile(DIR, HOST)), true);
});

test('remove host, confirmed: out of the settings and the entries, key and certificate deleted, still signed in', async (t) => {
  const svc = await withCommands(t, [HOST, 'b.example.com']);
  writeCertificate(HOST);
  const org = writeOrgToken();
  vscode.ui.answer = (q) => (q.kind === 'warning' ? 'Remove' : undefined);
  await run('accessSsh.removeHost', HOST);
  assert.deepEqual(vscode.workspace.getConfiguration('accessSSH').get('hosts'), ['b.example.com']);
  assert.deepEqual(
    svc.registry.hosts.map((h) => h.hostname),
    ['b.example.com'],
  );
  assert.equal(existsSync(certFile(DIR, HOST)), false);
  assert.equal(existsSync(certKeyFile(DIR, HOST)), false);
  assert.equal(existsSync(org), true);
  assert.doesNotMatch(readFileSync(MANAGED, 'utf8'), /cfpipe-ssh\.example\.com/);
});

test("a workspace's host is not removed from settings: the user is sent to its file", async (t) => {
  const svc = await withCommands(t, []);
  const { mkdirSync, writeFileSync } = await import('node:fs');
  mkdirSync(join(HOME, 'project', '.vscode'), { recursive: true });
  writeFileSync(join(HOME, 'project', '.vscode', 'access-hosts.json'), JSON.stringify({ hosts: [HOST] }));
  vscode.workspace.workspaceFolders = [{ uri: vscode.Uri.file(join(HOME, 'project')), name: 'project', index: 0 }];
  await svc.registry.reload();
  await run('accessSsh.removeHost', HOST);
  assert.deepEqual(vscode.ui.messages(), [`${HOST} comes from this workspace's .vscode/access-hosts.json; remove it there.`]);
});

test('refresh certificate says what it did: a new one, or the one still valid and when it is renewed', async (t) => {
  const svc = await withCommands(t);
  writeAppToken(HOST);
  await svc.state.reload();
  await run('accessSsh.refreshCertificate', HOST);
  assert.match(vscode.ui.messages('info')[0] ?? '', /^New certificate for ssh\.example\.com, valid for (9|10):\d\d\.$/);
  svc.access.onEnsure = () => Promise.resolve(false);
  await run('accessSsh.refreshCertificate', HOST);
  assert.match(
    vscode.ui.messages('info')[1] ?? '',
    /^The certificate for ssh\.example\.com is still valid for (9|10):\d\d; it is renewed when less than 1:00 is left\.$/,
  );
  assert.equal(vscode.ui.progress.filter((p) => /Getting an SSH certificate/.test(p.title)).length, 2);
});

test('sign in when already signed in: says who, and signs in again only when asked', async (t) => {
  const svc = await withCommands(t);
  writeAppToken(HOST);
  writeOrgToken();
  await svc.state.reload();
  await run('accessSsh.signIn', HOST);
  assert.match(vscode.ui.messages('info')[0] ?? '', /^You are signed in to Cloudflare Access as jdoe@example\.com \(team sandbox, /);
  assert.deepEqual(svc.access.ops('login'), []);
  vscode.ui.answer = (q) => (q.kind === 'info' && q.items.includes('Sign In Again') ? 'Sign In Again' : undefined);
  await run('accessSsh.signIn', HOST);
  assert.deepEqual(svc.access.ops('login'), [HOST]);
  assert.ok(vscode.ui.messages('info').some((m) => m === 'Signed in as jdoe@example.com (team sandbox).'));
});

test('sign out: nobody signed in is said; one team is signed out without a question', async (t) => {
  const svc = await withCommands(t);
  await run('accessSsh.signOut');
  assert.deepEqual(vscode.ui.messages(), ['You are not signed in to Cloudflare Access.']);
  const org = writeOrgToken();
  await svc.state.reload();
  await run('accessSsh.signOut');
  assert.equal(existsSync(org), false);
  assert.equal(vscode.ui.messages().at(-1), `Signed out of ${TEAM}.`);
});

test('a failing command shows one error naming the command, and logs it', async (t) => {
  await withCommands(t);
  setHosts([HOST]);
  vscode.registered.builtin = () => undefined;
  // The SSH config cannot be written: its folder is a file.
  const { writeFileSync, mkdirSync } = await import('node:fs');
  mkdirSync(join(HOME, '.ssh'), { recursive: true });
  writeFileSync(join(HOME, '.ssh', 'access-ssh'), 'not a folder');
  await run('accessSsh.copySshCommand', HOST);
  const error = vscode.ui.asked.find((q) => q.kind === 'error');
  assert.match(error?.kind === 'error' ? error.message : '', /^Copy ssh command failed: /);
  assert.ok(vscode.ui.log.some((l) => l.level === 'error' && /Copy ssh command failed/.test(l.message)));
});

test('Add to Settings: a host only the command line listed moves to the settings and out of the command line group', async (t) => {
  const svc = await withCommands(t, []);
  const CLI = 'tools.example.com';
  mkdirSync(dirname(MANAGED), { recursive: true, mode: 0o700 });
  writeFileSync(MANAGED, `${LIST_INTRO}\n# access-ssh-host ${CLI} from=cli\n`, { mode: 0o600 });
  await svc.registry.reloadCli();
  assert.deepEqual(
    svc.registry.cliHosts.map((h) => h.hostname),
    [CLI],
  );
  await run('accessSsh.addToSettings', CLI);
  assert.deepEqual(
    svc.registry.cliHosts.map((h) => h.hostname),
    [],
    'no longer in the command line group',
  );
  assert.ok(svc.registry.find(CLI), 'one of the settings hosts');
  assert.match(readFileSync(MANAGED, 'utf8'), new RegExp(`^# access-ssh-host ${CLI.replace(/\./g, '\\.')} from=cli,vscode`, 'm'));
});
