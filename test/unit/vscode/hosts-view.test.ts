// The "Access hosts" tree on the vscode stand-in: which rows, and each row's label,
// description, icon, context value (the menus' `when` clauses read it) and tooltip,
// for every state a host can be in.
import { EMAIL, HOME, TEAM, services, vscode, writeAppToken, writeCertificate, writeOrgToken } from '../../support/vscode-harness.js';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { MarkdownString, ThemeIcon, TreeItem } from '../../support/vscode-stub.js';
import { CLI_GROUP_LABEL, HostsView, isCliGroup, VIEW_ID, type ViewNode } from '../../../src/vscode/hosts-view.js';
import { LIST_INTRO } from '../../../src/ssh/managed-hosts.js';
import { FakeClock } from '../../support/clock.js';

const HOST = 'ssh.example.com';

async function view(t: { after(fn: () => unknown): void }, hosts: unknown[], clock?: FakeClock) {
  const svc = await services(t, hosts);
  const v = new HostsView(svc.registry, svc.state, clock);
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
  // The label names the host; its name is in the tooltip and the accessible name, so the row fits.
  assert.match(String(r.description), /^valid for (9|10):\d\d$/);
  assert.match(tooltip(r), /^Host: ssh\.example\.com {2}$/m);
  assert.match(r.accessibilityInformation!.label, /^Build box, ssh\.example\.com, valid for/);
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
  assert.equal(problem.label, '"bad host name"');
  assert.equal(problem.description, 'invalid entry');
  assert.match(problem.tooltip as string, /^setting accessSSH\.hosts, entry 2 "bad host name": /);
  assert.match(problem.accessibilityInformation!.label, /^Invalid host entry "bad host name": /);
  assert.deepEqual(problem.command, { title: 'Edit Setting', command: 'workbench.action.openSettings', arguments: ['accessSSH.hosts'] });
  assert.match(problem.tooltip as string, /Click to edit the setting\.$/);
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

test("a host's own user is on its row after the state, in its tooltip and its accessible name", async (t) => {
  const { svc, row } = await view(t, [{ hostname: HOST, user: 'deploy' }]);
  assert.equal(row(HOST).description, 'signed out · as deploy');
  writeAppToken(HOST);
  writeCertificate(HOST, 'jdoe');
  await svc.state.reload();
  const r = row(HOST);
  assert.match(String(r.description), /^valid for (9|10):\d\d · as deploy$/);
  assert.match(tooltip(r), /^Logs in as: deploy {2}$/m);
  assert.match(r.accessibilityInformation!.label, /^ssh\.example\.com as deploy, valid for/);
});

test('hosts added from the command line: a short group row with its count, its hosts under it with their user', async (t) => {
  const { svc, v, rows } = await view(t, [HOST]);
  mkdirSync(join(HOME, '.ssh', 'access-ssh'), { recursive: true, mode: 0o700 });
  writeFileSync(
    svc.registry.managedFile,
    `${LIST_INTRO}\n# access-ssh-host build.example.com from=cli user=ops\n# access-ssh-host tools.example.com from=cli\n`,
    { mode: 0o600 },
  );
  await svc.registry.reloadCli();
  const group = v.getChildren().find(isCliGroup);
  assert.ok(group, 'a group row');
  const g = v.getTreeItem(group) as unknown as TreeItem;
  assert.equal(g.label, CLI_GROUP_LABEL);
  assert.equal(g.label, 'From the command line');
  assert.equal(g.description, '2 hosts');
  assert.match((g.tooltip as MarkdownString).value, /access-ssh config add/);
  assert.equal(rows().at(-1)?.label, CLI_GROUP_LABEL, 'after the settings hosts');
  const children = v.getChildren(group).map((n) => v.getTreeItem(n) as unknown as TreeItem);
  assert.deepEqual(
    children.map((c) => [c.label, c.description, c.contextValue]),
    [
      ['build.example.com', 'signed out · as ops', 'host.signedOut.cli'],
      ['tools.example.com', 'signed out', 'host.signedOut.cli'],
    ],
  );
});

test('one e-mail signed in to a commercial and a FedRAMP team of the same name: two account rows told apart', async (t) => {
  const FED_TEAM = 'sandbox.fed.cloudflareaccess.com';
  const { svc, rows, v } = await view(t, [HOST, { hostname: 'gov.example.com', fedramp: true }]);
  writeOrgToken();
  writeOrgToken({ team: FED_TEAM });
  await svc.state.reload();
  v.refresh();
  const accounts = rows().filter((r) => r.contextValue === 'account');
  assert.deepEqual(
    accounts.map((a) => [a.label, a.description]),
    [
      [EMAIL, 'sandbox'],
      [EMAIL, 'sandbox · FedRAMP'],
    ],
  );
  assert.match(accounts[1]!.accessibilityInformation!.label, /^Signed in as jdoe@example\.com, FedRAMP team sandbox, /);
  assert.match(tooltip(accounts[1]!), /Team: sandbox\.fed\.cloudflareaccess\.com/);
  assert.equal(vscode.ui.treeViews[0]!.description, 'jdoe@example.com · 2 teams');
  // The Accounts menu lists one entry per account label: one per team.
  const labels = (await svc.auth.getSessions()).map((s) => s.account.label);
  assert.deepEqual(labels.sort(), ['jdoe@example.com · sandbox', 'jdoe@example.com · sandbox · FedRAMP']);
});

test('while the view shows, the countdown moves with the clock, refreshing only that row; hidden, nothing ticks', async (t) => {
  const clock = new FakeClock(Date.now());
  const { svc, v, row } = await view(t, [HOST, 'other.example.com'], clock);
  writeAppToken(HOST);
  writeCertificate(HOST, 'jdoe', { validUntilS: 600 });
  await svc.state.reload();
  const fired: unknown[] = [];
  v.onDidChangeTreeData((e) => fired.push(e));
  const seconds = () => {
    const m = /^valid for (\d+):(\d\d)$/.exec(String(row(HOST).description));
    assert.ok(m, `a countdown: ${String(row(HOST).description)}`);
    return Number(m[1]) * 60 + Number(m[2]);
  };
  const start = seconds();
  assert.deepEqual(clock.pending(), [], 'hidden at first: no timer');

  vscode.ui.treeViews.at(-1)!.setVisible(true);
  fired.length = 0;
  await clock.advance(1000);
  assert.equal(fired.length, 1, 'one refresh a second');
  assert.deepEqual(
    (fired[0] as ({ hostname: string } | { account: string })[]).map((n) => ('hostname' in n ? n.hostname : `account ${n.account}`)),
    [HOST, `account ${TEAM}`],
    "only the rows whose text changed: the host's countdown, its team's time left (under an hour: every second)",
  );
  assert.equal(seconds(), start - 1);
  await clock.advance(5 * 60_000);
  assert.equal(seconds(), start - 1 - 300, "five minutes of the clock's time, none of the process's");

  vscode.ui.treeViews.at(-1)!.setVisible(false);
  assert.deepEqual(clock.pending(), [], 'hidden: the timer is gone');
  fired.length = 0;
  await clock.advance(10_000);
  assert.equal(fired.length, 0);
});

test("the sessions' time left follows the clock: the account row and a signed-in host's tooltip, once it changes", async (t) => {
  const clock = new FakeClock(Date.now());
  const { svc, v, row, rows } = await view(t, [HOST], clock);
  const nowS = Math.floor(clock.now() / 1000);
  writeAppToken(HOST, { exp: nowS + 2 * 3600 + 30 });
  writeOrgToken({ exp: nowS + 3 * 3600 + 30 });
  await svc.state.reload();
  v.refresh();
  const fired: unknown[] = [];
  // As the workbench does: a refreshed row is rendered again.
  v.onDidChangeTreeData((e) => {
    fired.push(e);
    rows();
  });
  vscode.ui.treeViews.at(-1)!.setVisible(true);
  assert.match(row(EMAIL).accessibilityInformation!.label, /, 3h 00m left$/);
  assert.match(tooltip(row(HOST)), /^Team session: 3h 00m left {2}$/m);
  fired.length = 0;
  // Within the minute the texts stay: nothing is refreshed.
  await clock.advance(20_000);
  assert.equal(fired.length, 0, 'no refresh while no text changes');
  await clock.advance(20_000);
  assert.equal(fired.length, 1, 'one refresh when the minutes change');
  const refreshed = fired[0] as ViewNode[];
  assert.equal(refreshed.length, 2, 'the host row and the account row');
  assert.match(row(EMAIL).accessibilityInformation!.label, /, 2h 59m left$/);
  assert.match(tooltip(row(EMAIL)), /Session: 2h 59m left/);
  assert.match(tooltip(row(HOST)), /^App session: 1h 59m left {2}$/m);
  assert.match(tooltip(row(HOST)), /^Team session: 2h 59m left {2}$/m);
  // The refresh names the same account object the tree holds, so VS Code finds the row.
  const account = v.getChildren()[0];
  assert.ok(refreshed.includes(account!), 'the account node is the one getChildren returns');
});
