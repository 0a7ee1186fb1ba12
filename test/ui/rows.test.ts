// The rows of the Access SSH view at the default side bar width, in the real workbench
// (code-server in Chromium, the packaged .vsix, the sandbox edge): every row is shown
// whole — hosts with a label, a host with its own `user`, the "From the command line"
// group and its hosts, the account rows — and a commercial and a FedRAMP account of
// the same e-mail and team name are told apart, in the view and in the Accounts menu.
//
//   node --test out/test/ui/rows.test.js   (after `npm run package` and tsc)
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { renderManagedFile } from '../../src/ssh/managed-hosts';
import { hostname } from '../support/hostname';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { FEDRAMP_TEAM_NAMES, TEAM_NAMES, sandboxBrowser, sandboxHomeFiles, sandboxSettings } from './sandbox-routes';
import { missingBrowser, type BrowserSession } from './browser';
import { acceptLoginTab } from './login-tab';
import {
  escapeRegExp,
  openWorkbenchPage,
  publishScreenshots,
  type RowWidth,
  scenarioSteps,
  screenshotDiagnosis,
  type VsCodeUi,
  waitFor,
} from './vscode-ui';
import { missingWorkbench, ROOT, startWorkbench, VSIX, type Workbench } from './workbench';

const EMAIL = 'jdoe@example.com';
const HOST = 'ssh.sandbox.test';
/** An app of the FedRAMP team (sandbox.fed.cloudflareaccess.com), with a label. */
const FED = 'fed.sandbox.test';
const FED_LABEL = 'Gov box';
/** A labelled host of the commercial team. */
const WEB = 'web.sandbox.test';
const WEB_LABEL = 'Web server';
/** Hosts listed by `access-ssh config add` (one with its own user). */
const CLI_HOST = hostname('build.sandbox.test');
const CLI_KEEP = hostname('tools.sandbox.test');
const CLI_GROUP = 'From the command line';
const RESULTS_DIR = join(ROOT, 'test-results', 'ui');
const NAMES = [HOST, FED, WEB, CLI_HOST, CLI_KEEP, ...TEAM_NAMES, ...FEDRAMP_TEAM_NAMES];

const missing = missingWorkbench() ?? missingBrowser() ?? (existsSync(VSIX) ? undefined : `${VSIX} is missing: run "npm run package"`);

describe('rows: every row whole at the default side bar width; two accounts told apart', { timeout: 15 * 60_000, skip: missing }, () => {
  let sb: Sandbox | undefined;
  let wb: Workbench | undefined;
  let bs: BrowserSession | undefined;
  let ui: VsCodeUi;

  before(async () => {
    sb = await startSandbox({ autoApprove: true, fedrampHosts: [FED] });
    const sandbox = sb;
    // The managed file as `access-ssh config add` leaves it: two hosts listed from the command line.
    const managed = renderManagedFile(
      [
        { hostname: CLI_HOST, user: 'ops', from: ['cli'] },
        { hostname: CLI_KEEP, from: ['cli'] },
      ],
      { helper: '/usr/bin/false', platform: 'linux', nonInteractive: false },
    );
    wb = await startWorkbench({
      homeFiles: {
        ...sandboxHomeFiles(sandbox),
        '.ssh/access-ssh/config': managed,
      },
      settings: (home) => ({
        ...sandboxSettings(sandbox, home, NAMES),
        'accessSSH.hosts': [
          { hostname: HOST, user: 'deploy' },
          { hostname: WEB, label: WEB_LABEL },
          { hostname: FED, label: FED_LABEL, fedramp: true },
        ],
      }),
    });
    bs = await sandboxBrowser(sandbox, NAMES, HOST);
    ui = await openWorkbenchPage(bs.page, wb.url, [RESULTS_DIR]);
  });

  let completed = false;

  after(async () => {
    publishScreenshots(ROOT, RESULTS_DIR, ['22-rows', '23-rows-wide'], completed && !failed());
    await bs?.close();
    await wb?.stop();
    await sb?.stop();
  });

  const { step, failed } = scenarioSteps(
    screenshotDiagnosis(
      RESULTS_DIR,
      'rows-',
      () => ui,
      async () => [
        `notifications: ${JSON.stringify(await ui?.notifications().catch(() => []))}`,
        `rows: ${JSON.stringify(await ui.rowWidths().catch(() => []))}`,
        wb?.logTail(30) ?? '',
      ],
    ),
  );

  const isAccount = (r: RowWidth): boolean => r.label === EMAIL;

  /**
   * Every host and group row shown whole at the default width: its label and state never
   * cut; of a host with its own user only the trailing " · as <user>" may be (the side bar
   * cuts a description at its end). The account rows are logged (an e-mail and a team name
   * are the user's own lengths).
   */
  async function assertRowsWhole(when: string): Promise<RowWidth[]> {
    // At rest: a hovered or selected host row shows its inline actions over its text (as
    // every view does), so select an account row (it has none) and move the mouse away.
    if ((await ui.rowWidths()).some(isAccount)) await ui.treeRow(EMAIL).click();
    await ui.page.mouse.move(640, 700);
    await new Promise((r) => setTimeout(r, 300));
    const rows = await ui.rowWidths();
    for (const r of rows) {
      const how = r.fits ? 'whole' : r.scrollWidth - r.clientWidth <= r.tailWidth ? 'user cut' : 'CUT';
      console.log(`# ${when}: ${how} ${r.scrollWidth}/${r.clientWidth}px (tail ${r.tailWidth}px) "${r.label}" "${r.description}"`);
    }
    const cut = rows.filter((r) => !isAccount(r) && !r.fits && r.scrollWidth - r.clientWidth > r.tailWidth);
    assert.deepEqual(
      cut.map((r) => `${r.label}  ${r.description} (${r.scrollWidth}/${r.clientWidth}px)`),
      [],
      `rows whose label or state is cut at the default width (${when})`,
    );
    const plainCut = rows.filter((r) => !isAccount(r) && !r.fits && r.tailWidth === 0);
    assert.deepEqual(plainCut, [], 'a row without a user of its own is whole');
    return rows;
  }

  const row = async (label: string): Promise<RowWidth | undefined> => (await ui.rowWidths()).find((r) => r.label === label);

  step('signed out: labelled hosts, a host with its user, the command line group and its hosts are whole', async () => {
    await ui.openViewContainer('Access SSH', 120_000);
    await waitFor('every host listed', async () => (await row(CLI_KEEP)) && (await row(FED_LABEL)) && (await row(WEB_LABEL)), 60_000);
    const rows = await assertRowsWhole('signed out');
    const byLabel = new Map(rows.map((r) => [r.label, r]));
    assert.equal(byLabel.get(HOST)?.description, 'signed out · as deploy', 'the user is on the row, after the state');
    assert.equal(byLabel.get(FED_LABEL)?.description, 'signed out', "a labelled host's name is in its tooltip");
    assert.equal(byLabel.get(WEB_LABEL)?.description, 'signed out');
    assert.equal(byLabel.get(CLI_GROUP)?.description, '2 hosts');
    assert.equal(byLabel.get(CLI_HOST)?.description, 'signed out · as ops');
    assert.equal(byLabel.get(CLI_KEEP)?.description, 'signed out');
    for (const r of [FED_LABEL, WEB_LABEL, CLI_GROUP, CLI_KEEP]) assert.ok(byLabel.get(r)?.fits, `${r} whole`);
    assert.match(byLabel.get(FED_LABEL)?.ariaLabel ?? '', new RegExp(`^${FED_LABEL}, ${escapeRegExp(FED)}, signed out`));
    assert.match(byLabel.get(HOST)?.ariaLabel ?? '', new RegExp(`^${escapeRegExp(HOST)} as deploy, signed out`));
    const tip = await ui.rowTooltip(FED_LABEL);
    assert.match(tip, /^Host: fed\.sandbox\.test$/m, tip);
    await ui.closeHover();
    const group = await ui.rowTooltip(CLI_GROUP);
    assert.match(group, /^From the command line \(2 hosts\)$/m, group);
    assert.match(group, /access-ssh config add/, group);
    await ui.closeHover();
    // The hover is asked for by selecting the row with a click, which also folds or unfolds a
    // group (once or more): unfold it again from the keyboard (Right on a folded row opens it).
    await waitFor(
      'the command line group open',
      async () => {
        if (await row(CLI_KEEP)) return true;
        await ui.treeRow(CLI_GROUP).click();
        await ui.page.keyboard.press('ArrowRight');
        await new Promise((r) => setTimeout(r, 500));
        return false;
      },
      15_000,
    );
    const user = await ui.rowTooltip(HOST);
    assert.match(user, /^Logs in as: deploy$/m, user);
    await ui.closeHover();
  });

  for (const [host, label, team] of [
    [HOST, HOST, 'sandbox'],
    [FED, FED_LABEL, 'sandbox · FedRAMP'],
  ] as const) {
    step(`signed in through ${host}: the account row "${team}"; every host row whole`, async () => {
      assert.ok(bs);
      const popup = bs.context.waitForEvent('page', { timeout: 90_000 });
      await ui.inlineAction(ui.treeRow(label), 'Sign In');
      const login = await acceptLoginTab(ui, popup);
      await ui.page.bringToFront();
      await ui.waitNotification(/^Signed in as /, 90_000);
      await login.close().catch(() => undefined);
      await ui.clearNotifications();
      await waitFor(`${label} valid`, async () => /^valid for \d+:\d\d( · as \w+)?$/.test((await row(label))?.description ?? ''), 60_000);
      await waitFor(`the account row of ${team}`, async () => (await ui.rowWidths()).find((r) => isAccount(r) && r.description === team));
      await assertRowsWhole(`signed in to ${team}`);
    });
  }

  step('two teams: two account rows and two Accounts menu entries, told apart; every host row whole', async () => {
    // Same team as ssh.sandbox.test: the command line hosts are signed in too.
    await waitFor(
      'the command line hosts signed in',
      async () => /^(signed in|valid for \d+:\d\d) · as ops$/.test((await row(CLI_HOST))?.description ?? ''),
      60_000,
    );
    const rows = await assertRowsWhole('two teams');
    const accounts = rows.filter(isAccount).map((r) => r.description);
    assert.deepEqual(accounts.sort(), ['sandbox', 'sandbox · FedRAMP']);
    assert.match(rows.find((r) => r.label === HOST)?.description ?? '', /^valid for \d+:\d\d · as deploy$/);
    assert.match(rows.find((r) => r.label === FED_LABEL)?.description ?? '', /^valid for \d+:\d\d$/);
    await ui.page.mouse.move(640, 700);
    await ui.shot('22-rows');
    const entries = await ui.openAccountsMenu();
    console.log(`# Accounts menu: ${JSON.stringify(entries)}`);
    const ours = entries.filter((e) => e.includes(EMAIL));
    assert.equal(ours.length, 2, `one entry per team: ${JSON.stringify(entries)}`);
    assert.ok(
      ours.some((e) => e.includes(`${EMAIL} · sandbox · FedRAMP`)),
      JSON.stringify(ours),
    );
    assert.ok(
      ours.some((e) => e.includes(`${EMAIL} · sandbox`) && !e.includes('FedRAMP')),
      JSON.stringify(ours),
    );
    assert.ok(!ours.some((e) => /\(.*\(/.test(e)), `no parentheses inside VS Code's "(Cloudflare Access)": ${JSON.stringify(ours)}`);
    await ui.closeMenus();
  });

  step('a wider side bar shows every row whole, the users and the FedRAMP account too', async () => {
    await ui.setSidebarWidth(420);
    await waitFor(
      'every row whole',
      async () => {
        const rows = await ui.rowWidths();
        return rows.length > 0 && rows.every((r) => r.fits) ? rows : undefined;
      },
      15_000,
    ).catch(async (err: unknown) => {
      throw new Error(`${String(err)}: ${JSON.stringify(await ui.rowWidths())}`);
    });
    await ui.page.mouse.move(640, 700);
    await ui.shot('23-rows-wide');
    completed = true;
  });
});
