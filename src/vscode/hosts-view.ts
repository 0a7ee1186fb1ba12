// The "Access hosts" view: every host with its login and certificate state.
// The state comes from AccessState's cache (re-read only when ~/.cloudflared
// changes); while the view is visible a 1 s timer recomputes the countdowns and the
// sessions' time left (rows, tooltips, accessible names) and refreshes only the items
// whose text changed. Nothing ticks while hidden. Time and the timer come from an
// injected clock (a fake one in tests).

import {
  type Disposable,
  EventEmitter,
  MarkdownString,
  ThemeColor,
  ThemeIcon,
  type TreeDataProvider,
  TreeItem,
  TreeItemCollapsibleState,
  type TreeView,
  window,
  workspace,
} from 'vscode';
import { describeProblem, type HostEntry, type HostProblem } from '../hosts/hosts.js';
import { ACTION_LABELS } from '../hosts/failure.js';
import { hostRowText, hostState, sessionSummary, teamName, teamPhrase, timeLeft, tooltipFields } from '../hosts/state.js';
import { every, realClock, type Clock } from '../hosts/renewal.js';
import type { Team } from '../hosts/teams.js';
import type { AccessState } from './access-state.js';
import type { HostRegistry } from './host-registry.js';
import { readSettings } from './settings.js';

export const VIEW_ID = 'accessSsh.hosts';

export type ViewNode = HostEntry | ProblemNode | AccountNode | CliGroupNode;

/** The heading of the hosts only `access-ssh config add` lists (its children: those hosts). */
export interface CliGroupNode {
  readonly cliGroup: true;
}

const CLI_GROUP: CliGroupNode = { cliGroup: true };
/** The group row's label (the hosts of `access-ssh config add`). */
export const CLI_GROUP_LABEL = 'From the command line';

export function isCliGroup(node: unknown): node is CliGroupNode {
  return typeof node === 'object' && node !== null && 'cliGroup' in node;
}

/**
 * The signed-in account of a team (its auth domain): the first rows, so the session is
 * always in sight. One object per team for the view's life, so that a refresh can name it.
 */
interface AccountNode {
  readonly account: string;
}

function isAccount(node: unknown): node is AccountNode {
  return typeof node === 'object' && node !== null && 'account' in node;
}

interface ProblemNode {
  readonly problem: HostProblem;
}

export function isProblem(node: unknown): node is ProblemNode {
  return typeof node === 'object' && node !== null && 'problem' in node;
}

export class HostsView implements TreeDataProvider<ViewNode>, Disposable {
  private readonly changed = new EventEmitter<ViewNode | ViewNode[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  readonly view: TreeView<ViewNode>;
  private readonly disposables: Disposable[] = [];
  private timer: { dispose(): void } | undefined;
  /** The time-dependent text each item was last rendered with, to refresh only what changed. */
  private rendered = new Map<string, string>();
  private readonly accountNodes = new Map<string, AccountNode>();
  private margin = readSettings().renewalMarginSeconds;

  constructor(
    private readonly registry: HostRegistry,
    private readonly state: AccessState,
    private readonly clock: Clock = realClock,
  ) {
    this.view = window.createTreeView(VIEW_ID, { treeDataProvider: this, showCollapseAll: false });
    this.disposables.push(
      this.view,
      this.view.onDidChangeVisibility((e) => this.setTicking(e.visible)),
      registry.onDidChange(() => this.refresh()),
      state.onDidChange(() => this.refresh()),
      workspace.onDidChangeConfiguration((e) => {
        if (e.affectsConfiguration('accessSSH.renewalMarginSeconds')) {
          this.margin = readSettings().renewalMarginSeconds;
          this.refresh();
        }
      }),
    );
    this.setTicking(this.view.visible);
    this.view.description = sessionSummary(state.teams()) ?? '';
  }

  private setTicking(on: boolean): void {
    if (on && !this.timer) {
      this.timer = every(this.clock, 1000, () => this.tick());
      this.tick();
    } else if (!on && this.timer) {
      this.timer.dispose();
      this.timer = undefined;
    }
  }

  /** Recompute every row's text from the cache; refresh the items whose text changed. */
  private tick(): void {
    const now = this.clock.now() / 1000;
    const dirty: ViewNode[] = [];
    for (const host of this.registry.allHosts) {
      if (this.rendered.get(`host:${host.hostname}`) !== this.hostText(host, now).key) dirty.push(host);
    }
    for (const team of this.state.teams()) {
      const node = this.accountNodes.get(team.authDomain);
      if (node && this.rendered.get(`account:${team.authDomain}`) !== timeLeft(team.exp - now)) dirty.push(node);
    }
    if (dirty.length > 0) this.changed.fire(dirty.length > 200 ? undefined : dirty);
  }

  /**
   * A host's state input and tooltip fields now, and their values as one key: its State
   * field is the row's description, so the key changes whenever the row's text does.
   */
  private hostText(node: HostEntry, now: number) {
    const input = { now, marginSeconds: this.margin, ...this.state.input(node.hostname) };
    const fields = tooltipFields({
      ...input,
      hostname: node.hostname,
      source: node.source,
      ...(node.label ? { label: node.label } : {}),
      ...(node.user ? { user: node.user } : {}),
      ...(node.fedramp === true ? { fedramp: true } : {}),
    });
    return { input, fields, key: fields.map((f) => f.value).join('\n') };
  }

  private accountNode(authDomain: string): AccountNode {
    let node = this.accountNodes.get(authDomain);
    if (!node) {
      node = { account: authDomain };
      this.accountNodes.set(authDomain, node);
    }
    return node;
  }

  refresh(): void {
    this.rendered.clear();
    this.changed.fire(undefined);
    this.updateBadge();
    // Who is signed in, as the view's description: `jdoe@example.com · sandbox`.
    this.view.description = sessionSummary(this.state.teams()) ?? '';
  }

  private updateBadge(): void {
    const n = this.registry.problems.length;
    this.view.badge = n > 0 ? { value: n, tooltip: `${n} host entr${n === 1 ? 'y was' : 'ies were'} refused` } : undefined;
  }

  getChildren(element?: ViewNode): ViewNode[] {
    if (isCliGroup(element)) return [...this.registry.cliHosts];
    if (element) return [];
    const any = this.registry.hosts.length + this.registry.cliHosts.length > 0;
    const accounts = any ? this.state.teams().map((t) => this.accountNode(t.authDomain)) : [];
    return [
      ...accounts,
      ...this.registry.hosts,
      ...this.registry.problems.map((problem) => ({ problem })),
      ...(this.registry.cliHosts.length > 0 ? [CLI_GROUP] : []),
    ];
  }

  getParent(node: ViewNode): ViewNode | undefined {
    return !isCliGroup(node) && !isAccount(node) && !isProblem(node) && node.source === 'cli' ? CLI_GROUP : undefined;
  }

  getTreeItem(node: ViewNode): TreeItem {
    if (isCliGroup(node)) {
      const n = this.registry.cliHosts.length;
      const count = `${n} host${n === 1 ? '' : 's'}`;
      // Short enough, with its count, for the default side bar width; the rest is in the tooltip.
      const item = new TreeItem(CLI_GROUP_LABEL, TreeItemCollapsibleState.Expanded);
      item.id = 'cli-group';
      item.description = count;
      item.iconPath = new ThemeIcon('terminal');
      item.contextValue = 'cliGroup';
      item.tooltip = new MarkdownString(
        `**${CLI_GROUP_LABEL}** (${count})\n\nHosts added with \`access-ssh config add\` in a terminal, not in your VS Code settings. Their SSH entries work here too. **Add to Settings** keeps one in VS Code; **Remove Host** takes it out of the SSH config, as \`access-ssh config remove\` does.`,
      );
      return item;
    }
    if (isAccount(node)) {
      // Signed out since the row was listed: the refresh that follows drops it.
      const t: Team = this.state.teams().find((team) => team.authDomain === node.account) ?? {
        authDomain: node.account,
        exp: 0,
        hasOrgToken: false,
      };
      const left = timeLeft(t.exp - this.clock.now() / 1000);
      this.rendered.set(`account:${t.authDomain}`, left);
      const item = new TreeItem(t.email ?? teamName(t.authDomain), TreeItemCollapsibleState.None);
      item.id = `account:${t.authDomain}`;
      item.description = teamName(t.authDomain);
      item.iconPath = new ThemeIcon('account');
      item.contextValue = 'account';
      const md = new MarkdownString(undefined, true);
      md.isTrusted = false;
      md.appendMarkdown(`**$(account) ${escapeMd(t.email ?? '(no e-mail)')}**\n\n`);
      md.appendMarkdown(`Team: ${escapeMd(t.authDomain)}  \nSession: ${escapeMd(left)}`);
      item.tooltip = md;
      item.accessibilityInformation = { label: `Signed in as ${t.email ?? 'unknown'}, ${teamPhrase(t.authDomain)}, ${left}` };
      return item;
    }
    if (isProblem(node)) {
      // The refused value and a short verdict on the row; why, and where it is, in the tooltip.
      const item = new TreeItem(node.problem.value, TreeItemCollapsibleState.None);
      item.id = `problem:${node.problem.source}:${node.problem.index}`;
      item.description = 'invalid entry';
      item.tooltip = describeProblem(node.problem);
      item.accessibilityInformation = { label: `Invalid host entry ${node.problem.value}: ${node.problem.message}` };
      // A click opens where the entry is to be fixed: the setting (a workspace's file is in its tree).
      if (node.problem.source === 'settings') {
        item.command = { title: 'Edit Setting', command: 'workbench.action.openSettings', arguments: ['accessSSH.hosts'] };
        item.tooltip = `${describeProblem(node.problem)}\n\nClick to edit the setting.`;
      }
      item.iconPath = new ThemeIcon('error', new ThemeColor('errorForeground'));
      item.contextValue = 'problem';
      return item;
    }
    const { input, fields, key } = this.hostText(node, this.clock.now() / 1000);
    this.rendered.set(`host:${node.hostname}`, key);
    const s = hostState(input);
    const text = hostRowText(node, s.description);
    const item = new TreeItem(text.label, TreeItemCollapsibleState.None);
    item.id = `host:${node.hostname}`;
    item.description = text.description;
    item.iconPath = new ThemeIcon(s.icon.id, s.icon.color ? new ThemeColor(s.icon.color) : undefined);
    item.contextValue = node.source === 'settings' ? s.contextValue : `${s.contextValue}.${node.source}`;
    const md = new MarkdownString(undefined, true);
    md.supportHtml = false;
    md.isTrusted = false;
    md.appendMarkdown(`**$(server) ${escapeMd(node.label ?? node.hostname)}**\n\n`);
    // The account chosen for this host (its `user` field), else the certificate's principal.
    for (const f of fields) {
      md.appendMarkdown(`${escapeMd(f.label)}: ${escapeMd(f.value)}  \n`);
    }
    if (input.error) md.appendMarkdown(`\nNext step: **${ACTION_LABELS[input.error.action]}**`);
    item.tooltip = md;
    item.accessibilityInformation = { label: text.accessible };
    return item;
  }

  dispose(): void {
    this.setTicking(false);
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}

function escapeMd(text: string): string {
  return text.replace(/[\\`*_{}[\]()#+\-.!|<>$]/g, '\\$&');
}
