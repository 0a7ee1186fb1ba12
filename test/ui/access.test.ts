// The packaged extension in the real VS Code workbench (code-server) driven in
// Chromium, against the sandbox edge and its real sshd: a user's first session, one
// step per subtest, walking the ten findings of issue 9. Screenshots of every step go to
// test-results/ui/ (untracked); with UPDATE_SCREENSHOTS=1, a run where every step passed
// also copies them to media/screenshots/ (the README's pictures). `npm test` never
// rewrites tracked files.
//
//   npm test -- ui                       (setup, build, package, then this)
//   node --test out/test/ui/access.test.js   (after `npm run package` and tsc)
// Env: ACCESS_SSH_UI_HEADED=1 shows the browser; ACCESS_SSH_UI_KEEP=1 keeps the temp HOME;
// ACCESS_SSH_UI_VSIX=<file> tests another package than access-ssh.vsix.
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { TEAM_NAMES, sandboxBrowser, sandboxHomeFiles, sandboxSettings } from './sandbox-routes';
import { missingBrowser, type BrowserSession } from './browser';
import {
  failedShotPath,
  openWorkbenchPage,
  publishScreenshots,
  scenarioSteps,
  screenshotDiagnosis,
  type VsCodeUi,
  waitFor,
} from './vscode-ui';
import { extensionLogOf, missingWorkbench, ROOT, startWorkbench, VSIX, type Workbench } from './workbench';

const HOST = 'ssh.sandbox.test';
/** A second application of the same team. */
const SECOND = 'build.sandbox.test';
const EMAIL = 'jdoe@example.com';
// Every run's pictures go to test-results/ui; with UPDATE_SCREENSHOTS=1 a run where every
// step passed also refreshes the README's copies in media/screenshots (publishScreenshots).
const RESULTS_DIR = join(ROOT, 'test-results', 'ui');
const README_SHOTS = [
  '01-welcome',
  '02-accounts-sign-in-request',
  '03-add-unknown-host',
  '04-add-not-access',
  '05-host-added',
  '06-signing-in',
  '07-sign-in-timed-out',
  '08-login-page',
  '09-signed-in',
  '10-host-valid',
  '11-accounts-menu',
  '12-terminal-ssh',
  '13-connect-no-remote-ssh',
  '14-remove-host',
  '15-signed-out',
  '16-ssh-signed-out',
];
const SANDBOX_NAMES = [HOST, SECOND, 'sandbox.test', ...TEAM_NAMES];

describe('Access SSH in the real workbench (code-server in Chromium)', { timeout: 20 * 60_000 }, () => {
  let sb: Sandbox | undefined;
  let wb: Workbench | undefined;
  let bs: BrowserSession | undefined;
  let ui: VsCodeUi;
  let completed = false;
  const timings: string[] = [];

  before(async () => {
    const vsix = process.env.ACCESS_SSH_UI_VSIX ?? VSIX;
    const missing = missingWorkbench() ?? missingBrowser() ?? (existsSync(vsix) ? undefined : `${vsix} is missing: run "npm run package"`);
    if (missing) throw new Error(missing);
    const t0 = Date.now();
    const mark = (what: string): void => void timings.push(`${what} ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    // The login page shows its form: the test plays the user who approves it.
    sb = await startSandbox({ autoApprove: false });
    mark('sandbox');
    const sandbox = sb;
    wb = await startWorkbench({
      vsix,
      keep: process.env.ACCESS_SSH_UI_KEEP === '1',
      homeFiles: sandboxHomeFiles(sandbox),
      settings: (home) => ({
        ...sandboxSettings(sandbox, home, SANDBOX_NAMES),
        // Short enough for the timeout step, long enough for a user who approves.
        'accessSSH.loginTimeoutSeconds': 30,
      }),
    });
    mark('workbench');
    bs = await sandboxBrowser(sandbox, SANDBOX_NAMES, HOST, { headed: process.env.ACCESS_SSH_UI_HEADED === '1' });
    mark('browser');
    ui = await openWorkbenchPage(bs.page, wb.url, [RESULTS_DIR]);
    mark('workbench drawn');
  });

  after(async () => {
    if (timings.length) console.log(`# startup: ${timings.join(', ')}`);
    publishScreenshots(ROOT, RESULTS_DIR, README_SHOTS, completed && !failed());
    await bs?.close();
    await wb?.stop();
    await sb?.stop();
  });

  /** The extension's "Access SSH" log (its output channel's file). */
  function extensionLog(): string {
    assert.ok(wb);
    return extensionLogOf(wb.userDataDir);
  }

  /** One step of the scenario; later steps are skipped once one fails. */
  const { step, failed } = scenarioSteps(
    screenshotDiagnosis(
      RESULTS_DIR,
      '',
      () => (bs ? ui : undefined),
      async (name) => {
        const parts: string[] = [];
        if (bs) {
          const notes = await ui.notifications().catch(() => []);
          if (notes.length) parts.push(`notifications: ${JSON.stringify(notes)}`);
          const dialog = await ui.dialogMessage().catch(() => undefined);
          if (dialog) parts.push(`dialog: ${dialog}`);
          parts.push(`tree: ${JSON.stringify(await ui.treeRows().catch(() => []))}`);
          // The login tabs too: a sign-in step fails as often in the browser as in the workbench.
          for (const [i, p] of bs.context.pages().entries()) {
            if (p === ui.page) continue;
            const tab = failedShotPath(RESULTS_DIR, '', `${name}-tab${i}`);
            await p.screenshot({ path: tab }).catch(() => undefined);
            const body = await p
              .locator('body')
              .innerText({ timeout: 2_000 })
              .catch(() => '');
            parts.push(`tab ${i}: ${p.url()} (${tab}): ${body.slice(0, 300).replace(/\s+/g, ' ')}`);
          }
        }
        if (wb) parts.push(wb.logTail(40));
        if (sb) parts.push(`sandbox counters: ${JSON.stringify(sb.counters)}`);
        return parts;
      },
    ),
  );

  /** The host's row description, once it matches `re`. */
  async function hostDescription(re: RegExp, timeoutMs = 60_000): Promise<string> {
    return waitFor(
      `the ${HOST} row to say ${re}`,
      async () => {
        const row = (await ui.treeRows()).find((r) => r.label === HOST || r.ariaLabel.startsWith(HOST));
        return row && re.test(row.description) ? row.description : undefined;
      },
      timeoutMs,
    );
  }

  /** Accepts the workbench's own modal questions (open a website, let the extension sign in). */
  async function acceptDialogs(untilPopup: Promise<Page>, seen: string[]): Promise<Page> {
    let popup: Page | undefined;
    void untilPopup.then((p) => (popup = p));
    const deadline = Date.now() + 60_000;
    while (!popup) {
      const message = await ui.dialogMessage().catch(() => undefined);
      if (message) {
        seen.push(message);
        const buttons = (await ui.page.locator('.monaco-dialog-box:visible .dialog-buttons .monaco-button').allTextContents()).map((b) =>
          b.trim(),
        );
        const choice = ['Open', 'Allow', 'Sign In', 'Continue'].find((b) => buttons.includes(b));
        if (!choice) throw new Error(`unexpected dialog "${message}" with buttons ${JSON.stringify(buttons)}`);
        if (seen.length === 1) await ui.shot('open-login-page');
        await ui.clickDialogButton(choice);
        await ui.page
          .locator('.monaco-dialog-box:visible')
          .first()
          .waitFor({ state: 'hidden', timeout: 10_000 })
          .catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`no login tab opened within 60 s (dialogs seen: ${JSON.stringify(seen)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return popup;
  }

  step('a new user: the view "Access SSH: Hosts" welcomes, at the default sidebar width', async () => {
    await ui.openViewContainer('Access SSH', 120_000);
    const text = await waitFor(
      'the welcome content',
      async () => {
        const t = await ui.welcomeText();
        return /no hosts are configured/i.test(t) ? t : undefined;
      },
      120_000,
    );
    assert.match(text, /Add Host/);
    assert.match(text, /Sign In/);
    const title = await ui.sidebarTitle();
    assert.match(title, /^ACCESS SSH: HOSTS$/i, `the view title: "${title}"`);
    await ui.page.mouse.move(640, 700);
    await new Promise((r) => setTimeout(r, 500));
    await ui.shot('01-welcome');
  });

  step('finding 7: the installed details page is the user README, its pictures absolute links into the repository', async () => {
    assert.ok(wb);
    const dir = readdirSync(wb.extensionsDir).find((d) => d.startsWith('access-ssh.access-ssh-'));
    assert.ok(dir, `the extension is installed in ${wb.extensionsDir}`);
    const readme = readFileSync(join(wb.extensionsDir, dir, 'readme.md'), 'utf8');
    assert.doesNotMatch(readme, /npm (ci|test|start)|sandbox/i, 'talks to users, not developers');
    const repo = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { repository: { url: string } }).repository.url.replace(
      /\.git$/,
      '',
    );
    const images = [...readme.matchAll(/!\[[^\]]*\]\(([^)\s]+)\)/g)].map((m) => m[1]!);
    assert.ok(images.length >= 5, `pictures: ${JSON.stringify(images)}`);
    for (const src of images) {
      assert.ok(src.startsWith(`${repo}/raw/HEAD/media/screenshots/`), `absolute link into the repository: ${src}`);
      assert.ok(existsSync(join(ROOT, src.slice(`${repo}/raw/HEAD/`.length))), `the picture exists in the repository: ${src}`);
    }
  });

  step('finding 6: the Accounts menu offers "Sign in with Cloudflare Access to use Access SSH" before sign-in', async () => {
    const entries = await waitFor(
      'the sign-in request in the Accounts menu',
      async () => {
        const e = await ui.openAccountsMenu();
        if (e.some((x) => /Sign in with Cloudflare Access to use Access SSH/.test(x))) return e;
        await ui.closeMenus();
        return undefined;
      },
      60_000,
    );
    console.log(`# Accounts menu before sign-in: ${JSON.stringify(entries)}`);
    assert.equal(await ui.accountsBadge(), '1', 'the Accounts icon counts the one sign-in request');
    await ui.page.locator('.monaco-menu .action-item', { hasText: 'Sign in with Cloudflare Access' }).first().hover();
    await new Promise((r) => setTimeout(r, 500));
    await ui.shot('02-accounts-sign-in-request');
    await ui.closeMenus();
  });

  step('findings 2 and 3: Add Host checks the host; an unknown and a non-Access host are refused with "Edit Host"', async () => {
    await ui.runCommand('Access: Add Host...');
    const prompt = await ui.quickInputPrompt();
    assert.match(prompt, /host name/i);
    await ui.typeInput('not a host!');
    const invalid = await waitFor('the input validation message', async () => (await ui.inputValidation()) || undefined, 10_000);
    assert.ok(invalid.length > 0);
    // A name that does not resolve (the sandbox routes only its own names).
    await ui.submitInput('example.invalid');
    const unknown = await ui.waitNotification(/Cannot add example\.invalid/, 60_000);
    assert.equal(unknown.message, 'Cannot add example.invalid: The host name example.invalid does not resolve.');
    assert.deepEqual(unknown.buttons, ['Edit Host'], 'the one button that fits: Edit Host');
    assert.deepEqual(await ui.treeRows(), [], 'nothing was added');
    await ui.page.mouse.move(640, 700);
    await ui.shot('03-add-unknown-host');
    // Edit Host gives the name back to correct: a host the edge serves that is no Access application.
    await ui.clickNotificationButton(/Cannot add example\.invalid/, 'Edit Host');
    await ui.submitInput('sandbox.test');
    const plain = await ui.waitNotification(/Cannot add sandbox\.test/, 60_000);
    assert.equal(plain.message, 'Cannot add sandbox.test: sandbox.test is not an application protected by Cloudflare Access.');
    assert.deepEqual(plain.buttons, ['Edit Host']);
    assert.equal((await ui.notifications()).filter((n) => /Cannot add/.test(n.message)).length, 1, 'one notification at a time');
    await ui.page.mouse.move(640, 700);
    await ui.shot('04-add-not-access');
    await ui.clickNotificationButton(/Cannot add sandbox\.test/, 'Edit Host');
    await ui.submitInput(HOST);
    const added = await ui.waitNotification(new RegExp(`^Added ${HOST.replace(/\./g, '\\.')}`), 60_000);
    assert.equal(added.message, `Added ${HOST}, an Access application of team sandbox. Sign in to connect.`);
    assert.deepEqual(added.buttons, ['Sign In']);
    const description = await hostDescription(/^signed out$/);
    assert.equal(description, 'signed out');
    await ui.page.mouse.move(640, 700);
    await ui.shot('05-host-added');
    await ui.clearNotifications();
  });

  /** Starts Sign In from the palette and accepts the workbench's "open website" dialog; the login tab. */
  async function startSignIn(): Promise<Page> {
    assert.ok(bs);
    const popupPromise = bs.context.waitForEvent('page', { timeout: 90_000 });
    await ui.runCommand('Access: Sign In');
    const login = await acceptDialogs(popupPromise, []);
    await login.waitForLoadState('domcontentloaded');
    await login.locator('#email').waitFor({ timeout: 30_000 });
    return login;
  }

  const SIGNING_IN = /^Signing in to Cloudflare Access: complete the login in your browser\./;

  step('finding 1: signing in shows one notification; Cancel leaves nothing behind, and the login page no longer signs in', async () => {
    assert.ok(sb);
    const login = await startSignIn();
    await ui.page.bringToFront();
    const notes = await waitFor(
      'the sign-in progress',
      async () => {
        const n = await ui.notifications();
        return n.some((x) => SIGNING_IN.test(x.message)) ? n : undefined;
      },
      30_000,
    );
    assert.equal(notes.length, 1, `one notification while signing in: ${JSON.stringify(notes)}`);
    assert.deepEqual(notes[0]!.buttons, ['Cancel']);
    assert.equal(await hostDescription(/signing in/), 'signing in…');
    await ui.page.mouse.move(640, 700);
    await ui.shot('06-signing-in');
    await ui.clickNotificationButton(SIGNING_IN, 'Cancel');
    await hostDescription(/^signed out$/, 30_000);
    await waitFor('no notification after Cancel', async () => (await ui.notifications()).length === 0, 15_000);
    // The user approves the page anyway: the tokens go to a login nobody waits for any more.
    const before = sb.counters.transferDeliveries;
    await login.bringToFront();
    await login.locator('#email').fill(EMAIL);
    await login.locator('#approve').click();
    await login.locator('#done').waitFor({ timeout: 30_000 });
    await login.close();
    await ui.page.bringToFront();
    await new Promise((r) => setTimeout(r, 3_000));
    assert.equal(sb.counters.transferDeliveries, before, 'no sign-in was completed after the cancel');
    assert.equal(await hostDescription(/./), 'signed out');
    assert.deepEqual(await ui.notifications(), [], 'no notification appeared');
    assert.match(extensionLog(), /Sign-in through ssh\.sandbox\.test cancelled/);
  });

  step('findings 1 and 10: declining to open the login page is said and logged as such; Copy Login Link gives the link', async () => {
    await ui.runCommand('Access: Sign In');
    const message = await waitFor('the workbench\'s "open the website?" question', () => ui.dialogMessage(), 30_000);
    assert.ok((await ui.dialogButtons()).includes('Cancel'), `buttons: ${JSON.stringify(await ui.dialogButtons())} for "${message}"`);
    await ui.clickDialogButton('Cancel');
    const note = await ui.waitNotification(/The browser was not opened/, 30_000);
    assert.match(
      note.message,
      /^Signing in to Cloudflare Access: complete the login in your browser\..*The browser was not opened: use "Copy Login Link" in the Access view\.$/s,
    );
    assert.equal((await ui.notifications()).length, 1, 'still one notification');
    await ui.runCommand('Access: Copy Login Link');
    await waitFor(
      '"Login link copied" in the status bar',
      async () => (await ui.statusBarTexts()).find((t) => /Login link copied/.test(t)),
      15_000,
    );
    await ui.clickNotificationButton(SIGNING_IN, 'Cancel');
    await hostDescription(/^signed out$/, 30_000);
    const log = extensionLog();
    assert.match(log, /The login page was not opened: the prompt to open it was declined/);
    assert.doesNotMatch(log, /could not be opened/);
    assert.match(log, /Copied the login link of the sign-in through ssh\.sandbox\.test/);
  });

  step('findings 1 and 3: a sign-in that times out says so on one line, offers Sign In, and stays on the row', async () => {
    // The suite's login timeout is 30 s (settings below): the user here never approves.
    const login = await startSignIn();
    await ui.page.bringToFront();
    const note = await ui.waitNotification(/^Sign-in failed/, 60_000);
    assert.equal(note.message, `Sign-in failed: The browser login for ${HOST} was not completed in time.`);
    assert.deepEqual(note.buttons, ['Sign In']);
    assert.equal((await ui.notifications()).length, 1, 'the progress is gone; one notification');
    assert.equal(await hostDescription(/timed out/), 'sign-in timed out');
    await ui.page.mouse.move(640, 700);
    await ui.shot('07-sign-in-timed-out');
    await login.close();
  });

  step(
    "Sign In (the timeout's own button) and approving the login: one notification, the host valid, its text whole at the default width",
    async () => {
      assert.ok(bs && sb);
      const popupPromise = bs.context.waitForEvent('page', { timeout: 90_000 });
      await ui.clickNotificationButton(/^Sign-in failed/, 'Sign In');
      const dialogs: string[] = [];
      const login = await acceptDialogs(popupPromise, dialogs);
      await login.waitForLoadState('domcontentloaded');
      const email = login.locator('#email');
      await email.waitFor({ timeout: 30_000 });
      assert.match(new URL(login.url()).hostname, /sandbox\.test$/);
      await email.fill(EMAIL);
      await login.screenshot({ path: join(RESULTS_DIR, '08-login-page.png') });
      await login.locator('#approve').click();
      await login.locator('#done').waitFor({ timeout: 30_000 });
      await login.close();
      await ui.page.bringToFront();
      const signedIn = await ui.waitNotification(/^Signed in/, 60_000);
      assert.equal(signedIn.message, `Signed in as ${EMAIL} (team sandbox).`);
      await new Promise((r) => setTimeout(r, 1_000));
      const notes = await ui.notifications();
      assert.equal(notes.length, 1, `one notification after sign-in: ${JSON.stringify(notes)}`);
      const description = await hostDescription(/^valid for \d+:\d\d$/, 60_000);
      assert.ok(sb.counters.certSigns >= 1, 'a certificate was signed');
      const fit = await ui.rowFits(HOST);
      assert.ok(fit.fits, `"${HOST} ${description}" is shown whole at the default sidebar width (${fit.scrollWidth} > ${fit.clientWidth})`);
      // The countdown runs.
      await new Promise((r) => setTimeout(r, 2_500));
      const later = await hostDescription(/^valid for \d+:\d\d$/, 10_000);
      const secs = (t: string): number => {
        const m = /(\d+):(\d\d)/.exec(t)!;
        return Number(m[1]) * 60 + Number(m[2]);
      };
      assert.ok(secs(later) < secs(description), `countdown runs: "${description}" then "${later}"`);
      assert.ok(secs(description) <= 180, 'a short-lived certificate (the sandbox issues 3 minutes)');
      // The Accounts menu's sign-in request is answered: its "1" badge is gone.
      await waitFor('the Accounts badge to clear after sign-in', async () => (await ui.accountsBadge()) === '', 15_000);
      // Who is signed in, and for how long: the first row.
      const account = (await ui.treeRows())[0];
      assert.equal(account?.label, EMAIL, `the account row: ${JSON.stringify(account)}`);
      assert.equal(account.description, 'sandbox');
      assert.ok((await ui.rowFits(EMAIL)).fits, 'the account row is shown whole');
      await ui.shot('09-signed-in');
      await ui.clearNotifications();
      await ui.page.mouse.move(640, 700);
      await ui.shot('10-host-valid');
    },
  );

  step('finding 5: a second host of the same team shows signed in at once', async () => {
    await ui.runCommand('Access: Add Host...');
    await ui.submitInput(SECOND);
    const added = await ui.waitNotification(new RegExp(`^Added ${SECOND.replace(/\./g, '\\.')}`), 60_000);
    assert.deepEqual(added.buttons, ['Connect']);
    const d = await waitFor(`the ${SECOND} row`, async () => (await ui.treeRows()).find((r) => r.label === SECOND)?.description, 30_000);
    assert.equal(d, 'signed in');
    await ui.clearNotifications();
  });

  step('the account shows in the Accounts menu', async () => {
    const entries = await ui.openAccountsMenu();
    const account = entries.find((e) => e.includes(EMAIL));
    assert.ok(account, `Accounts menu lists ${EMAIL}: ${JSON.stringify(entries)}`);
    assert.ok(!entries.some((e) => /Sign in with Cloudflare Access/.test(e)), `no sign-in request left: ${JSON.stringify(entries)}`);
    assert.equal(await ui.accountsBadge(), '', 'no badge on the Accounts icon');
    await ui.page.locator('.monaco-menu .action-item', { hasText: EMAIL }).first().hover();
    await new Promise((r) => setTimeout(r, 700));
    await ui.shot('11-accounts-menu');
    await ui.closeMenus();
  });

  step('finding 9: Sign In while signed in says who; Refresh on a valid certificate says so', async () => {
    await ui.runCommand('Access: Sign In');
    const who = await ui.waitNotification(/^You are signed in/, 30_000);
    assert.match(
      who.message,
      new RegExp(`^You are signed in to Cloudflare Access as ${EMAIL.replace(/\./g, '\\.')} \\(team sandbox, \\S+ \\S+ left\\)\\.$`),
    );
    assert.deepEqual(who.buttons, ['Sign In Again']);
    await ui.clearNotifications();
    await ui.inlineAction(ui.treeRow(HOST), 'Refresh Certificate');
    // (Not the progress "Getting an SSH certificate for …" that may come first: what Refresh says when done.)
    const said = await ui.waitNotification(
      new RegExp(
        `^(The certificate for ${HOST.replace(/\./g, '\\.')} is still valid for \\d+:\\d\\d; it is renewed when less than 1:00 is left\\.|New certificate for ${HOST.replace(/\./g, '\\.')}, valid for \\d+:\\d\\d\\.)$`,
      ),
      30_000,
    );
    assert.ok(said);
    await ui.clearNotifications();
  });

  step('Open in Terminal runs ssh through the written config and reaches the server as jdoe', async () => {
    assert.ok(wb && sb);
    const before = sb.counters.carrierAccepted;
    const items = await ui.contextMenuItems(ui.treeRow(HOST));
    assert.ok(items.includes('Open in Terminal'), `context menu: ${JSON.stringify(items)}`);
    assert.ok(items.includes('Copy SSH Command'), `context menu: ${JSON.stringify(items)}`);
    assert.ok(!items.includes('Sign In'), `a signed-in host offers no Sign In: ${JSON.stringify(items)}`);
    await ui.clearNotifications();
    await ui.contextMenu(ui.treeRow(HOST), 'Open in Terminal');
    await ui.waitTerminal(new RegExp(`ssh .*cfpipe-${HOST.replace(/\./g, '\\.')}`), 60_000);
    await waitFor('the carrier connection', async () => sb!.counters.carrierAccepted > before, 60_000);
    await ui.waitRemotePrompt();
    await ui.typeInTerminal('whoami; echo "on $(hostname) via Access"');
    const text = await ui.waitTerminal(/^(?:\$ )?jdoe\s*$/m, 60_000);
    assert.match(text, /via Access/);
    const userConfig = readFileSync(join(wb.home, '.ssh', 'config'), 'utf8');
    assert.match(userConfig, /Include /);
    await ui.shot('12-terminal-ssh');
    await ui.typeInTerminal('exit');
  });

  step("Diagnose Connection... on the host row opens the doctor's report as Markdown, with Copy Report", async () => {
    assert.ok(sb);
    await ui.clearNotifications();
    const items = await ui.contextMenuItems(ui.treeRow(HOST));
    assert.ok(items.includes('Diagnose Connection...'), `context menu: ${JSON.stringify(items)}`);
    await ui.contextMenu(ui.treeRow(HOST), 'Diagnose Connection...');
    const done = new RegExp(`${HOST.replace(/\./g, '\\.')}: the whole chain works\\.`);
    const ended = await ui.waitNotification(new RegExp(`${HOST.replace(/\./g, '\\.')}: (the whole chain works|.* failed)`), 180_000);
    assert.match(ended.message, done, `the diagnosis: ${ended.message}`);
    const report = await waitFor(
      'the report in an editor',
      async () => {
        const t = (
          await ui.page
            .locator('.editor-instance .monaco-editor .view-lines')
            .first()
            .innerText()
            .catch(() => '')
        ).replace(/\u00a0/g, ' ');
        return /Access SSH doctor/.test(t) ? t : undefined;
      },
      30_000,
    );
    assert.match(report, new RegExp(`# Access SSH doctor: ${HOST.replace(/\./g, '\\.')}`));
    assert.match(report, /^\| carrier \(websocket\) \| passed \| \d+ ms \|$/m);
    assert.doesNotMatch(report, /eyJ[\w-]{10,}\.eyJ/, 'no token in the report');
    await ui.shot('11-doctor-report');
    // A read-only document named after the host: not "Untitled-1", never dirty, closed without a question.
    const tab = ui.page.locator('.tabs-container .tab.active').first();
    const title = (await tab.innerText()).replace(/\s+/g, '');
    assert.ok(title.includes(`${HOST}.md`), `the tab is named after the host: ${title}`);
    assert.ok(!/\bdirty\b/.test((await tab.getAttribute('class')) ?? ''), 'the report is not a dirty editor');
    await ui.clickNotificationButton(done, 'Copy Report');
    await ui.waitNotification(/Copied the diagnosis report/, 30_000);
    await ui.runCommand('View: Close Editor');
    await new Promise((r) => setTimeout(r, 1000));
    assert.equal(await ui.dialogMessage().catch(() => undefined), undefined, 'closing asks nothing');
  });

  // No Remote-SSH can be installed here (no marketplace): the hand-off's own answer to
  // that is what a user without it sees.
  const NO_REMOTE_SSH = new RegExp(`No Remote-SSH that can use Access certificates is installed to open ${HOST.replace(/\./g, '\\.')}`);
  const TERMINAL_FALLBACK = 'Open ssh in Terminal';

  step('Connect via Access without a Remote-SSH that can use certificates offers ssh in a terminal', async () => {
    await ui.runCommand('Terminal: Kill All Terminals');
    await ui.clearNotifications();
    await ui.runCommand('Access: Connect via Access');
    const labels = await ui.quickPickLabels();
    const label = labels.find((l) => l.includes(HOST));
    assert.ok(label, `the host picker lists ${HOST}: ${JSON.stringify(labels)}`);
    assert.ok(
      labels.some((l) => /Add host/.test(l)),
      `the host picker offers to add a host: ${JSON.stringify(labels)}`,
    );
    await (await ui.quickPickRow(label)).click();
    const note = await ui.waitNotification(NO_REMOTE_SSH, 30_000);
    // code-server's own Remote-SSH (by env.appName) is Open Remote - SSH, whose ssh2
    // client ignores certificates: the terminal is offered, an install is not.
    assert.match(note.message, /this editor's Open Remote - SSH has its own SSH client/);
    assert.match(note.message, /Open ssh in a terminal instead/);
    assert.deepEqual(note.buttons, [TERMINAL_FALLBACK], `only the terminal fallback is offered: ${JSON.stringify(note.buttons)}`);
    // Nothing was handed off: this window is still the local one, no terminal was opened.
    assert.deepEqual(await ui.terminalTitles(), [], 'no terminal opened before the user chose one');
    console.log(`# no Remote-SSH: "${note.message}" ${JSON.stringify(note.buttons)}`);
    await ui.page.mouse.move(640, 700);
    await ui.shot('13-connect-no-remote-ssh');
    await ui.clearNotifications();
  });

  step(
    'the inline Connect button offers the same; "Open ssh in Terminal" writes the ssh config and reaches the server as jdoe',
    async () => {
      assert.ok(wb && sb);
      // What the hand-off writes, from nothing: our file gone, the Include block taken
      // out of the user's ssh config (which gets a line of the user's own).
      const ours = join(wb.home, '.ssh', 'access-ssh', 'config');
      const userConfigFile = join(wb.home, '.ssh', 'config');
      rmSync(ours, { force: true });
      const userLine = 'Host *\n  ServerAliveInterval 30\n';
      writeFileSync(userConfigFile, userLine);
      const before = sb.counters.carrierAccepted;
      await ui.inlineAction(ui.treeRow(HOST), 'Connect via Access');
      const note = await ui.waitNotification(NO_REMOTE_SSH, 30_000);
      assert.ok(note.buttons.includes(TERMINAL_FALLBACK), `the terminal fallback is offered: ${JSON.stringify(note.buttons)}`);
      await ui.clickNotificationButton(NO_REMOTE_SSH, TERMINAL_FALLBACK);
      await ui.waitTerminal(new RegExp(`ssh .*cfpipe-${HOST.replace(/\./g, '\\.')}`), 60_000);
      await waitFor('the carrier connection', async () => sb!.counters.carrierAccepted > before, 90_000);
      await ui.waitRemotePrompt();
      await ui.typeInTerminal('echo "connected-$((6*7))-$(whoami)"');
      await ui.waitTerminal(/^(?:\$ )?connected-42-jdoe\s*$/m, 60_000);
      const titles = await ui.terminalTitles();
      assert.ok(
        titles.some((t) => t.includes(`ssh ${HOST}`)),
        `a terminal named "ssh ${HOST}": ${JSON.stringify(titles)}`,
      );
      // Our file: the alias Remote-SSH would have been given, and the renewal hook.
      const written = readFileSync(ours, 'utf8');
      assert.match(written, new RegExp(`^Host cfpipe-${HOST.replace(/\./g, '\\.')}$`, 'm'));
      assert.match(
        written,
        new RegExp(
          `^Match originalhost cfpipe-${HOST.replace(/\./g, '\\.')},${HOST.replace(/\./g, '\\.')} !exec ".*ssh-gen --hostname ${HOST.replace(/\./g, '\\.')}.*"$`,
          'm',
        ),
      );
      assert.match(written, /^ {2}User jdoe$/m);
      // The user's config: the one managed Include block at the top, the user's line kept below.
      const userConfig = readFileSync(userConfigFile, 'utf8');
      const block = ['# >>> Access SSH (managed) >>>', `Include "${ours}"`, '# <<< Access SSH (managed) <<<'];
      assert.ok(userConfig.startsWith(block.join('\n') + '\n'), `the Include block opens ${userConfigFile}:\n${userConfig}`);
      assert.equal(userConfig.split('# >>> Access SSH (managed) >>>').length - 1, 1, 'exactly one Include block');
      assert.ok(userConfig.endsWith(userLine), `the user's own lines are kept:\n${userConfig}`);
      await ui.typeInTerminal('exit');
    },
  );

  step("finding 9: Remove Host asks first, then deletes the host's key and certificate", async () => {
    assert.ok(wb);
    const dir = join(wb.home, '.cloudflared');
    const files = (): string[] => (existsSync(dir) ? readdirSync(dir).filter((f) => f.startsWith(`${SECOND}-cf_key`)) : []);
    // A certificate for the second host first, so that there is something to delete.
    await ui.inlineAction(ui.treeRow(SECOND), 'Refresh Certificate');
    await ui.waitNotification(new RegExp(`^(New certificate for|The certificate for) ${SECOND.replace(/\./g, '\\.')}`), 60_000);
    await ui.clearNotifications();
    assert.equal(files().length, 3, `key, public key and certificate of ${SECOND}: ${JSON.stringify(files())}`);
    await ui.contextMenu(ui.treeRow(SECOND), 'Remove Host');
    const message = await waitFor('the confirmation', () => ui.dialogMessage(), 15_000);
    assert.match(message, new RegExp(`Remove ${SECOND.replace(/\./g, '\\.')} from your Access hosts\\?`));
    assert.ok((await ui.dialogButtons()).includes('Remove'));
    await ui.shot('14-remove-host');
    await ui.clickDialogButton('Remove');
    await waitFor(`${SECOND} gone from the view`, async () => !(await ui.treeRows()).some((r) => r.label === SECOND), 30_000);
    assert.deepEqual(files(), [], 'its key and certificate are deleted');
  });

  step('Access: Sign Out clears the account, the tokens and the host state', async () => {
    assert.ok(wb);
    await ui.runCommand('Access: Sign Out');
    await hostDescription(/^signed out$/, 60_000);
    const entries = await ui.openAccountsMenu();
    assert.ok(!entries.some((e) => e.includes(EMAIL)), `Accounts menu no longer lists ${EMAIL}: ${JSON.stringify(entries)}`);
    await ui.closeMenus();
    // Signed out: the sign-in request (and its badge) is back.
    await waitFor('the Accounts sign-in request after sign-out', async () => (await ui.accountsBadge()) === '1', 30_000);
    const dir = join(wb.home, '.cloudflared');
    const tokens = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-token')) : [];
    assert.deepEqual(tokens, [], 'no token files left in ~/.cloudflared');
    await ui.clearNotifications();
    await ui.shot('15-signed-out');
  });

  step('finding 4: plain ssh signed out prints one message with a sign-in command that runs', async () => {
    await ui.runCommand('Terminal: Kill All Terminals');
    await ui.runCommand('Terminal: Create New Terminal');
    await ui.waitTerminal(/\$ *$/m, 60_000);
    await ui.typeInTerminal(`clear; ssh ${HOST} whoami; echo "exit=$?"`);
    const text = await ui.waitTerminal(/^exit=\d+\s*$/m, 90_000);
    // `clear` ran first: what the terminal shows is what ssh printed (and our exit line).
    const out = text;
    assert.equal(out.split('Not signed in').length - 1, 1, `one message:\n${out}`);
    assert.match(out, new RegExp(`access-ssh: Not signed in to Cloudflare Access for ${HOST.replace(/\./g, '\\.')}`));
    // (joined: the terminal wraps the long line)
    assert.match(
      out.replace(/\n/g, ''),
      /Sign in with "Access: Sign In" in VS Code, or run: '?\/\S+\/access-ssh'? login https:\/\/ssh\.sandbox\.test/,
    );
    assert.doesNotMatch(out, /kex_exchange_identification|Connection closed|UNKNOWN port/);
    assert.match(out, /^exit=255\s*$/m);
    await ui.shot('16-ssh-signed-out');
    completed = true;
  });

  step('finding 10: the log has one line per renewal, one time format, and the cancel', async () => {
    assert.ok(sb);
    const log = extensionLog();
    const renewals = log.split('\n').filter((l) => /Renewed the certificate for/.test(l));
    assert.ok(renewals.length >= 1, 'renewals are logged');
    assert.ok(
      renewals.length <= sb.counters.certSigns,
      `one line per renewal (${renewals.length} lines, ${sb.counters.certSigns} certificates signed)`,
    );
    for (const l of renewals) assert.match(l, /valid until \d\d:\d\d:\d\d for jdoe$/, l);
    assert.doesNotMatch(log.replace(/^\S+ \S+ /gm, ''), /\d{4}-\d\d-\d\dT\d\d:\d\d/, 'no ISO times inside the messages');
  });
});
