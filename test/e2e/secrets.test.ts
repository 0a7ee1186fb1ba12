// Secrets stay secret (issue #4, item 5): the end-to-end flows run with the most
// verbose logging (helper at debug, ssh -vvv), and no token, JWT or private key
// material may appear in any log, error message, the ssh config or any process's
// command line; tokens and keys are files (0600, directory 0700) or environment,
// never arguments; a key file that others can read is refused, as ssh does.
import { strict as assert } from 'node:assert';
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { APP, explain, helperMissing, makeClient, sleep, type Client, type RunResult } from './harness';

const missing = helperMissing();
const DEBUG = { ACCESS_SSH_LOGLEVEL: 'debug' };

/** Every secret the client holds: its tokens (whole, and each JWT part), and its private key material. */
function secrets(c: Client): string[] {
  const dir = join(c.home, '.cloudflared');
  const out: string[] = [];
  for (const n of existsSync(dir) ? readdirSync(dir) : []) {
    const text = readFileSync(join(dir, n), 'utf8').trim();
    if (/-token$/.test(n)) {
      out.push(text);
      const [, payload, sig] = text.split('.');
      out.push(payload!.slice(0, 40), sig!.slice(0, 40));
    }
    if (n.endsWith('-cf_key')) {
      // Every base64 line of the PEM body.
      for (const line of text.split('\n')) if (/^[A-Za-z0-9+/=]{40,}$/.test(line)) out.push(line);
    }
  }
  return out;
}

function assertNoSecret(where: string, text: string, secret: readonly string[]): void {
  for (const s of secret) assert.ok(!text.includes(s), `${where} holds a secret (${s.slice(0, 12)}…)`);
  assert.doesNotMatch(text, /-----BEGIN [A-Z ]*PRIVATE KEY-----\s*[A-Za-z0-9+/]/, `${where}: private key material`);
  assert.doesNotMatch(text, /eyJ[A-Za-z0-9_-]{10,}\.eyJ[A-Za-z0-9_-]{10,}\.[A-Za-z0-9_-]{10,}/, `${where}: a JWT`);
}

/** The command lines of every process on the machine, read while `during` runs. */
async function commandLinesDuring<T>(during: Promise<T>): Promise<{ result: T; lines: Set<string> }> {
  const lines = new Set<string>();
  let done = false;
  const result = during.finally(() => {
    done = true;
  });
  while (!done) {
    for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
      try {
        lines.add(readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' '));
      } catch {
        // gone
      }
    }
    await sleep(50); // the sampling interval: /proc is read until the run ends
  }
  return { result: await result, lines };
}

describe('secrets stay secret', { skip: missing || (process.platform !== 'linux' ? 'reads /proc' : false) }, () => {
  let sb: Sandbox;
  let c: Client;
  const logs: [string, string][] = [];
  const keep = (where: string, r: RunResult): RunResult => {
    logs.push([`${where} stderr`, r.stderr]);
    return r;
  };
  let cmdlines = new Set<string>();

  before(async () => {
    sb = await startSandbox();
    c = makeClient(sb, 'secrets');
  });
  after(async () => {
    await sb?.stop();
    if (c) rmSync(c.home, { recursive: true, force: true });
  });

  it(
    'the whole life of a login, at debug level and ssh -vvv: login, certificate, sessions, a refused token, renewal, a failure',
    { timeout: 300_000 },
    async () => {
      const first = await commandLinesDuring(c.ssh(['sleep', '1'], { extraArgs: ['-vvv'], env: DEBUG, timeoutMs: 120_000 }));
      cmdlines = new Set([...cmdlines, ...first.lines]);
      assert.equal(keep('first ssh -vvv', first.result).code, 0, explain(first.result, sb));
      keep('login', await c.helper(['login', `https://${APP}`, '--loglevel', 'debug']));
      keep('ssh-gen', await c.helper(['ssh-gen', '--hostname', APP], { ...DEBUG, ACCESS_SSH_RENEW_MARGIN: '100000' }));
      sb.revokeAllTokens('app');
      const again = await commandLinesDuring(c.ssh(['true'], { extraArgs: ['-vvv'], env: DEBUG, timeoutMs: 120_000 }));
      cmdlines = new Set([...cmdlines, ...again.lines]);
      assert.equal(keep('ssh after revocation', again.result).code, 0, explain(again.result, sb));
      keep('ssh-config', await c.helper(['ssh-config', '--hostname', APP, '--short-lived-cert', '--loglevel', 'debug']));
      sb.revokeAllTokens('all');
      const failing = keep(
        'refused token, non-interactive',
        await c.helper(['ssh', '--hostname', APP, '--non-interactive', '--loglevel', 'debug']),
      );
      assert.equal(failing.code, 1);
      keep('usage error', await c.helper(['ssh', '--hostname', 'bad host', '--loglevel', 'debug']));

      const secret = secrets(c);
      assert.ok(secret.length >= 4, 'there are secrets to look for');
      for (const [where, text] of logs) assertNoSecret(where, text, secret);
      assert.ok(
        logs.some(([, t]) => /debug:/.test(t)),
        'the debug log was on',
      );
      assertNoSecret('ssh config', readFileSync(c.config, 'utf8'), secret);
      for (const line of cmdlines) assertNoSecret(`command line ${JSON.stringify(line.slice(0, 80))}`, line, secret);
      assert.ok(
        [...cmdlines].some((l) => l.includes('access-ssh.js ssh --hostname')),
        "the helper's command line was seen",
      );
    },
  );

  it('tokens and keys are files, 0600, in a 0700 directory', () => {
    const dir = join(c.home, '.cloudflared');
    assert.equal(statSync(dir).mode & 0o777, 0o700);
    const names = readdirSync(dir);
    assert.ok(names.some((n) => /-org-token$/.test(n)) && names.some((n) => n.endsWith('-cf_key')));
    for (const n of names) {
      const mode = statSync(join(dir, n)).mode & 0o777;
      if (n.endsWith('-cf_key.pub')) continue; // a public key
      assert.equal(mode, 0o600, `${n} is ${mode.toString(8)}`);
    }
  });

  it('a private key that others can read is refused, as ssh refuses it, naming the file and the fix', async () => {
    const key = join(c.home, '.cloudflared', `${APP}-cf_key`);
    const before = readFileSync(key, 'utf8');
    chmodSync(key, 0o644);
    try {
      const r = await c.helper(['ssh-gen', '--hostname', APP]);
      assert.equal(r.code, 1, r.stderr);
      assert.match(r.stderr, new RegExp(`${key.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      assert.match(r.stderr, /chmod 600/);
      assertNoSecret('refusal', r.stderr, secrets(c));
      assert.equal(readFileSync(key, 'utf8'), before, 'the key is not touched');
      assert.equal(statSync(key).mode & 0o777, 0o644, "nor its mode: that is the user's call");
    } finally {
      chmodSync(key, 0o600);
    }
  });
});
