// The Remote-SSH hand-off, proven the way Remote-SSH uses ssh. Remote-SSH itself
// cannot be installed here, so this test plays its part with the entries the product
// writes (`access-ssh config add`, the same writer as the extension):
//
//   ssh -T -D <port> -o ConnectTimeout=15 -F <config> cfpipe-<host> bash
//
// with a script on stdin that starts a real VS Code server on the remote side (the
// code-server the UI suite installs, run by the remote Unix user jdoe, detached so it
// outlives the connection, as Remote-SSH's server does) and prints its port; the
// workbench is loaded in Chromium through the -D SOCKS forward and a file of jdoe's
// home is opened in it. Then the ssh is dropped, the short certificate left to
// expire, the same command run again (Match exec renews the certificate first) and
// the same page reconnects. Signed out, the command fails at once naming sign-in.
//
// Its screenshot is the README's "VS Code on the server, through Access": written to
// media/screenshots only with UPDATE_SCREENSHOTS=1 (else to test-results/ui).
import assert from 'node:assert/strict';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { freePort } from '../sandbox/sshd';
import { CHROMIUM, CHROMIUM_FLAGS, missingBrowser } from './browser';
import { waitFor } from './vscode-ui';
import { missingWorkbench, ROOT, runtimeFor } from './workbench';

const HOST = 'ssh.sandbox.test';
const ALIAS = `cfpipe-${HOST}`;
const HELPER = join(ROOT, 'dist', 'access-ssh.js');
const BROWSER_SH = join(ROOT, 'test', 'sandbox', 'browser.sh');
const RESULTS_DIR = join(ROOT, 'test-results', 'ui');
const SHOT = '10-remote-workbench.png';
const CERT_TTL_SECONDS = 60;

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const t = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('close', (code) => {
      clearTimeout(t);
      resolve({ code: code ?? 1, stdout, stderr });
    });
  });
}

/** `validBefore` of an OpenSSH certificate, from ssh-keygen -L. */
function certValidBefore(file: string): Date {
  const out = spawnSync('ssh-keygen', ['-L', '-f', file], { encoding: 'utf8' }).stdout;
  const m = /Valid: from (\S+) to (\S+)/.exec(out);
  assert.ok(m, `ssh-keygen -L ${file}: ${out}`);
  return new Date(m[2]!);
}

describe('Remote-SSH hand-off, played with ssh -D and a real VS Code server', { timeout: 15 * 60_000 }, () => {
  let sb: Sandbox;
  let dir: string;
  let home: string;
  let config: string;
  let env: NodeJS.ProcessEnv;
  let socksPort: number;
  let serverPort: number;
  let remoteDir: string;
  let script: string;
  let ssh: ChildProcess | undefined;
  let browser: Browser | undefined;
  let page: Page;
  let sshStdout = '';
  let sshStderr = '';

  before(async () => {
    const missing =
      missingWorkbench() ?? missingBrowser() ?? (existsSync(HELPER) ? undefined : `${HELPER} is missing: node scripts/build.mjs`);
    if (missing) throw new Error(missing);
    sb = await startSandbox({ certTtlSeconds: CERT_TTL_SECONDS });
    dir = mkdtempSync(join(tmpdir(), 'access-ssh-handoff-'));
    chmodSync(dir, 0o755);
    home = join(dir, 'home');
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    config = join(home, '.ssh', 'remote-ssh-config');
    const knownHosts = join(home, '.ssh', 'known_hosts');
    writeFileSync(knownHosts, `${sb.knownHostsLine}\n`);
    // The user's own config (remote.SSH.configFile): their known_hosts; the Access block goes on top.
    writeFileSync(config, `Host *\n  UserKnownHostsFile ${knownHosts}\n  ServerAliveInterval 15\n`, { mode: 0o600 });
    env = {
      PATH: process.env.PATH,
      HOME: home,
      LANG: 'C',
      ...sb.env,
      BROWSER: BROWSER_SH,
      FAKE_BROWSER_LOG: join(dir, 'browser.log'),
      // A certificate is renewed only when it has less than 20 s left: the one of the first
      // connection is left to expire, and the reconnect must get a new one.
      ACCESS_SSH_RENEW_MARGIN: '20',
    };
    socksPort = await freePort();
    serverPort = await freePort();

    // The VS Code server's runtime, reachable by jdoe; its state in a folder of jdoe's home.
    const rt = runtimeFor(true, dir);
    const jdoeHome = spawnSync('sh', ['-c', 'getent passwd jdoe | cut -d: -f6'], { encoding: 'utf8' }).stdout.trim();
    assert.ok(jdoeHome, 'the sandbox sshd creates jdoe');
    remoteDir = join(jdoeHome, `.access-handoff-${process.pid}`);
    const settings = JSON.stringify({
      'workbench.startupEditor': 'none',
      'workbench.tips.enabled': false,
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'security.workspace.trust.enabled': false,
      'git.enabled': false,
      'workbench.enableExperiments': false,
      'chat.disableAIFeatures': true,
      'extensions.ignoreRecommendations': true,
      'window.restoreWindows': 'none',
      'editor.minimap.enabled': false,
      'workbench.reduceMotion': 'on',
      'workbench.secondarySideBar.defaultVisibility': 'hidden',
      'workbench.colorTheme': 'Default Dark Modern',
    });
    // What Remote-SSH's script does, in short: start the server once (detached, so it
    // outlives this connection), reuse it on a reconnect, print where it listens, and keep
    // the shell open as long as the connection lives.
    script = [
      'set -e',
      `D=${remoteDir}`,
      'mkdir -p "$D/data/User" "$D/extensions" "$D/project"',
      'echo "Hello from $(whoami) on the server, through Cloudflare Access." > "$D/project/hello.txt"',
      'echo "connected at $(date +%s) as $(whoami)" >> "$D/project/connections.log"',
      'if [ -f "$D/pid" ] && kill -0 "$(cat "$D/pid")" 2>/dev/null; then',
      '  echo "reusing the server, pid $(cat "$D/pid")"',
      'else',
      `  printf '%s\\n' '${settings}' > "$D/data/User/settings.json"`,
      `  setsid nohup '${rt.node}' '${rt.entry}' --auth none --bind-addr 127.0.0.1:${serverPort} --user-data-dir "$D/data" --extensions-dir "$D/extensions" --disable-telemetry --disable-update-check --disable-workspace-trust --disable-getting-started-override --ignore-last-opened "$D/project" > "$D/server.log" 2>&1 < /dev/null &`,
      '  echo $! > "$D/pid"',
      '  echo "started the server, pid $!"',
      'fi',
      'i=0',
      `until (exec 3<>/dev/tcp/127.0.0.1/${serverPort}) 2>/dev/null; do i=$((i+1)); [ $i -lt 1800 ] || { echo "server did not listen" >&2; exit 1; }; sleep 0.1; done`,
      `echo "listeningOn==${serverPort}=="`,
      'cat > /dev/null',
      '',
    ].join('\n');
  });

  after(async () => {
    ssh?.kill('SIGKILL');
    await browser?.close().catch(() => undefined);
    // The server we started as jdoe (its own session: kill the group), then its folder.
    try {
      const pid = Number(readFileSync(join(remoteDir, 'pid'), 'utf8').trim());
      if (pid > 0) {
        try {
          process.kill(-pid, 'SIGKILL');
        } catch {
          process.kill(pid, 'SIGKILL');
        }
      }
    } catch {
      // never started
    }
    if (remoteDir) rmSync(remoteDir, { recursive: true, force: true });
    await sb?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Remote-SSH's connection command, with the script on stdin; resolves on the port marker. */
  function connect(): Promise<{ child: ChildProcess; port: number }> {
    sshStdout = '';
    sshStderr = '';
    const child = spawn('ssh', ['-T', '-D', String(socksPort), '-o', 'ConnectTimeout=15', '-F', config, ALIAS, 'bash'], {
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    child.stdin.write(script);
    // stdin stays open: the remote `cat` keeps the shell (and the forward) alive, as Remote-SSH's does.
    return new Promise((resolve, reject) => {
      const t = setTimeout(() => reject(new Error(`no listeningOn marker within 180 s\n${sshStdout}\n${sshStderr}`)), 180_000);
      child.stdout.on('data', (d: Buffer) => {
        sshStdout += d.toString();
        const m = /listeningOn==(\d+)==/.exec(sshStdout);
        if (m) {
          clearTimeout(t);
          resolve({ child, port: Number(m[1]) });
        }
      });
      child.stderr.on('data', (d: Buffer) => (sshStderr += d.toString()));
      child.on('exit', (code) => {
        clearTimeout(t);
        reject(
          new Error(
            `ssh exited with ${code} before the marker\n${sshStdout}\n${sshStderr}\n--- sshd ---\n${(sb.sshd?.log() ?? '').split('\n').slice(-8).join('\n')}`,
          ),
        );
      });
    });
  }

  /** A failing step leaves a screenshot and the remote server's log tail. */
  async function diagnose<T>(name: string, fn: () => Promise<T>): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      mkdirSync(RESULTS_DIR, { recursive: true });
      const file = join(RESULTS_DIR, `handoff-${name}.png`);
      await page?.screenshot({ path: file }).catch(() => undefined);
      const log = existsSync(join(remoteDir, 'server.log'))
        ? readFileSync(join(remoteDir, 'server.log'), 'utf8').split('\n').slice(-30).join('\n')
        : '';
      throw new Error(
        `${(err as Error).message}\nscreenshot: ${file}\n--- ssh stderr ---\n${sshStderr.slice(-2000)}\n--- remote server log ---\n${log}`,
        { cause: err },
      );
    }
  }

  async function editorText(): Promise<string> {
    // Monaco draws spaces as no-break spaces.
    return (
      await page
        .locator('.editor-group-container .monaco-editor .view-lines')
        .allTextContents()
        .catch(() => [] as string[])
    )
      .join('\n')
      .replace(/\u00a0/g, ' ');
  }

  /** Quick Open (Ctrl+P) a file by name; retried while the workbench is still (re)connecting. */
  async function quickOpen(name: string): Promise<void> {
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await waitFor(
      `Quick Open for "${name}"`,
      async () => {
        await page.keyboard.press('Escape');
        await page
          .locator('.editor-group-container')
          .first()
          .click({ position: { x: 300, y: 300 } })
          .catch(() => undefined);
        await page.keyboard.press('Control+P');
        if (!(await input.isVisible().catch(() => false))) return false;
        await input.fill(name);
        const found = await waitFor(
          `"${name}" in quick open`,
          async () =>
            (await page.locator('.quick-input-widget .monaco-list-row .label-name').allTextContents()).some((t) => t.includes(name)),
          20_000,
        ).catch(() => false);
        if (!found) return false;
        await page.keyboard.press('Enter');
        return true;
      },
      180_000,
      2_000,
    );
  }

  test('the entries the product writes: access-ssh config add into the config Remote-SSH is given', async () => {
    const login = await run(process.execPath, [HELPER, 'login', `https://${HOST}`], env);
    assert.equal(login.code, 0, login.stderr);
    const add = await run(process.execPath, [HELPER, 'config', 'add', '--hostname', HOST, '--config', config], env);
    assert.equal(add.code, 0, add.stderr);
    assert.match(add.stderr, /user jdoe/);
    assert.match(add.stderr, /the Access entries are in force/);
  });

  test('Chromium reaches the server only through the -D forward (no forward: no page)', async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: process.env.ACCESS_SSH_UI_HEADED !== '1',
      args: [
        ...CHROMIUM_FLAGS,
        // Every request, loopback included, through the SOCKS forward of ssh -D.
        `--proxy-server=socks5://127.0.0.1:${socksPort}`,
        '--proxy-bypass-list=<-loopback>',
      ],
      timeout: 60_000,
    });
    const context = await browser.newContext({
      viewport: { width: 1280, height: 800 },
      deviceScaleFactor: 1,
      locale: 'en-US',
      colorScheme: 'dark',
    });
    page = await context.newPage();
    await assert.rejects(
      page.goto(`http://127.0.0.1:${serverPort}/`, { timeout: 30_000 }),
      /ERR_PROXY_CONNECTION_FAILED|ERR_SOCKS_CONNECTION_FAILED|ERR_CONNECTION_REFUSED/,
    );
  });

  test("ssh -T -D … cfpipe-H bash starts a VS Code server as jdoe; the workbench opens a file of jdoe's home through the forward", async () => {
    const first = await connect();
    ssh = first.child;
    assert.equal(first.port, serverPort);
    assert.match(sshStdout, /started the server, pid \d+/);
    const owner = spawnSync('stat', ['-c', '%U', join(remoteDir, 'project', 'hello.txt')], { encoding: 'utf8' }).stdout.trim();
    assert.equal(owner, 'jdoe', "the remote side ran as the certificate's principal");

    await page.goto(`http://127.0.0.1:${serverPort}/?folder=${encodeURIComponent(join(remoteDir, 'project'))}`, { timeout: 180_000 });
    await page.locator('.monaco-workbench').waitFor({ timeout: 180_000 });
    await page.locator('.part.statusbar').waitFor({ timeout: 180_000 });
    await page.evaluate(() => {
      (globalThis as unknown as { accessHandoffMarker: number }).accessHandoffMarker = 42;
    });
    await diagnose('open-file', async () => {
      await quickOpen('hello.txt');
      await waitFor(
        'hello.txt in the editor',
        async () => /Hello from jdoe on the server, through Cloudflare Access\./.test(await editorText()),
        60_000,
      );
    });
    // A quiet status bar for the picture (the first start saves its settings).
    await waitFor(
      'a quiet status bar',
      async () =>
        !/Saving|Writing/.test(
          await page
            .locator('.part.statusbar')
            .innerText()
            .catch(() => ''),
        ),
      30_000,
    ).catch(() => undefined);
    const shotDir = process.env.UPDATE_SCREENSHOTS === '1' ? join(ROOT, 'media', 'screenshots') : RESULTS_DIR;
    mkdirSync(shotDir, { recursive: true });
    await page.screenshot({ path: join(shotDir, SHOT) });
  });

  test('ssh dropped, certificate expired, the same command again: the same page reconnects', async () => {
    const certFile = join(home, '.cloudflared', `${HOST}-cf_key-cert.pub`);
    const firstSerial = spawnSync('ssh-keygen', ['-L', '-f', certFile], { encoding: 'utf8' }).stdout.match(/Serial: (\d+)/)?.[1];
    ssh!.kill('SIGKILL');
    ssh = undefined;
    // The workbench notices that its connection is gone.
    await diagnose('drop', () =>
      waitFor(
        'the workbench to notice the lost connection',
        async () =>
          /reconnect|disconnected|Connection lost|Attempting/i.test(
            await page
              .locator('body')
              .innerText()
              .catch(() => ''),
          ),
        120_000,
      ),
    );
    // The certificate of the first connection is left to expire.
    const expires = certValidBefore(certFile).getTime();
    if (Date.now() < expires + 1000) await new Promise((r) => setTimeout(r, expires + 1000 - Date.now()));
    assert.ok(Date.now() > certValidBefore(certFile).getTime(), 'the certificate has expired');

    const again = await connect();
    ssh = again.child;
    assert.match(sshStdout, /reusing the server, pid \d+/);
    const serial = spawnSync('ssh-keygen', ['-L', '-f', certFile], { encoding: 'utf8' }).stdout.match(/Serial: (\d+)/)?.[1];
    assert.notEqual(serial, firstSerial, 'Match exec got a new certificate before ssh read it');
    assert.ok(certValidBefore(certFile).getTime() > Date.now(), 'the new certificate is valid');

    // The same page (not a reload) reconnects and works on the server again.
    await diagnose('reconnect', async () => {
      await waitFor(
        'the reconnect notice to go away',
        async () =>
          !/Attempting to reconnect|Reconnecting|Cannot reconnect/i.test(
            await page
              .locator('body')
              .innerText()
              .catch(() => 'Reconnecting'),
          ),
        180_000,
      );
      assert.equal(
        await page.evaluate(() => (globalThis as unknown as { accessHandoffMarker?: number }).accessHandoffMarker),
        42,
        'the same page, reconnected (not reloaded)',
      );
      await quickOpen('connections.log');
      await waitFor(
        'connections.log with two connections in the editor',
        async () => ((await editorText()).match(/as jdoe/g) ?? []).length >= 2,
        120_000,
      );
    });
  });

  test('signed out: the same command fails at once, naming sign-in, and opens no browser', async () => {
    ssh?.kill('SIGKILL');
    ssh = undefined;
    const browserLog = join(dir, 'browser.log');
    const opens = (): number => (existsSync(browserLog) ? readFileSync(browserLog, 'utf8').split('\n').filter(Boolean).length : 0);
    const opensBefore = opens();
    const cf = join(home, '.cloudflared');
    for (const f of readdirSync(cf)) rmSync(join(cf, f), { force: true });
    const r = await run('ssh', ['-T', '-D', String(socksPort), '-o', 'ConnectTimeout=15', '-F', config, ALIAS, 'bash'], env, 60_000);
    assert.notEqual(r.code, 0);
    assert.match(r.stderr, /access-ssh login https:\/\/ssh\.sandbox\.test|Access: Sign In/);
    assert.equal(opens(), opensBefore, 'no browser inside ssh');
  });
});
