// A plain `ssh <host>` in a terminal while signed out, through the entries the
// extension writes and its launcher: one message (not the helper's error twice, not
// ssh's "kex_exchange_identification" after it), and a next step the user can run:
// the command it names signs in, and the same ssh then works.
import { strict as assert } from 'node:assert';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { renderLauncher } from '../../src/ssh/launcher';
import { renderEntries } from '../../src/ssh/entries';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { APP, BROWSER_SH, HELPER, explain, helperMissing, runProcess } from './harness';
import { sshArgs } from '../support/ssh-args';

describe('plain ssh through the written entries while signed out', { skip: helperMissing() }, () => {
  let sb: Sandbox;
  let home: string;

  before(async () => {
    sb = await startSandbox();
    home = mkdtempSync(join(tmpdir(), 'access-ssh-e2e-signed-out-'));
  });
  after(async () => {
    await sb?.stop();
    if (home) rmSync(home, { recursive: true, force: true });
  });

  it('prints one message naming a sign-in command that works', async () => {
    mkdirSync(join(home, '.ssh'), { recursive: true, mode: 0o700 });
    // The launcher as the extension writes it (runtime + helper + routing), in a path with a space.
    const launcherDir = join(home, 'global storage');
    mkdirSync(launcherDir, { recursive: true });
    const launcher = join(launcherDir, 'access-ssh');
    const l = renderLauncher({ platform: process.platform, execPath: process.execPath, script: HELPER, env: { ...sb.env } });
    writeFileSync(launcher, l.content, { mode: 0o700 });
    chmodSync(launcher, 0o700);
    const config = join(home, '.ssh', 'config');
    writeFileSync(
      config,
      renderEntries([{ hostname: APP, user: 'jdoe' }], {
        helper: launcher,
        platform: process.platform,
        nonInteractive: true,
        keyDir: join(home, '.cloudflared'),
      }),
      { mode: 0o600 },
    );
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: home,
      LANG: 'C',
      BROWSER: BROWSER_SH,
      FAKE_BROWSER_LOG: join(home, 'browser.log'),
    };
    const ssh = (): ReturnType<typeof runProcess> =>
      runProcess(
        'ssh',
        sshArgs({
          config,
          knownHosts: join(home, '.ssh', 'known_hosts'),
          strictHostKeyChecking: 'accept-new',
          destination: APP,
          command: ['whoami'],
        }),
        env,
      );

    const r = await ssh();
    assert.equal(r.code, 255, explain(r, sb));
    const lines = r.stderr.trim().split('\n');
    assert.equal(lines.length, 2, `one message of two lines:\n${r.stderr}`);
    assert.equal(lines[0], `access-ssh: Not signed in to Cloudflare Access for ${APP}`);
    assert.equal(lines[1], `  Sign in with "Access: Sign In" in VS Code, or run: '${launcher}' login https://${APP}`);
    assert.doesNotMatch(r.stderr, /kex_exchange_identification|Connection closed|UNKNOWN port/);
    assert.equal(sb.counters.certSigns, 0);

    // The named command runs as printed (here through sh, as a user's shell would), and signs in.
    const login = await runProcess('sh', ['-c', lines[1].replace(/^.*or run: /, '')], env);
    assert.equal(login.code, 0, login.stderr);
    const again = await ssh();
    assert.equal(again.code, 0, explain(again, sb));
    assert.equal(again.stdout.trim(), 'jdoe');
  });
});
