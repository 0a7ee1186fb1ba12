// More of issue 9 in the real workbench (code-server in Chromium, the packaged .vsix,
// the sandbox edge): a host with its own `user` (row, tooltip, the written entries, the
// user's own `User` lines untouched), a FedRAMP host signing in through the FedRAMP login
// service, the warning some minutes before the team session ends with its one-click
// renewal, and the hosts added with `access-ssh config add` in a terminal, listed apart
// with the actions that fit them.
//
//   node --test out/test/ui/hosts.test.js   (after `npm run package` and tsc)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { FEDRAMP_TEAM_NAMES, TEAM_NAMES, sandboxBrowser, sandboxHomeFiles, sandboxSettings } from './sandbox-routes';
import { missingBrowser, type BrowserSession } from './browser';
import { acceptLoginTab } from './login-tab';
import {
  escapeRegExp,
  openWorkbenchPage,
  publishScreenshots,
  scenarioSteps,
  screenshotDiagnosis,
  type VsCodeUi,
  waitFor,
} from './vscode-ui';
import { missingWorkbench, ROOT, startWorkbench, VSIX, type Workbench } from './workbench';

const HOST = 'ssh.sandbox.test';
/** An app of the FedRAMP team (sandbox.fed.cloudflareaccess.com). */
const FED = 'fed.sandbox.test';
/** Hosts a terminal adds with `access-ssh config add`. */
const CLI_HOST = 'build.sandbox.test';
const CLI_KEEP = 'tools.sandbox.test';
const RESULTS_DIR = join(ROOT, 'test-results', 'ui');
const NAMES = [HOST, FED, CLI_HOST, CLI_KEEP, ...TEAM_NAMES, ...FEDRAMP_TEAM_NAMES];
/** The user's own ssh config: a `User` line for another host that must stay. */
const USER_CONFIG = 'Host other.example.com\n  User someone\n';
const CLI_GROUP = 'From the command line';

const missing = missingWorkbench() ?? missingBrowser() ?? (existsSync(VSIX) ? undefined : `${VSIX} is missing: run "npm run package"`);

describe(
  'hosts: per-host user, FedRAMP, the team session ending, hosts from the command line',
  { timeout: 20 * 60_000, skip: missing },
  () => {
    let sb: Sandbox | undefined;
    let wb: Workbench | undefined;
    let bs: BrowserSession | undefined;
    let ui: VsCodeUi;

    before(async () => {
      // The login page approves itself (the sign-in flows are walked in access.test.ts).
      sb = await startSandbox({ autoApprove: true, fedrampHosts: [FED] });
      const sandbox = sb;
      wb = await startWorkbench({
        homeFiles: {
          ...sandboxHomeFiles(sandbox),
          '.ssh/config': USER_CONFIG,
        },
        settings: (home) => ({
          ...sandboxSettings(sandbox, home, NAMES),
          'accessSSH.hosts': [
            { hostname: HOST, user: 'deploy' },
            { hostname: FED, label: 'Gov box', fedramp: true },
          ],
        }),
      });
      bs = await sandboxBrowser(sandbox, NAMES, HOST);
      ui = await openWorkbenchPage(bs.page, wb.url, [RESULTS_DIR]);
    });

    let completed = false;

    after(async () => {
      publishScreenshots(ROOT, RESULTS_DIR, ['19-host-user-tooltip', '20-session-ending', '21-cli-hosts'], completed && !failed());
      await bs?.close();
      await wb?.stop();
      await sb?.stop();
    });

    const { step, failed } = scenarioSteps(
      screenshotDiagnosis(
        RESULTS_DIR,
        'hosts-',
        () => ui,
        async () => [
          `notifications: ${JSON.stringify(await ui?.notifications().catch(() => []))}`,
          `tree: ${JSON.stringify(await ui?.treeRows().catch(() => []))}`,
          wb?.logTail(30) ?? '',
          `sandbox counters: ${JSON.stringify(sb?.counters)}`,
        ],
      ),
    );

    const managedFile = (): string => join(wb!.home, '.ssh', 'access-ssh', 'config');
    const managed = (): string => (existsSync(managedFile()) ? readFileSync(managedFile(), 'utf8') : '');
    /** The lines of the `Host cfpipe-<host>` block of the managed file. */
    const block = (host: string): string => {
      const m = new RegExp(`^Host cfpipe-${escapeRegExp(host)}\\n((?: {2}.*\\n)*)`, 'm').exec(managed());
      return m?.[1] ?? '';
    };
    const row = async (label: string): Promise<{ label: string; description: string; ariaLabel: string } | undefined> =>
      (await ui.treeRows()).find((r) => r.label === label);

    step("a host's own user: on its tooltip and accessible name, in its entries; the user's own User lines stay", async () => {
      assert.ok(wb);
      await ui.openViewContainer('Access SSH', 120_000);
      const r = await waitFor(`the ${HOST} row`, () => row(HOST), 60_000);
      assert.match(r.ariaLabel, new RegExp(`^${escapeRegExp(HOST)} as deploy, `), `accessible name: ${r.ariaLabel}`);
      const tip = await ui.rowTooltip(HOST);
      assert.match(tip, /Logs in as: deploy$/m, tip);
      await ui.shot('19-host-user-tooltip');
      await ui.closeHover();
      await waitFor('the entries for both hosts', async () => block(HOST) !== '' && block(FED) !== '', 60_000);
      assert.match(block(HOST), /^ {2}User deploy$/m, block(HOST));
      assert.match(managed(), new RegExp(`^# access-ssh-host ${escapeRegExp(HOST)} from=vscode user=deploy$`, 'm'));
      const userConfig = readFileSync(join(wb.home, '.ssh', 'config'), 'utf8');
      assert.ok(userConfig.endsWith(USER_CONFIG), `the user's own lines are kept as they were:\n${userConfig}`);
    });

    step('a FedRAMP host signs in through the FedRAMP login service; its tooltip and entries say FedRAMP', async () => {
      assert.ok(bs && sb);
      const polls = sb.counters.fedTransferPolls;
      const popup = bs.context.waitForEvent('page', { timeout: 90_000 });
      await ui.inlineAction(ui.treeRow('Gov box'), 'Sign In');
      const login = await acceptLoginTab(ui, popup);
      assert.match(new URL(login.url()).hostname, new RegExp(`^${escapeRegExp(FED)}$`));
      await ui.page.bringToFront();
      const note = await ui.waitNotification(/^Signed in as /, 90_000);
      assert.match(note.message, /as jdoe@example\.com/);
      await login.close().catch(() => undefined);
      assert.ok(sb.counters.fedTransferPolls > polls, 'the login was handed over by login.fed.cloudflareaccess.org');
      await waitFor('the FedRAMP host valid', async () => /valid for \d+:\d\d/.test((await row('Gov box'))?.description ?? ''), 60_000);
      const tip = await ui.rowTooltip('Gov box');
      assert.match(tip, /Account type: FedRAMP/, tip);
      assert.match(tip, /Team: sandbox\.fed\.cloudflareaccess\.com/, tip);
      await ui.closeHover();
      assert.match(block(FED), /--fedramp/, `the helper runs with --fedramp for ${FED}:\n${block(FED)}`);
      assert.doesNotMatch(block(HOST), /--fedramp/);
      await ui.clearNotifications();
    });

    step('the team session ending: a warning some minutes before, and one click renews it', async () => {
      assert.ok(bs && sb);
      // The team hands out short sessions (9 minutes, app and team tokens alike: the session
      // ends when the last of them does): the warning comes within its 30 s check.
      sb.setOptions({ orgTokenTtlSeconds: 9 * 60, appTokenTtlSeconds: 9 * 60 });
      const popup = bs.context.waitForEvent('page', { timeout: 90_000 });
      await ui.inlineAction(ui.treeRow(HOST), 'Sign In');
      const login = await acceptLoginTab(ui, popup);
      await ui.page.bringToFront();
      await ui.waitNotification(/^Signed in as jdoe@example\.com \((FedRAMP )?team sandbox\)/, 90_000);
      await login.close().catch(() => undefined);
      // Not cleared here: the warning may already be up, and it is shown once per session.
      const ENDING =
        /^Your Cloudflare Access session \(team sandbox\) ends in (\d+) min\. Renew it to keep connecting without interruption\.$/;
      const warning = await ui.waitNotification(ENDING, 90_000);
      const minutes = Number(ENDING.exec(warning.message)![1]);
      assert.ok(minutes >= 8 && minutes <= 9, `ends in ${minutes} min`);
      assert.deepEqual(warning.buttons, ['Renew Session']);
      await ui.page.mouse.move(640, 700);
      await ui.shot('20-session-ending');
      // The renewed session is a normal one (a day): one click, the browser login, done.
      sb.setOptions({ orgTokenTtlSeconds: 86400, appTokenTtlSeconds: 3600 });
      const logins = sb.counters.transferDeliveries;
      const again = bs.context.waitForEvent('page', { timeout: 90_000 });
      await ui.clickNotificationButton(ENDING, 'Renew Session');
      const relogin = await acceptLoginTab(ui, again);
      await ui.page.bringToFront();
      await ui.waitNotification(/^Signed in as jdoe@example\.com \((FedRAMP )?team sandbox\)/, 90_000);
      await relogin.close().catch(() => undefined);
      assert.ok(sb.counters.transferDeliveries > logins, 'a new login was completed');
      const tip = await ui.rowTooltip(HOST);
      assert.match(tip, /Team session: 23h 5\dm left/, tip);
      await ui.closeHover();
      await ui.clearNotifications();
    });

    step('hosts added with access-ssh config add are listed apart, marked, with Add to Settings and Remove Host', async () => {
      assert.ok(wb);
      const launcher = join(wb.userDataDir, 'User', 'globalStorage', 'access-ssh.access-ssh', 'bin', 'access-ssh');
      assert.ok(existsSync(launcher), `the helper launcher ${launcher}`);
      await ui.runCommand('Terminal: Create New Terminal');
      await ui.waitTerminal(/\$ *$/m, 60_000);
      // The exit status goes to a file too: the terminal's rows are only repainted when
      // headless Chromium draws a frame, which a busy workbench may not do for a minute.
      const status = join(wb.home, 'cli-added.txt');
      await ui.typeInTerminal(
        `'${launcher}' config add --hostname ${CLI_HOST} --user ops && '${launcher}' config add --hostname ${CLI_KEEP}; echo "added=$?" | tee '${status}'`,
      );
      await waitFor(
        'the two config add commands',
        async () => (existsSync(status) && /^added=0$/m.test(readFileSync(status, 'utf8')) ? true : undefined),
        60_000,
      );
      await ui.runCommand('Terminal: Kill All Terminals');
      await ui.openViewContainer('Access SSH');
      const group = await waitFor('the command line group', () => row(CLI_GROUP), 30_000);
      assert.equal(group.description, '2 hosts');
      // Same team as a signed-in host: signed in at once (its team is checked in the background).
      const cli = await waitFor(
        `${CLI_HOST} signed in`,
        async () => {
          const r = await row(CLI_HOST);
          return r && /^(signed in|valid for)/.test(r.description) ? r : undefined;
        },
        60_000,
      );
      // Its state is whole at the default width; only the tail " · as ops" may be cut (the tooltip has it).
      const width = (await ui.rowWidths()).find((r) => r.label === CLI_HOST);
      assert.ok(
        width && (width.fits || width.scrollWidth - width.clientWidth <= width.tailWidth),
        `"${CLI_HOST} ${cli.description}" fits: ${JSON.stringify(width)}`,
      );
      const tip = await ui.rowTooltip(CLI_HOST);
      assert.match(tip, /From: the command line \(access-ssh config add\), not your VS Code settings/, tip);
      assert.match(tip, /Logs in as: ops$/m, tip);
      await ui.closeHover();
      await ui.page.mouse.move(640, 700);
      await ui.shot('21-cli-hosts');
      const items = await ui.contextMenuItems(ui.treeRow(CLI_HOST));
      for (const it of ['Open in Terminal', 'Copy SSH Command', 'Add to Settings', 'Remove Host']) {
        assert.ok(items.includes(it), `${it} in ${JSON.stringify(items)}`);
      }
      assert.ok(!items.includes('Edit Host...'), `no Edit Host for a host the settings do not hold: ${JSON.stringify(items)}`);
      await ui.closeMenus();

      // Remove Host says what it does to a command line host, then does what `config remove` does.
      await ui.contextMenu(ui.treeRow(CLI_HOST), 'Remove Host');
      const message = await waitFor('the confirmation', () => ui.dialogMessage(), 15_000);
      assert.equal(message, `Remove ${CLI_HOST} from the SSH config?`);
      await ui.clickDialogButton('Remove');
      await waitFor(`${CLI_HOST} gone`, async () => !(await row(CLI_HOST)), 30_000);
      assert.doesNotMatch(managed(), new RegExp(`cfpipe-${escapeRegExp(CLI_HOST)}\\b`), 'its entries are gone');
      assert.equal((await row(CLI_GROUP))?.description, '1 host');

      // Add to Settings: the host becomes one of the extension's, with both marks.
      await ui.contextMenu(ui.treeRow(CLI_KEEP), 'Add to Settings');
      await ui.waitNotification(new RegExp(`^${escapeRegExp(CLI_KEEP)} is now one of your Access hosts`), 30_000);
      await waitFor('the command line group gone', async () => !(await row(CLI_GROUP)), 30_000);
      assert.ok(await row(CLI_KEEP), `${CLI_KEEP} stays listed`);
      await waitFor(
        'both marks in the list',
        async () => new RegExp(`^# access-ssh-host ${escapeRegExp(CLI_KEEP)} from=cli,vscode`, 'm').test(managed()),
        30_000,
      );
      const settings = JSON.parse(readFileSync(join(wb.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
      assert.ok(JSON.stringify(settings['accessSSH.hosts']).includes(CLI_KEEP), JSON.stringify(settings['accessSSH.hosts']));
      await ui.clearNotifications();
      completed = true;
    });
  },
);
