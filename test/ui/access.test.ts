// The packaged extension in the real VS Code workbench (code-server) driven in
// Chromium, against the sandbox edge and its real sshd: a user's first session, one
// step per subtest. Screenshots of every step go to media/screenshots/ (the README's
// pictures) and test-results/ui/.
//
//   npm test -- ui                       (setup, build, package, then this)
//   node --test out/test/ui/access.test.js   (after `npm run package` and tsc)
// Env: ACCESS_SSH_UI_HEADED=1 shows the browser; ACCESS_SSH_UI_KEEP=1 keeps the temp HOME;
// ACCESS_SSH_UI_VSIX=<file> tests another package than access-ssh.vsix.
import assert from 'node:assert/strict';
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test, type TestContext } from 'node:test';
import type { Page } from 'playwright-core';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { launchBrowser, missingBrowser, spkiHash, type BrowserSession } from './browser';
import { VsCodeUi, waitFor } from './vscode-ui';
import { missingWorkbench, ROOT, startWorkbench, VSIX, type Workbench } from './workbench';

const HOST = 'ssh.sandbox.test';
const EMAIL = 'jdoe@example.com';
// Every run's pictures go to test-results/ui; a run where every step passed also
// refreshes the README's copies in media/screenshots.
const RESULTS_DIR = join(ROOT, 'test-results', 'ui');
const README_DIR = join(ROOT, 'media', 'screenshots');
const README_SHOTS = ['01-welcome', '02-host-added', '03-open-login-page', '04-login-page', '05-host-valid', '06-accounts-menu', '07-terminal-ssh', '08-signed-out', '09-connect-no-remote-ssh'];
const FAIL_DIR = RESULTS_DIR;
const SANDBOX_NAMES = [HOST, 'sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org'];

describe('Access SSH in the real workbench (code-server in Chromium)', { timeout: 20 * 60_000 }, () => {
  let sb: Sandbox | undefined;
  let wb: Workbench | undefined;
  let bs: BrowserSession | undefined;
  let ui: VsCodeUi;
  let broken: string | undefined;
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
      homeFiles: {
        // The user has accepted the server's host key before (not what is under test).
        '.ssh/known_hosts': `${sandbox.knownHostsLine ?? ''}\n`,
        'sandbox-ca.pem': readFileSync(sandbox.caFile, 'utf8'),
      },
      settings: (home) => ({
        'accessSsh.connectTo': sandbox.env.ACCESS_SSH_CONNECT_TO,
        'accessSsh.extraCaFile': join(home, 'sandbox-ca.pem'),
      }),
    });
    mark('workbench');
    const hash = await spkiHash(sandbox.port, HOST);
    bs = await launchBrowser({
      hostMap: Object.fromEntries(SANDBOX_NAMES.map((n) => [n, `127.0.0.1:${sandbox.port}`])),
      spkiHashes: [hash],
      headed: process.env.ACCESS_SSH_UI_HEADED === '1',
    });
    mark('browser');
    ui = new VsCodeUi(bs.page, [RESULTS_DIR]);
    await bs.page.goto(wb.url, { timeout: 180_000 });
    await ui.waitReady(180_000);
    mark('workbench drawn');
  });

  after(async () => {
    if (timings.length) console.log(`# startup: ${timings.join(', ')}`);
    if (!broken && completed) {
      mkdirSync(README_DIR, { recursive: true });
      for (const name of README_SHOTS) copyFileSync(join(RESULTS_DIR, `${name}.png`), join(README_DIR, `${name}.png`));
      console.log(`# README screenshots refreshed in ${README_DIR}`);
    }
    await bs?.close();
    await wb?.stop();
    await sb?.stop();
  });

  /** One step of the scenario; later steps are skipped once one fails. */
  function step(name: string, fn: (t: TestContext) => Promise<void>): void {
    test(name, { timeout: 5 * 60_000 }, async (t) => {
      if (broken) {
        t.skip(`an earlier step failed: ${broken}`);
        return;
      }
      try {
        await fn(t);
      } catch (err) {
        broken = name;
        throw await withDiagnostics(name, err);
      }
    });
  }

  async function withDiagnostics(name: string, err: unknown): Promise<Error> {
    const file = join(FAIL_DIR, `FAILED-${name.replace(/[^a-z0-9]+/gi, '-').toLowerCase()}.png`);
    const parts = [err instanceof Error ? (err.stack ?? err.message) : String(err)];
    try {
      if (bs) {
        await ui.page.screenshot({ path: file });
        parts.push(`screenshot: ${file}`);
        const notes = await ui.notifications().catch(() => []);
        if (notes.length) parts.push(`notifications: ${JSON.stringify(notes)}`);
        const dialog = await ui.dialogMessage().catch(() => undefined);
        if (dialog) parts.push(`dialog: ${dialog}`);
        parts.push(`tree: ${JSON.stringify(await ui.treeRows().catch(() => []))}`);
        for (const [i, p] of bs.context.pages().entries()) {
          if (p === ui.page) continue;
          const tab = file.replace(/\.png$/, `-tab${i}.png`);
          await p.screenshot({ path: tab }).catch(() => undefined);
          const body = await p.locator('body').innerText({ timeout: 2_000 }).catch(() => '');
          parts.push(`tab ${i}: ${p.url()} (${tab}): ${body.slice(0, 300).replace(/\s+/g, ' ')}`);
        }
      }
    } catch (e) {
      parts.push(`(no screenshot: ${(e as Error).message})`);
    }
    if (wb) parts.push(wb.logTail(40));
    if (sb) parts.push(`sandbox counters: ${JSON.stringify(sb.counters)}`);
    const out = new Error(parts.join('\n'));
    return out;
  }

  /** The host's row description, once it matches `re`. */
  async function hostDescription(re: RegExp, timeoutMs = 60_000): Promise<string> {
    return waitFor(`the ${HOST} row to say ${re}`, async () => {
      const row = (await ui.treeRows()).find((r) => r.label === HOST || r.ariaLabel.startsWith(HOST));
      return row && re.test(row.description) ? row.description : undefined;
    }, timeoutMs);
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
        const buttons = (await ui.page.locator('.monaco-dialog-box:visible .dialog-buttons .monaco-button').allTextContents()).map((b) => b.trim());
        const choice = ['Open', 'Allow', 'Sign In', 'Continue'].find((b) => buttons.includes(b));
        if (!choice) throw new Error(`unexpected dialog "${message}" with buttons ${JSON.stringify(buttons)}`);
        if (seen.length === 1) await ui.shot('03-open-login-page');
        await ui.clickDialogButton(choice);
        await ui.page.locator('.monaco-dialog-box:visible').first().waitFor({ state: 'hidden', timeout: 10_000 }).catch(() => undefined);
      }
      if (Date.now() > deadline) throw new Error(`no login tab opened within 60 s (dialogs seen: ${JSON.stringify(seen)})`);
      await new Promise((r) => setTimeout(r, 250));
    }
    return popup;
  }

  step('the Access view welcomes a new user', async () => {
    await ui.openViewContainer('Access', 120_000);
    await ui.setSidebarWidth(480);
    const text = await waitFor('the welcome content', async () => {
      const t = await ui.welcomeText();
      return /no hosts are configured/i.test(t) ? t : undefined;
    }, 120_000);
    assert.match(text, /Add Host/);
    assert.match(text, /Sign In/);
    await ui.shot('01-welcome');
  });

  step('Access: Add Host... adds the sandbox host, signed out', async () => {
    await ui.runCommand('Access: Add Host...');
    const prompt = await ui.quickInputPrompt();
    assert.match(prompt, /host name/i);
    await ui.typeInput('not a host!');
    const invalid = await waitFor('the input validation message', async () => (await ui.inputValidation()) || undefined, 10_000);
    assert.ok(invalid.length > 0);
    await ui.submitInput(HOST);
    const description = await hostDescription(/signed out/);
    assert.match(description, /signed out/);
    await ui.waitNotification(new RegExp(`Added ${HOST.replace(/\./g, '\\.')}`));
    await ui.shot('02-host-added');
  });

  step('Sign In opens the Access login in a new tab; approving it makes the host valid', async () => {
    assert.ok(bs && sb);
    const popupPromise = bs.context.waitForEvent('page', { timeout: 90_000 });
    // The notification of the previous step offers "Sign In"; the palette is the sure path.
    await ui.runCommand('Access: Sign In');
    // With one host the command may still ask which host to sign in through.
    if (await ui.page.locator('.quick-input-widget').isVisible().catch(() => false)) {
      const labels = await ui.quickPickLabels().catch(() => [] as string[]);
      const label = labels.find((l) => l.includes(HOST));
      if (label) await (await ui.quickPickRow(label)).click();
    }
    const dialogs: string[] = [];
    const login = await acceptDialogs(popupPromise, dialogs);
    await login.waitForLoadState('domcontentloaded');
    const email = login.locator('#email');
    await email.waitFor({ timeout: 30_000 });
    assert.match(new URL(login.url()).hostname, /cloudflareaccess\.com$|sandbox\.test$/);
    await email.fill(EMAIL);
    await login.screenshot({ path: join(RESULTS_DIR, '04-login-page.png') });
    await login.locator('#approve').click();
    await login.locator('#done').waitFor({ timeout: 30_000 });
    await login.screenshot({ path: join(RESULTS_DIR, '05-login-done.png') });
    await ui.page.bringToFront();
    await waitFor('the "Signed in" notification', async () => (await ui.notifications()).find((n) => /Signed in/i.test(n.message)), 60_000);
    // A certificate: either issued at sign-in, or on the first refresh.
    let description = await hostDescription(/valid for \d+:\d\d|signed in/i, 60_000);
    if (!/valid for/.test(description)) {
      await ui.inlineAction(ui.treeRow(HOST), 'Refresh Certificate');
      description = await hostDescription(/valid for \d+:\d\d/, 60_000);
    }
    assert.ok(sb.counters.approvals >= 1, 'the sandbox saw the approval');
    assert.ok(sb.counters.certSigns >= 1, 'a certificate was signed');
    // The countdown runs.
    const first = /valid for (\d+):(\d\d)/.exec(description)!;
    const later = await hostDescription(/valid for \d+:\d\d/, 10_000).then(async () => {
      await new Promise((r) => setTimeout(r, 2_500));
      return hostDescription(/valid for \d+:\d\d/, 10_000);
    });
    const second = /valid for (\d+):(\d\d)/.exec(later)!;
    const secs = (m: RegExpExecArray): number => Number(m[1]) * 60 + Number(m[2]);
    assert.ok(secs(second) < secs(first), `countdown runs: "${description}" then "${later}"`);
    assert.ok(secs(first) <= 180, 'a short-lived certificate (the sandbox issues 3 minutes)');
    console.log(`# dialogs on sign-in: ${JSON.stringify(dialogs)}`);
    await ui.clearNotifications();
    await ui.page.mouse.move(640, 700);
    await ui.shot('05-host-valid');
  });

  step('the account shows in the Accounts menu', async () => {
    const entries = await ui.openAccountsMenu();
    const account = entries.find((e) => e.includes(EMAIL));
    assert.ok(account, `Accounts menu lists ${EMAIL}: ${JSON.stringify(entries)}`);
    await ui.page.locator('.monaco-menu .action-item', { hasText: EMAIL }).first().hover();
    await new Promise((r) => setTimeout(r, 700));
    await ui.shot('06-accounts-menu');
    await ui.closeMenus();
  });

  step('Open in Terminal runs ssh through the written config and reaches the server as jdoe', async () => {
    assert.ok(wb && sb);
    const before = sb.counters.carrierAccepted;
    const items = await ui.contextMenuItems(ui.treeRow(HOST));
    assert.ok(items.includes('Open in Terminal'), `context menu: ${JSON.stringify(items)}`);
    await ui.clearNotifications();
    await ui.contextMenu(ui.treeRow(HOST), 'Open in Terminal');
    await ui.waitTerminal(new RegExp(`ssh .*cfpipe-${HOST.replace(/\./g, '\\.')}`), 60_000);
    // The remote shell's prompt (jdoe's /bin/sh), then a command typed by the user.
    await ui.waitTerminal(/\$ *$/m, 90_000);
    await waitFor('the carrier connection', async () => sb!.counters.carrierAccepted > before, 60_000);
    await ui.typeInTerminal('whoami; echo "on $(hostname) via Access"');
    const text = await ui.waitTerminal(/^jdoe\s*$/m, 60_000);
    assert.match(text, /via Access/);
    // The Include and the managed entries are in the test HOME's ssh config.
    const userConfig = readFileSync(join(wb.home, '.ssh', 'config'), 'utf8');
    assert.match(userConfig, /Include /);
    await ui.shot('07-terminal-ssh');
    await ui.typeInTerminal('exit');
  });

  step('Diagnose Connection... on the host row opens the doctor\'s report as Markdown, with Copy Report', async () => {
    assert.ok(sb);
    await ui.clearNotifications();
    const items = await ui.contextMenuItems(ui.treeRow(HOST));
    assert.ok(items.includes('Diagnose Connection...'), `context menu: ${JSON.stringify(items)}`);
    await ui.contextMenu(ui.treeRow(HOST), 'Diagnose Connection...');
    const done = new RegExp(`${HOST.replace(/\./g, '\\.')}: the whole chain works\\.`);
    const ended = await ui.waitNotification(new RegExp(`${HOST.replace(/\./g, '\\.')}: (the whole chain works|.* failed)`), 180_000);
    assert.match(ended.message, done, `the diagnosis: ${ended.message}`);
    const report = await waitFor('the report in an editor', async () => {
      const t = (await ui.page.locator('.editor-instance .monaco-editor .view-lines').first().innerText().catch(() => '')).replace(/\u00a0/g, ' ');
      return /Access SSH doctor/.test(t) ? t : undefined;
    }, 30_000);
    assert.match(report, new RegExp(`# Access SSH doctor: ${HOST.replace(/\./g, '\\.')}`));
    assert.match(report, /\| carrier \(websocket\) \| .* passed/);
    assert.doesNotMatch(report, /eyJ[\w-]{10,}\.eyJ/, 'no token in the report');
    await ui.shot('11-doctor-report');
    await ui.clickNotificationButton(done, 'Copy Report');
    await ui.waitNotification(/Copied the diagnosis report/, 30_000);
    await ui.runCommand('View: Revert and Close Editor');
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
    assert.ok(labels.some((l) => /Add host/.test(l)), `the host picker offers to add a host: ${JSON.stringify(labels)}`);
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
    await ui.shot('09-connect-no-remote-ssh');
    await ui.clearNotifications();
  });

  step('the inline Connect button offers the same; "Open ssh in Terminal" writes the ssh config and reaches the server as jdoe', async () => {
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
    await ui.waitTerminal(/\$ *$/m, 90_000);
    await ui.typeInTerminal('echo "connected-$((6*7))-$(whoami)"');
    await ui.waitTerminal(/^connected-42-jdoe\s*$/m, 60_000);
    const titles = await ui.terminalTitles();
    assert.ok(titles.some((t) => t.includes(`ssh ${HOST}`)), `a terminal named "ssh ${HOST}": ${JSON.stringify(titles)}`);
    // Our file: the alias Remote-SSH would have been given, and the renewal hook.
    const written = readFileSync(ours, 'utf8');
    assert.match(written, new RegExp(`^Host cfpipe-${HOST.replace(/\./g, '\\.')}$`, 'm'));
    assert.match(written, new RegExp(`^Match originalhost cfpipe-${HOST.replace(/\./g, '\\.')},${HOST.replace(/\./g, '\\.')} exec ".*ssh-gen --hostname ${HOST.replace(/\./g, '\\.')}.*"$`, 'm'));
    assert.match(written, /^ {2}User jdoe$/m);
    // The user's config: the one managed Include block at the top, the user's line kept below.
    const userConfig = readFileSync(userConfigFile, 'utf8');
    const block = ['# >>> Access SSH (managed) >>>', `Include "${ours}"`, '# <<< Access SSH (managed) <<<'];
    assert.ok(userConfig.startsWith(block.join('\n') + '\n'), `the Include block opens ${userConfigFile}:\n${userConfig}`);
    assert.equal(userConfig.split('# >>> Access SSH (managed) >>>').length - 1, 1, 'exactly one Include block');
    assert.ok(userConfig.endsWith(userLine), `the user's own lines are kept:\n${userConfig}`);
    await ui.typeInTerminal('exit');
  });

  step('Access: Sign Out clears the account, the tokens and the host state', async () => {
    assert.ok(wb);
    await ui.runCommand('Access: Sign Out');
    await hostDescription(/signed out/, 60_000);
    const entries = await ui.openAccountsMenu();
    assert.ok(!entries.some((e) => e.includes(EMAIL)), `Accounts menu no longer lists ${EMAIL}: ${JSON.stringify(entries)}`);
    await ui.closeMenus();
    const dir = join(wb.home, '.cloudflared');
    const tokens = existsSync(dir) ? readdirSync(dir).filter((f) => f.endsWith('-token')) : [];
    assert.deepEqual(tokens, [], 'no token files left in ~/.cloudflared');
    await ui.shot('08-signed-out');
    completed = true;
  });
});
