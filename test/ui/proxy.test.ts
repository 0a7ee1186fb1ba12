// The packaged extension in the real workbench (code-server in Chromium) behind a
// corporate proxy (issue 8, item 1): the sandbox edge is reachable only through squid
// (test/sandbox/proxied.ts), and the only route the extension is given is the user
// setting `http.proxy` (with Basic credentials). The workspace's own `http.proxy`
// points at a dead port and must be ignored. Sign-in (in process) and a terminal ssh
// (the helper, through its launcher) both reach the edge through squid; the proxy
// password appears in no log.
//
//   node --test out/test/ui/proxy.test.js   (after `npm run package` and tsc; as root)
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, type Dirent } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import type { Page } from 'playwright-core';
import { proxiedMissing, PROXY_PASSWORD, PROXY_USER, startProxiedSandbox, type ProxiedSandbox } from '../sandbox/proxied';
import { squidMissing } from '../sandbox/squid';
import { launchBrowser, missingBrowser, spkiHash, type BrowserSession } from './browser';
import { openWorkbenchPage, scenarioSteps, screenshotDiagnosis, type VsCodeUi, waitFor } from './vscode-ui';
import { missingWorkbench, ROOT, startWorkbench, VSIX, type Workbench } from './workbench';

const HOST = 'ssh.sandbox.test';
const EMAIL = 'jdoe@example.com';
const RESULTS_DIR = join(ROOT, 'test-results', 'ui-proxy');
const NAMES = [HOST, 'sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org'];
const SECRETS = [PROXY_PASSWORD, encodeURIComponent(PROXY_PASSWORD), Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64')];

const missing =
  missingWorkbench() ??
  missingBrowser() ??
  squidMissing() ??
  proxiedMissing() ??
  (existsSync(VSIX) ? undefined : `${VSIX} is missing: run "npm run package"`);

describe('the extension behind a proxy given only by http.proxy', { timeout: 15 * 60_000, skip: missing }, () => {
  let px: ProxiedSandbox | undefined;
  let wb: Workbench | undefined;
  let bs: BrowserSession | undefined;
  let ui: VsCodeUi;

  before(async () => {
    mkdirSync(RESULTS_DIR, { recursive: true });
    px = await startProxiedSandbox({ autoApprove: false });
    const sandbox = px;
    wb = await startWorkbench({
      homeFiles: {
        '.ssh/known_hosts': `${sandbox.sb.knownHostsLine ?? ''}\n`,
        'sandbox-ca.pem': readFileSync(sandbox.sb.caFile, 'utf8'),
        // A repository that tries to send the user's traffic to a proxy of its own.
        'project/.vscode/settings.json': JSON.stringify({ 'http.proxy': 'http://127.0.0.1:9', 'http.noProxy': ['*'] }),
      },
      settings: (home) => ({
        'http.proxy': sandbox.proxyUrl,
        'accessSSH.extraCAFile': join(home, 'sandbox-ca.pem'),
        'accessSSH.hosts': [HOST],
      }),
    });
    // The user's browser reaches the login pages (it is not what is under test).
    const hash = await spkiHash(443, HOST, sandbox.address);
    bs = await launchBrowser({ hostMap: Object.fromEntries(NAMES.map((n) => [n, `${sandbox.address}:443`])), spkiHashes: [hash] });
    ui = await openWorkbenchPage(bs.page, wb.url, [RESULTS_DIR]);
  });

  after(async () => {
    await bs?.close();
    await wb?.stop();
    await px?.stop();
  });

  const { step } = scenarioSteps(
    screenshotDiagnosis(
      RESULTS_DIR,
      '',
      () => ui,
      async () => [
        `notifications: ${JSON.stringify(await ui?.notifications().catch(() => []))}`,
        wb?.logTail(40) ?? '',
        `squid: ${px?.squid.accessLog().slice(-2000) ?? ''}`,
      ],
    ),
  );

  const connects = (): string[] =>
    px
      ? px.squid
          .accessLog()
          .split('\n')
          .filter((l) => / CONNECT /.test(l))
      : [];
  const tunnelled = (name: string): boolean =>
    connects().some((l) => l.includes(` CONNECT ${name}:443 ${PROXY_USER} `) && l.includes('TCP_TUNNEL/200'));

  step('Sign In: the extension reaches discovery, login and cert_sign through squid', async () => {
    assert.ok(bs && px);
    await ui.openViewContainer('Access', 120_000);
    await waitFor(
      `the ${HOST} row`,
      async () => (await ui.treeRows()).find((r) => r.label === HOST || r.ariaLabel.startsWith(HOST)),
      60_000,
    );
    const popupPromise = bs.context.waitForEvent('page', { timeout: 90_000 });
    await ui.runCommand('Access: Sign In');
    if (
      await ui.page
        .locator('.quick-input-widget')
        .isVisible()
        .catch(() => false)
    ) {
      const label = (await ui.quickPickLabels().catch(() => [] as string[])).find((l) => l.includes(HOST));
      if (label) await (await ui.quickPickRow(label)).click();
    }
    let popup: Page | undefined;
    void popupPromise.then((p) => (popup = p));
    await waitFor(
      'the login tab',
      async () => {
        const message = await ui.dialogMessage().catch(() => undefined);
        if (message) {
          const buttons = (await ui.page.locator('.monaco-dialog-box:visible .dialog-buttons .monaco-button').allTextContents()).map((b) =>
            b.trim(),
          );
          const choice = ['Open', 'Allow', 'Sign In', 'Continue'].find((b) => buttons.includes(b));
          if (choice) await ui.clickDialogButton(choice);
        }
        return popup;
      },
      90_000,
    );
    const login = popup!;
    await login.waitForLoadState('domcontentloaded');
    await login.locator('#email').waitFor({ timeout: 30_000 });
    await login.locator('#email').fill(EMAIL);
    await login.locator('#approve').click();
    await login.locator('#done').waitFor({ timeout: 30_000 });
    await ui.page.bringToFront();
    await waitFor(
      'the host to turn valid',
      async () => {
        const row = (await ui.treeRows()).find((r) => r.label === HOST || r.ariaLabel.startsWith(HOST));
        if (row && /signed in/i.test(row.description) && !/valid for/.test(row.description))
          await ui.inlineAction(ui.treeRow(HOST), 'Refresh Certificate').catch(() => undefined);
        return row && /valid for \d+:\d\d/.test(row.description) ? row : undefined;
      },
      120_000,
    );
    assert.ok(px.sb.counters.approvals >= 1 && px.sb.counters.certSigns >= 1, JSON.stringify(px.sb.counters));
    // Discovery (app host), JWKS and cert_sign (team domain), the transfer poll: all through squid with our user.
    for (const name of NAMES) assert.ok(tunnelled(name), `squid tunnelled ${name}:443 for ${PROXY_USER}:\n${connects().join('\n')}`);
    assert.ok(!/127\.0\.0\.1:9\b/.test(wb?.logTail(400) ?? ''), 'the workspace proxy was never tried');
    await ui.shot('proxy-host-valid');
  });

  step('a terminal ssh runs the helper through the launcher, which carries http.proxy', async () => {
    assert.ok(wb && px);
    const before = px.sb.counters.carrierAccepted;
    const beforeLines = connects().length;
    // Under load the context menu may open late: try it again before giving up.
    for (let attempt = 1; ; attempt++) {
      try {
        await ui.contextMenu(ui.treeRow(HOST), 'Open in Terminal');
        break;
      } catch (err) {
        if (attempt === 3) throw err;
        await ui.page.keyboard.press('Escape');
      }
    }
    await waitFor('the carrier connection', async () => px!.sb.counters.carrierAccepted > before, 60_000);
    await ui.waitRemotePrompt();
    await ui.typeInTerminal('echo "proxied-$((6*7))-$(whoami)"');
    await ui.waitTerminal(/^(?:\$ )?proxied-42-jdoe\s*$/m, 60_000);
    await ui.typeInTerminal('exit');
    await waitFor(
      'squid to log the websocket tunnel',
      async () =>
        connects()
          .slice(beforeLines)
          .some((l) => l.includes(` CONNECT ${HOST}:443 ${PROXY_USER} `)) || undefined,
      30_000,
    );
    // The launcher: the proxy in its environment (0700), never in ssh_config's command lines.
    const launchers = findFiles(wb.home, (p) => /\/bin\/access-ssh$/.test(p));
    assert.equal(launchers.length, 1, JSON.stringify(launchers));
    const launcher = launchers[0]!;
    assert.equal(statSync(launcher).mode & 0o777, 0o700);
    assert.match(readFileSync(launcher, 'utf8'), /^HTTPS_PROXY='http:\/\/jdoe-proxy:.*@127\.0\.0\.1:\d+'$/m);
    assert.doesNotMatch(readFileSync(launcher, 'utf8'), /127\.0\.0\.1:9\b/, 'not the workspace proxy');
    const config = readFileSync(join(wb.home, '.ssh', 'access-ssh', 'config'), 'utf8');
    for (const s of SECRETS) assert.ok(!config.includes(s), 'no credential in ssh_config');
  });

  step('the proxy password is in no file but the settings and the launcher', async () => {
    assert.ok(wb);
    // The editor's own settings store and its copies (local history, cached configuration), and our launcher.
    const allowed = (p: string): boolean =>
      /\/(User|Machine)\/settings\.json$/.test(p) ||
      /\/User\/History\//.test(p) ||
      /\/User\/caches\/CachedConfigurations\//.test(p) ||
      /\/bin\/access-ssh$/.test(p);
    const leaks = findFiles(wb.home, (p) => !allowed(p) && !p.includes('/extensions/') && !p.includes('/CachedData/') && fileHas(p));
    assert.deepEqual(leaks, []);
    for (const s of SECRETS) assert.ok(!wb.logTail(5000).includes(s), "no credential in code-server's output or the extension host log");
  });
});

function findFiles(dir: string, pick: (path: string) => boolean, out: string[] = []): string[] {
  let entries: Dirent[];
  try {
    entries = readdirSync(dir, { withFileTypes: true });
  } catch {
    return out;
  }
  for (const e of entries) {
    const p = join(dir, e.name);
    if (e.isDirectory()) findFiles(p, pick, out);
    else if (e.isFile() && pick(p)) out.push(p);
  }
  return out;
}

function fileHas(path: string): boolean {
  try {
    if (statSync(path).size > 20 * 1024 * 1024) return false;
    const text = readFileSync(path).toString('latin1');
    return SECRETS.some((s) => text.includes(s));
  } catch {
    return false;
  }
}
