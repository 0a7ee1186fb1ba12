// The "Access hosts" tree on the vscode stand-in: which rows, and each row's label,
// description, icon, context value (the menus' `when` clauses read it) and tooltip,
// for every state a host can be in.
import { EMAIL, HOME, TEAM, services, vscode, writeAppToken, writeCertificate, writeOrgToken } from '../../support/vscode-harness.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MarkdownString, ThemeIcon, TreeItem } from '../../support/vscode-stub.js';
import { HostsView, VIEW_ID, type ViewNode } from '../../../src/vscode/hosts-view.js';

const HOST = 'ssh.example.com';

async function view(t: { after(fn: () => unknown): void }, hosts: unknown[]) {
  const svc = await services(t, hosts);
  const v = new HostsView(svc.registry, svc.state);
  t.after(() => v.dispose());
  const rows = () => v.getChildren().map((n: ViewNode) => v.getTreeItem(n) as unknown as TreeItem);
  const row = (label: string) => {
    const r = rows().find((i) => i.label === label);
    assert.ok(r, `a row ${label}`);
    return r;
  };
  return { svc, v, rows, row };
}

const icon = (i: TreeItem) =>
  `${(i.iconPath as ThemeIcon).id}${(i.iconPath as ThemeIcon).color ? ` ${(i.iconPath as ThemeIcon).color!.id}` : ''}`;
const tooltip = (i: TreeItem) => (i.tooltip as MarkdownString).value.replace(/\\(.)/g, '$1');

test('the view is created under its id; a signed-out host is one row that says so', async (t) => {
  const { rows } = await view(t, [HOST]);
  assert.equal(vscode.ui.treeViews[0]?.id, VIEW_ID);
  const [r, ...more] = rows();
  assert.equal(more.length, 0);
  assert.equal(r!.label, HOST);
  assert.equal(r!.description, 'signed out');
  assert.equal(icon(r!), 'circle-slash disabledForeground');
  assert.equal(r!.contextValue, 'host.signedOut');
  assert.match(tooltip(r!), /State: signed out/);
  assert.match(tooltip(r!), /SSH alias: cfpipe-ssh\.example\.com/);
  assert.match(tooltip(r!), /From: user settings/);
  assert.equal(vscode.ui.treeViews[0].description, '', 'nobody signed in: no description');
});

test('signed in: the account row first, the host "signed in", the view says who', async (t) => {
  const { svc, rows, v } = await view(t, [HOST]);
  writeAppToken(HOST);
  writeOrgToken();
  await svc.state.reload();
  v.refresh();
  const [account, host] = rows();
  assert.equal(account!.label, EMAIL);
  assert.equal(account!.description, 'sandbox');
  assert.equal(account!.contextValue, 'account');
  assert.equal(icon(account!), 'account');
  assert.match(tooltip(account!), new RegExp(`Team: ${TEAM.replace(/\./g, '\\.')}`));
  assert.equal(host!.description, 'signed in');
  assert.equal(host!.contextValue, 'host.signedIn');
  assert.equal(icon(host!), 'account charts.blue');
  assert.match(tooltip(host!), /Account: jdoe@example\.com/);
  assert.match(tooltip(host!), /Certificate: none yet/);
  assert.equal(vscode.ui.treeViews[0]!.description, 'jdoe@example.com · sandbox');
});

test('a live certificate: "valid for", its principal, and the renewal margin in the tooltip', async (t) => {
  const { svc, row } = await view(t, [{ hostname: HOST, label: 'Build box' }]);
  writeAppToken(HOST);
  writeCertificate(HOST, 'deploy');
  await svc.state.reload();
  const r = row('Build box');
  assert.match(String(r.description), /^ssh\.example\.com · valid for (9|10):\d\d$/);
  assert.equal(r.contextValue, 'host.valid');
  assert.equal(icon(r), 'pass-filled testing.iconPassed');
  assert.match(tooltip(r), /Logs in as: deploy \(the certificate's principal\)/);
  assert.match(tooltip(r), /renewed with less than 1:00 left/);
});

test("a failure stays on the row with its next step, and the row's menu follows it", async (t) => {
  const { svc, row } = await view(t, [HOST]);
  svc.state.setError(HOST, { reason: 'Sign-in needed', detail: 'The session ended.\nSign in again.', action: 'signIn' });
  const r = row(HOST);
  assert.equal(r.description, 'Sign-in needed');
  assert.equal(r.contextValue, 'host.errorSignIn');
  assert.equal(icon(r), 'error errorForeground');
  assert.match(tooltip(r), /Error: The session ended\. Sign in again\./);
  assert.match(tooltip(r), /Next step: \*\*Sign In\*\*/);
  svc.state.setError(HOST, undefined);
  assert.equal(row(HOST).contextValue, 'host.signedOut');
});

test('signing in through a host: the row says so', async (t) => {
  const { svc, row } = await view(t, [HOST]);
  svc.state.setSigningIn(HOST, true);
  assert.equal(row(HOST).description, 'signing in…');
  assert.equal(row(HOST).contextValue, 'host.signingIn');
});

test("a refused entry is a problem row, counted on the view's badge; untrusted text is not markup", async (t) => {
  const { rows, v } = await view(t, [HOST, 'bad host name']);
  v.refresh();
  const problem = rows().find((r) => r.contextValue === 'problem');
  assert.ok(problem);
  assert.equal(problem.label, 'Invalid host entry "bad host name"');
  assert.equal(icon(problem), 'error errorForeground');
  assert.deepEqual(vscode.ui.treeViews[0]!.badge, { value: 1, tooltip: '1 host entry was refused' });
  const host = rows().find((r) => r.label === HOST)!;
  assert.equal((host.tooltip as MarkdownString).isTrusted, false);
});

test("a host from the workspace's .vscode/access-hosts.json has a .repo context value and says where it is from", async (t) => {
  const folder = join(HOME, 'project');
  mkdirSync(join(folder, '.vscode'), { recursive: true });
  writeFileSync(join(folder, '.vscode', 'access-hosts.json'), JSON.stringify({ hosts: ['repo.example.com'] }));
  const svc = await services(t, []);
  vscode.workspace.workspaceFolders = [{ uri: vscode.Uri.file(folder), name: 'project', index: 0 }];
  await svc.registry.reload();
  const v = new HostsView(svc.registry, svc.state);
  t.after(() => v.dispose());
  const r = v.getTreeItem(v.getChildren()[0]!) as unknown as TreeItem;
  assert.equal(r.label, 'repo.example.com');
  assert.equal(r.contextValue, 'host.signedOut.repo');
  assert.match(tooltip(r), /From: \.vscode\/access-hosts\.json \(this workspace\)/);
});
