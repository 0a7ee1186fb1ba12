// Hardening, second round (issue 11): the real helper against the sandbox in hostile
// modes, as a second local Unix user, on a full tmpfs, and under SIGTERM and kill -9.
// Each case names the item it shows; each fails with the code before the fix.
import { strict as assert } from 'node:assert';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  watch,
  chmodSync,
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
  statSync,
  symlinkSync,
  writeFileSync,
  openSync,
  writeSync,
  closeSync,
  ftruncateSync,
} from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import * as sshpk from 'sshpk';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { createOtherUser, otherUserMissing, type OtherUser } from '../helpers/other-user';
import { APP, delta, faultClients, HELPER, helperMissing, sleep, snapshot, type Client, type RunResult } from './harness';
import { waitFor } from '../support/wait';
import { DEBRIS_AGE_MS } from '../../src/access/lock';

const missing = helperMissing();
const posix = process.platform !== 'win32';

function cfDir(c: Client): string {
  return join(c.home, '.cloudflared');
}

/** Name → bytes of every file in ~/.cloudflared. */
function cfFiles(c: Client): Map<string, string> {
  const out = new Map<string, string>();
  const dir = cfDir(c);
  if (!existsSync(dir)) return out;
  for (const n of readdirSync(dir)) {
    try {
      out.set(n, readFileSync(join(dir, n), 'latin1'));
    } catch {
      out.set(n, '<unreadable>');
    }
  }
  return out;
}

function debris(c: Client): string[] {
  return [...cfFiles(c).keys()].filter((n) => /\.(tmp|lock|url)$/.test(n));
}

function dropAppTokens(c: Client): void {
  for (const name of readdirSync(cfDir(c))) {
    if (name.endsWith('-token') && !name.endsWith('-org-token')) rmSync(join(cfDir(c), name));
  }
}

/** Exit 1 with the cause, no stack trace, never killed by the harness. */
function assertFailed(r: RunResult, cause: RegExp): void {
  assert.doesNotMatch(r.stderr, /\[harness\] killed/, `the helper came back by itself:\n${r.stderr}`);
  assert.equal(r.code, 1, r.stderr);
  assert.match(r.stderr, cause, r.stderr);
  assert.doesNotMatch(r.stderr, /\n\s+at .*\(/, 'no stack trace');
}

/**
 * What the fast path would use is a pair that belongs together: whenever the
 * certificate certifies the `.pub` (the fast path's check), the private key is
 * that key. (The files are renamed .pub, key, certificate: a kill between two
 * renames leaves a certificate that no longer matches the .pub, which is renewed.)
 */
function assertPairConsistent(c: Client): void {
  if (!existsSync(c.keyFile) || !existsSync(c.certFile) || !existsSync(`${c.keyFile}.pub`)) return;
  const key = sshpk.parsePrivateKey(readFileSync(c.keyFile), 'pem');
  const pub = sshpk.parseKey(readFileSync(`${c.keyFile}.pub`, 'utf8'), 'ssh');
  const cert = sshpk.parseCertificate(readFileSync(c.certFile, 'utf8').trim(), 'openssh');
  if (cert.subjectKey.fingerprint('sha256').matches(pub)) {
    assert.ok(key.toPublic().fingerprint('sha256').matches(pub), 'a certificate the fast path accepts certifies the private key on disk');
  }
}

function waitExit(child: ReturnType<typeof spawn>): Promise<number | null> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) resolve(child.exitCode);
    else child.once('exit', (code) => resolve(code));
  });
}

describe('hardening (issue 11)', { skip: missing }, () => {
  let sb: Sandbox;
  const { fresh, primed, fault, removeHomes } = faultClients(() => sb, 'hard');
  const renew = (c: Client, args: string[] = [], env: NodeJS.ProcessEnv = {}): Promise<RunResult> =>
    c.helper(['ssh-gen', '--hostname', APP, ...args], { ACCESS_SSH_RENEW_MARGIN: '100000', ...env });

  before(async () => {
    sb = await startSandbox();
  });
  after(async () => {
    await sb?.stop();
    removeHomes();
  });

  // ------------------------------------------------------------------ item 1
  it('1: an app that redirects the login elsewhere never receives the org token; the exchange ends', async () => {
    const c = await primed();
    dropAppTokens(c);
    fault({ appRedirect: { redirectTo: 'foreign-login' } });
    const b = snapshot(sb);
    const r = await renew(c, ['--non-interactive']);
    assertFailed(r, /Not signed in to Cloudflare Access/);
    const d = delta(sb, b);
    assert.equal(d.appRedirects, 1, 'the exchange started');
    assert.equal(d.orgTokenLeaks, 0, 'the org token never reached the other host');
    assert.equal(d.teamLogins, 0);
    // The way back: the org token still works with the real team domain.
    sb.setOptions({ faults: null } as never);
    const ok = await renew(c, ['--non-interactive']);
    assert.equal(ok.code, 0, ok.stderr);
  });

  // ------------------------------------------------------------------ item 2
  describe('2: a ~/.cloudflared others can write, as a second local user', { skip: otherUserMissing() ?? !posix }, () => {
    let other: OtherUser;
    before(() => {
      other = createOtherUser('e2');
    });
    after(() => other?.remove());

    it("links planted by another user: refused with chmod 700 named, the owner's files untouched; after the chmod, nothing can be planted", async () => {
      const c = await primed();
      chmodSync(c.home, 0o755);
      chmodSync(cfDir(c), 0o777);
      const bashrc = join(c.home, '.bashrc');
      writeFileSync(bashrc, 'echo mine\n', { mode: 0o644 });
      for (const name of [`${APP}-cf_key.url`, `${APP}-cf_key.lock`]) {
        const r = other.run('ln', ['-s', bashrc, join(cfDir(c), name)]);
        assert.equal(r.status, 0, r.stderr);
      }
      const before = cfFiles(c);
      const opens = c.browserOpens();
      for (const args of [
        ['ssh-gen', '--hostname', APP],
        ['login', `https://${APP}`],
        ['ssh-gen', '--hostname', APP, '--non-interactive'],
      ]) {
        const r = await c.helper(args, { ACCESS_SSH_RENEW_MARGIN: '100000' });
        assertFailed(r, new RegExp(`${cfDir(c).replace(/[.]/g, '\\.')} can be written by every user \\(mode 0777\\)`));
        assert.match(r.stderr, new RegExp(`\\n {2}Run: chmod 700 "${cfDir(c)}"`));
      }
      assert.equal(readFileSync(bashrc, 'utf8'), 'echo mine\n');
      assert.equal(statSync(bashrc).mode & 0o777, 0o644);
      assert.deepEqual(cfFiles(c), before, 'nothing in the folder changed');
      assert.equal(c.browserOpens(), opens, 'no login started');

      chmodSync(cfDir(c), 0o700);
      assert.notEqual(other.run('ln', ['-s', bashrc, join(cfDir(c), 'x')]).status, 0, 'the other user can plant nothing now');
      // The planted lock link is refused, naming it; once removed, all works.
      const r = await renew(c);
      assertFailed(r, /symbolic link/);
      for (const name of [`${APP}-cf_key.url`, `${APP}-cf_key.lock`]) rmSync(join(cfDir(c), name));
      const ok = await renew(c);
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(readFileSync(bashrc, 'utf8'), 'echo mine\n');
    });
  });

  // ------------------------------------------------------------------ item 3
  for (const [what, make] of [
    ['a directory', (p: string) => mkdirSync(p)],
    ['a dangling symlink', (p: string) => symlinkSync(`${p}.nowhere`, p)],
    ['a FIFO', (p: string) => execFileSync('mkfifo', [p])],
  ] as const) {
    it(
      `3: a certificate lock that is ${what}: ssh-gen fails at once naming it (no spin, no hang, no login)`,
      { skip: !posix, timeout: 90_000 },
      async () => {
        const c = fresh();
        mkdirSync(cfDir(c), { mode: 0o700 });
        make(`${c.keyFile}.lock`);
        const b = snapshot(sb);
        const r = await c.helper(['ssh-gen', '--hostname', APP]);
        assertFailed(r, new RegExp(`Cannot use the lock ${c.keyFile.replace(/[.]/g, '\\.')}\\.lock`));
        assert.match(r.stderr, /\n {2}Remove/);
        assert.equal(delta(sb, b).metadata, 0, 'nothing sent');
        assert.equal(c.browserOpens(), 0);
      },
    );
  }

  // ------------------------------------------------------------------ item 4
  it('4: a stalled carrier handshake (routed by ACCESS_SSH_CONNECT_TO) ends with a timeout, not a hang', { timeout: 120_000 }, async () => {
    const c = await primed();
    fault({ carrier: { hang: true } });
    const r = await c.helper(['ssh', '--hostname', APP]);
    assertFailed(r, /No answer to the carrier websocket handshake from ssh\.sandbox\.test within 10s/);
  });

  it('4: the org -> app exchange has one deadline (7 s) however slow its hops; then the browser', { timeout: 120_000 }, async () => {
    const c = await primed();
    dropAppTokens(c);
    // Three hops of 3 s each: each well within the 10 s request timeout, 9 s in all.
    fault({ appRedirect: { delayMs: 3000 }, teamLogin: { delayMs: 3000 }, authorized: { delayMs: 3000 } });
    const b = snapshot(sb);
    const r = await renew(c, ['--loglevel', 'debug']);
    assert.equal(r.code, 0, r.stderr);
    // The edge may still finish the abandoned last hop; the helper no longer waits for it.
    assert.equal(delta(sb, b).approvals, 1, 'the interactive renewal gave up on the exchange and used the browser');
    assert.match(r.stderr, /failed to exchange the org token .*: Exchanging the Access login for ssh\.sandbox\.test took longer than 7s/);
  });

  it('4: a transfer answer over the size cap ends the login at once (one poll)', { timeout: 120_000 }, async () => {
    const c = fresh();
    fault({ transfer: { status: 200, body: 'A'.repeat(9 * 1024 * 1024), contentType: 'text/plain' } });
    const b = snapshot(sb);
    const r = await c.helper(['login', `https://${APP}`]);
    assertFailed(r, /The login service answered something unusable: Response from login\.cloudflareaccess\.org is larger than/);
    assert.equal(delta(sb, b).transferPolls, 1, 'not polled again');
    assert.deepEqual(debris(c), []);
  });

  it(
    '4 + 8: non-interactive ssh-gen gives up within its 8 s budget while another login holds the lock; SIGTERM cleans up that login',
    { timeout: 120_000 },
    async () => {
      const c = fresh();
      // The holder: an interactive renewal whose browser never signs in.
      const holder = spawn(process.execPath, [HELPER, 'ssh-gen', '--hostname', APP], {
        env: { ...c.env, BROWSER: '/bin/true' },
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      let holderErr = '';
      holder.stderr.on('data', (d: Buffer) => (holderErr += d.toString()));
      try {
        const urlFiles = (): string[] => [...cfFiles(c).keys()].filter((x) => x.endsWith('.url'));
        await waitFor(() => urlFiles().length >= 1 && debris(c).some((x) => x.endsWith('.lock')), {
          what: "the holder's login URL and locks",
          timeoutMs: 30_000,
        });
        const r = await c.helper(['ssh-gen', '--hostname', APP, '--non-interactive']);
        assertFailed(r, /Renewing the certificate for ssh\.sandbox\.test did not finish within 8s/);
        assert.match(r.stderr, /\n {2}Check the network connection/);

        // Item 8: SIGTERM ends the login and removes its .lock and .url files.
        assert.ok(debris(c).length >= 2, `the holder's files: ${debris(c).join(', ')}`);
        holder.kill('SIGTERM');
        assert.equal(await waitExit(holder), 143, holderErr);
        assert.deepEqual(debris(c), [], 'no .lock or .url left after SIGTERM');
      } finally {
        holder.kill('SIGKILL');
      }
    },
  );

  // ------------------------------------------------------------------ item 5
  const policyFaults: Array<['force-command' | 'source-address' | 'years' | 'forever', RegExp]> = [
    ['force-command', /refused: it carries critical options \("force-command"\) that Access does not set/],
    ['source-address', /refused: it carries critical options \("source-address"\)/],
    ['years', /refused: it is valid for 1825 days, more than the 24 h accepted/],
    ['forever', /refused: it is valid for ever, more than the 24 h accepted/],
  ];
  for (const [kind, cause] of policyFaults) {
    it(`5: cert_sign answers a certificate ${kind === 'years' || kind === 'forever' ? `valid for ${kind}` : `with ${kind}`}: refused, nothing written`, async () => {
      const c = await primed();
      const before = cfFiles(c);
      fault({ certSign: { certificate: kind } });
      const r = await renew(c);
      assertFailed(r, cause);
      assert.match(r.stderr, /Nothing was written/);
      assert.deepEqual(cfFiles(c), before);
    });
  }

  it('5: a cached certificate valid beyond the bound is renewed, not used (ACCESS_SSH_MAX_CERT_HOURS)', async () => {
    const c = fresh();
    sb.setOptions({ certTtlSeconds: 48 * 3600 });
    try {
      const r1 = await c.helper(['ssh-gen', '--hostname', APP], { ACCESS_SSH_MAX_CERT_HOURS: '72' });
      assert.equal(r1.code, 0, r1.stderr);
      const long = readFileSync(c.certFile, 'utf8');
      // The same bound again: the 48 h certificate is used as it is.
      let b = snapshot(sb);
      assert.equal((await c.helper(['ssh-gen', '--hostname', APP], { ACCESS_SSH_MAX_CERT_HOURS: '72' })).code, 0);
      assert.equal(delta(sb, b).certSigns, 0);
      sb.setOptions({ certTtlSeconds: 180 });
      b = snapshot(sb);
      const r2 = await c.helper(['ssh-gen', '--hostname', APP, '--loglevel', 'debug']);
      assert.equal(r2.code, 0, r2.stderr);
      assert.equal(delta(sb, b).certSigns, 1, 'renewed under the default 24 h bound');
      assert.match(r2.stderr, /valid for 2 days, more than the 24 h accepted/);
      assert.notEqual(readFileSync(c.certFile, 'utf8'), long);
      const bad = await c.helper(['ssh-gen', '--hostname', APP], { ACCESS_SSH_MAX_CERT_HOURS: 'ever' });
      assert.equal(bad.code, 2, bad.stderr);
      assert.match(bad.stderr, /ACCESS_SSH_MAX_CERT_HOURS must be a number of hours/);
    } finally {
      sb.setOptions({ certTtlSeconds: 180 });
    }
  });

  // ------------------------------------------------------------------ item 6
  it('6: a hostile e-mail claim reaches the terminal escaped and capped', async () => {
    const c = fresh();
    const hostile = `jdoe@example.com\u001b[2J\u001b]0;pwned\u0007\r\nINJECTED line\u202eevil\u2028${'x'.repeat(500)}`;
    fault({ approve: { email: hostile } });
    const r = await c.helper(['login', `https://${APP}`]);
    assert.equal(r.code, 0, r.stderr);
    const said = r.stderr.split('\n').find((l) => l.startsWith('Signed in to'));
    assert.ok(said, r.stderr);
    assert.match(said, /as jdoe@example\.com\\u001b\[2J\\u001b\]0;pwned\\u0007\\r\\nINJECTED line\\u202eevil\\u2028x+…;/);
    assert.ok(said.length < 400, `capped (${said.length})`);
    assert.doesNotMatch(r.stderr, /[\u0000-\u0008\u000b-\u001f\u007f\u202e\u2028]/, 'no raw control, bidi or separator');
    assert.doesNotMatch(r.stderr, /^INJECTED/m, 'no forged line');
  });

  it('6: a malformed ACCESS_SSH_CONNECT_TO is shown escaped and capped, never raw and whole', async () => {
    const c = fresh();
    const spec = `ssh.sandbox.test:443\u001b[31m:x\u202e:${'9'.repeat(5000)}:zz`;
    const r = await c.helper(['ssh-gen', '--hostname', APP], { ACCESS_SSH_CONNECT_TO: spec });
    assertFailed(r, /Invalid connect-to entry "ssh\.sandbox\.test:443\\u001b\[31m:x\\u202e:9+…"/);
    assert.doesNotMatch(r.stderr, /[\u001b\u202e]/);
    assert.ok(r.stderr.length < 1000, `capped (${r.stderr.length} characters)`);
  });

  // ------------------------------------------------------------------ item 7
  it(
    '7: ENOSPC while writing a certificate (a full tmpfs): the file named, no temp file (no private key) left, the old pair kept',
    { skip: !posix || process.getuid?.() !== 0 ? 'needs root to mount a tmpfs' : false },
    async () => {
      const c = await primed();
      const saved = join(c.home, 'saved');
      renameSync(cfDir(c), saved);
      mkdirSync(cfDir(c), { mode: 0o700 });
      execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=256k,mode=0700', 'tmpfs', cfDir(c)]);
      try {
        for (const name of readdirSync(saved)) copyFileSync(join(saved, name), join(cfDir(c), name));
        for (const name of readdirSync(saved)) chmodSync(join(cfDir(c), name), statSync(join(saved, name)).mode & 0o777);
        // Fill it, then free two pages: the lock and the first staged file fit, the key does not.
        const fd = openSync(join(cfDir(c), 'zz-filler'), 'w', 0o600);
        const page = Buffer.alloc(4096, 1);
        let size = 0;
        try {
          for (;;) {
            writeSync(fd, page);
            size += page.length;
          }
        } catch {
          // ENOSPC
        }
        ftruncateSync(fd, Math.max(0, size - 2 * 4096));
        closeSync(fd);
        const before = cfFiles(c);
        const r = await renew(c);
        assertFailed(
          r,
          new RegExp(`Cannot write ${cfDir(c).replace(/[.]/g, '\\.')}/ssh\\.sandbox\\.test-cf_key(\\.pub|-cert\\.pub)?: ENOSPC`),
        );
        assert.match(r.stderr, /\n {2}Free some space on the disk that holds/);
        assert.deepEqual(debris(c), [], 'no temp, lock or url file left');
        assert.deepEqual(cfFiles(c), before, 'the old key, certificate and tokens as they were');
        assertPairConsistent(c);
      } finally {
        spawnSync('umount', [cfDir(c)]);
      }
    },
  );

  it(
    '7: kill -9 during renewals, 20 times (12 at random moments, 8 the instant a temp file appears): the pair on disk always belongs together; the next run leaves no debris',
    { timeout: 240_000 },
    async () => {
      const c = await primed();
      let caught = 0;
      for (let i = 0; i < 20; i++) {
        const child = spawn(process.execPath, [HELPER, 'ssh-gen', '--hostname', APP], {
          env: { ...c.env, ACCESS_SSH_RENEW_MARGIN: '100000' },
          stdio: 'ignore',
        });
        if (i < 12) {
          await sleep(Math.floor(Math.random() * 900)); // the random moment of the kill, on purpose
          child.kill('SIGKILL');
        } else {
          // The moment a temp file is created (inotify), kill: real debris of a real kill -9.
          const watcher = watch(cfDir(c), (_event, name) => {
            if (typeof name === 'string' && name.endsWith('.tmp')) child.kill('SIGKILL');
          });
          await waitExit(child);
          watcher.close();
          if (debris(c).some((x) => x.endsWith('.tmp'))) caught += 1;
        }
        await waitExit(child);
        assertPairConsistent(c);
      }
      assert.ok(caught > 0, 'at least one kill left a temp file behind (the case under test)');
      // A killed holder's temp files are debris once DEBRIS_AGE_MS old (a live one lives
      // milliseconds): wait until every one left is that old.
      const tmpAge = (n: string): number => Date.now() - statSync(join(cfDir(c), n)).mtimeMs;
      await waitFor(() => debris(c).every((n) => !n.endsWith('.tmp') || tmpAge(n) > DEBRIS_AGE_MS), {
        what: `the temp files left by kill -9 to be ${DEBRIS_AGE_MS} ms old`,
      });
      const r = await renew(c);
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(debris(c), [], 'no temp, lock or url file left');
      assertPairConsistent(c);
      const s = await c.ssh(['whoami']);
      assert.equal(s.stdout.trim(), 'jdoe', s.stderr);
    },
  );

  // ------------------------------------------------------------------ item 8
  it('8: --hostname with a trailing dot: one name everywhere (files, Host, SNI)', async () => {
    const c = fresh();
    const r = await c.helper(['ssh-gen', '--hostname', `${APP}.`]);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(existsSync(c.keyFile), 'files named without the dot');
    assert.ok(![...cfFiles(c).keys()].some((x) => x.startsWith(`${APP}.-`)));
  });
});
