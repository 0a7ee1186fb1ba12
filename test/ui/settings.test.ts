// The settings in the real Settings editor (code-server in Chromium), issue 9 finding 8:
// every setting reads right ("Access SSH: Extra CA File", not "Access Ssh: Extra Ca
// File"), and a user who set the old keys (`accessSsh.*`) finds the values under the
// new ones after the extension starts: moved once, the old keys gone, a log line each.
// No edge is needed.
//
//   node --test out/test/ui/settings.test.js   (after `npm run package` and tsc)
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe } from 'node:test';
import { launchBrowser, missingBrowser, type BrowserSession } from './browser';
import { openWorkbenchPage, publishScreenshots, scenarioSteps, screenshotDiagnosis, type VsCodeUi, waitFor } from './vscode-ui';
import { extensionLogOf, missingWorkbench, ROOT, startWorkbench, VSIX, type Workbench } from './workbench';

const RESULTS_DIR = join(ROOT, 'test-results', 'ui');
const HOST = 'ssh.example.invalid';

/** What the user had set under the old names. */
const OLD = {
  'accessSsh.hosts': [{ hostname: HOST, label: 'Build box' }],
  'accessSsh.loginTimeoutSeconds': 45,
  'accessSsh.extraCaFile': '~/corp-ca.pem',
  'accessSsh.useCloudflared': false,
};

const missing = missingWorkbench() ?? missingBrowser() ?? (existsSync(VSIX) ? undefined : `${VSIX} is missing: run "npm run package"`);

describe('Settings: names that read right, old keys moved once', { timeout: 10 * 60_000, skip: missing }, () => {
  let wb: Workbench | undefined;
  let bs: BrowserSession | undefined;
  let ui: VsCodeUi;

  before(async () => {
    wb = await startWorkbench({ settings: OLD });
    bs = await launchBrowser({});
    ui = await openWorkbenchPage(bs.page, wb.url, [RESULTS_DIR]);
  });

  let completed = false;

  after(async () => {
    publishScreenshots(ROOT, RESULTS_DIR, ['18-settings-remote'], completed && !failed());
    await bs?.close();
    await wb?.stop();
  });

  const extensionLog = (): string => (wb ? extensionLogOf(wb.userDataDir) : '');

  const { step, failed } = scenarioSteps(
    screenshotDiagnosis(
      RESULTS_DIR,
      'settings-',
      () => ui,
      async () => [wb?.logTail(30) ?? ''],
    ),
  );

  step('on activation the old keys move to the new ones, once, each with a log line', async () => {
    assert.ok(wb);
    await ui.openViewContainer('Access SSH', 120_000);
    // The host moved: the view lists it under its label.
    await waitFor('the moved host in the view', async () => (await ui.treeRows()).find((r) => r.label === 'Build box'), 60_000);
    const log = await waitFor(
      'the migration log lines',
      async () => {
        const l = extensionLog();
        return /Moved the user setting accessSsh\.extraCaFile to accessSSH\.extraCAFile/.test(l) ? l : undefined;
      },
      60_000,
    );
    for (const [from, to] of [
      ['accessSsh.hosts', 'accessSSH.hosts'],
      ['accessSsh.loginTimeoutSeconds', 'accessSSH.loginTimeoutSeconds'],
      ['accessSsh.extraCaFile', 'accessSSH.extraCAFile'],
      ['accessSsh.useCloudflared', 'accessSSH.useCloudflared'],
    ] as const) {
      assert.equal(log.split(`Moved the user setting ${from} to ${to}`).length - 1, 1, `one line for ${from}:\n${log}`);
    }
    // code-server's window is a remote one: application settings live in User/settings.json,
    // machine settings in Machine/settings.json; each moved in its own file.
    const user = JSON.parse(readFileSync(join(wb.userDataDir, 'User', 'settings.json'), 'utf8')) as Record<string, unknown>;
    const machine = JSON.parse(readFileSync(join(wb.userDataDir, 'Machine', 'settings.json'), 'utf8')) as Record<string, unknown>;
    assert.deepEqual(user['accessSSH.hosts'], OLD['accessSsh.hosts']);
    assert.equal(user['accessSSH.loginTimeoutSeconds'], 45);
    assert.equal(user['accessSsh.hosts'], undefined, 'the old key is removed');
    assert.equal(user['accessSsh.loginTimeoutSeconds'], undefined, 'the old key is removed');
    assert.equal(machine['accessSSH.extraCAFile'], '~/corp-ca.pem');
    assert.equal(machine['accessSSH.useCloudflared'], false);
    assert.equal(machine['accessSsh.extraCaFile'], undefined, 'the old key is removed');
    assert.equal(machine['accessSsh.useCloudflared'], undefined, 'the old key is removed');
    // A machine setting is never written to the User file (the window ignores it there).
    assert.equal(user['accessSSH.extraCAFile'], undefined);
  });

  step('the Settings editor shows every setting as "Access SSH: …", acronyms spelled right; the old names are hidden', async () => {
    const query = '@ext:access-ssh.access-ssh';
    const ours = (e: { key: string }[]): boolean => e.length > 0 && e.every((x) => /^access/i.test(x.key));
    // A remote window (code-server's): application settings under User, machine settings under Remote.
    const user = await ui.settingsEditor(query, ours);
    await ui.page.mouse.move(640, 700);
    await ui.shot('17-settings-user');
    const remote = await ui.settingsTab(/^Remote/, query, (e) => ours(e) && e.some((x) => /CA File/.test(x.title)));
    await ui.page.mouse.move(640, 700);
    await ui.shot('18-settings-remote');
    const entries = [...user, ...remote];
    console.log(`# Settings editor: ${JSON.stringify(entries.map((e) => e.title))}`);
    assert.deepEqual([...new Set(entries.map((e) => e.title))].sort(), [
      'Access SSH: Cloudflared Path',
      'Access SSH: Config File',
      'Access SSH: Extra CA File',
      'Access SSH: Hosts',
      'Access SSH: Login Timeout Seconds',
      'Access SSH: Renewal Margin Seconds',
      'Access SSH: Use Cloudflared',
    ]);
    assert.ok(
      entries.every((e) => e.key.startsWith('accessSSH.')),
      `only the new keys are listed (the old ones, once moved, are hidden): ${JSON.stringify(entries.map((e) => e.key))}`,
    );
    completed = true;
  });
});
