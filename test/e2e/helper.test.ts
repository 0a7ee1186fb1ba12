// End to end: the real ssh runs the access-ssh helper (Match exec ssh-gen, ProxyCommand
// ssh) against the sandbox edge and a real sshd; $BROWSER is the fake browser.
import { strict as assert } from 'node:assert';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import * as sshpk from 'sshpk';
import { APP, delta, explain, helperMissing, makeClient, runProcess, snapshot, type Client } from './harness';
import { waitFor } from '../support/wait';
import { sshArgs } from '../support/ssh-args';

const missing = helperMissing();
const SERVICE = { clientId: 'e2e-client.access', clientSecret: 'e2e-secret-0123456789' };

describe('access-ssh as ssh ProxyCommand against the sandbox', { skip: missing }, () => {
  let sb: Sandbox;
  const homes: string[] = [];
  const client = (name: string, opts?: Parameters<typeof makeClient>[2]): Client => {
    const c = makeClient(sb, name, opts);
    homes.push(c.home);
    return c;
  };

  before(async () => {
    sb = await startSandbox({ serviceTokens: [SERVICE] });
  });
  after(async () => {
    await sb?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  /** `exp` of the one app token in ~/.cloudflared (seconds). */
  function appTokenExpiry(c: Client): number {
    const dir = join(c.home, '.cloudflared');
    const names = readdirSync(dir).filter((n) => n.endsWith('-token') && !n.endsWith('-org-token'));
    assert.equal(names.length, 1, names.join(', '));
    const payload = readFileSync(join(dir, names[0]!), 'utf8').trim().split('.')[1] ?? '';
    return (JSON.parse(Buffer.from(payload, 'base64url').toString()) as { exp: number }).exp;
  }

  function certSerial(c: Client): Promise<string> {
    return runProcess('ssh-keygen', ['-L', '-f', c.certFile], c.env).then((r) => r.stdout.match(/Serial: (\d+)/)?.[1] ?? '');
  }

  it('first connection: one login via $BROWSER, one certificate, whoami = jdoe; second reuses both', async () => {
    const c = client('first');
    const b = snapshot(sb);
    const r = await c.ssh();
    assert.equal(r.code, 0, explain(r, sb));
    assert.equal(r.stdout.trim(), 'jdoe');
    const d = delta(sb, b);
    assert.equal(d.approvals, 1, 'one login');
    assert.equal(d.loginPage, 1);
    assert.equal(c.browserOpens(), 1, 'the browser was opened once');
    assert.equal(d.certSigns, 1, 'one certificate');
    assert.equal(d.transferDeliveries, 1);
    assert.equal(d.carrierAccepted, 1);
    const serial = await certSerial(c);
    assert.equal(serial, String(sb.counters.lastSerial));
    const cert = await runProcess('ssh-keygen', ['-L', '-f', c.certFile], c.env);
    assert.match(cert.stdout, /Principals: \n\s+jdoe\n/);

    const b2 = snapshot(sb);
    const r2 = await c.ssh();
    assert.equal(r2.code, 0, explain(r2, sb));
    assert.equal(r2.stdout.trim(), 'jdoe');
    const d2 = delta(sb, b2);
    assert.equal(d2.certSigns, 0, 'cached certificate reused');
    assert.equal(d2.approvals + d2.loginPage, 0, 'no login');
    assert.equal(d2.exchanges, 0);
    assert.equal(d2.carrierAccepted, 1);
    assert.equal(c.browserOpens(), 1);
    assert.equal(await certSerial(c), serial);
  });

  it('expired certificate: renewed without a new login', async () => {
    const c = client('certexp');
    // A 4-second certificate from ssh-gen alone (the login happens here), left to expire.
    sb.setOptions({ certTtlSeconds: 4 });
    try {
      const g = await c.helper(['ssh-gen', '--hostname', APP]);
      assert.equal(g.code, 0, g.stderr);
    } finally {
      sb.setOptions({ certTtlSeconds: 180 });
    }
    const serial = await certSerial(c);
    assert.equal(c.browserOpens(), 1);
    const validUntil = sshpk.parseCertificate(readFileSync(c.certFile), 'openssh').validUntil.getTime();
    await waitFor(() => Date.now() > validUntil, { what: 'the 4-second certificate to expire' });
    const b = snapshot(sb);
    const r = await c.ssh();
    assert.equal(r.code, 0, explain(r, sb));
    assert.equal(r.stdout.trim(), 'jdoe');
    const d = delta(sb, b);
    assert.equal(d.certSigns, 1, 'a new certificate');
    assert.equal(d.approvals + d.loginPage, 0, 'no new login');
    assert.equal(c.browserOpens(), 1);
    assert.notEqual(await certSerial(c), serial);
  });

  it('app token expired, org token valid: exchanged without a browser', async () => {
    sb.setOptions({ appTokenTtlSeconds: 3 });
    let c: Client;
    try {
      c = client('exchange');
      const r = await c.ssh();
      assert.equal(r.code, 0, explain(r, sb));
    } finally {
      sb.setOptions({ appTokenTtlSeconds: 3600 });
    }
    const exp = appTokenExpiry(c);
    await waitFor(() => Date.now() / 1000 > exp, { what: 'the 3-second app token to expire' });
    const b = snapshot(sb);
    const r2 = await c.ssh();
    assert.equal(r2.code, 0, explain(r2, sb));
    assert.equal(r2.stdout.trim(), 'jdoe');
    const d = delta(sb, b);
    assert.equal(d.exchanges, 1, 'org → app exchange');
    assert.equal(d.approvals + d.loginPage, 0, 'no browser');
    assert.equal(c.browserOpens(), 1);
  });

  it('token refused by the edge (revoked): dropped, new login, connection succeeds', async () => {
    const c = client('revoked');
    const r = await c.ssh();
    assert.equal(r.code, 0, explain(r, sb));
    sb.revokeAllTokens();
    const b = snapshot(sb);
    const r2 = await c.ssh();
    assert.equal(r2.code, 0, explain(r2, sb));
    assert.equal(r2.stdout.trim(), 'jdoe');
    const d = delta(sb, b);
    assert.ok(d.carrierRefused >= 1, 'the carrier answered 302');
    assert.equal(d.approvals, 1, 'a new login');
    assert.equal(c.browserOpens(), 2);
    assert.equal(d.carrierAccepted, 1);
  });

  it('20 ssh processes at once with nothing cached: one login, one certificate, 20 sessions', { timeout: 300_000 }, async () => {
    const c = client('twenty');
    const b = snapshot(sb);
    // Forty Node processes start at once (20 ssh-gen, 20 ProxyCommands): give a loaded
    // machine time, and keep the helper's debug log for a failure report.
    const runs = await Promise.all(
      Array.from({ length: 20 }, () => c.ssh(['whoami'], { timeoutMs: 240_000, env: { ACCESS_SSH_LOGLEVEL: 'debug' } })),
    );
    const failed = runs.filter((r) => r.code !== 0 || r.stdout.trim() !== 'jdoe');
    assert.equal(failed.length, 0, failed.map((r) => explain(r, sb)).join('\n=====\n'));
    const d = delta(sb, b);
    assert.equal(d.approvals, 1, 'exactly one login');
    assert.equal(c.browserOpens(), 1);
    assert.equal(d.certSigns, 1, 'exactly one certificate');
    assert.equal(d.carrierAccepted, 20);
  });

  it('service token: the carrier connects with Cf-Access-Client-Id/Secret (flags and env)', async () => {
    // The certificate comes from a user login (service tokens do not sign certificates);
    // then the user's tokens are removed, so only the service token can open the carrier.
    const login = client('svc');
    const r = await login.ssh();
    assert.equal(r.code, 0, explain(r, sb));
    const dir = join(login.home, '.cloudflared');
    for (const f of readdirSync(dir)) if (/-token$/.test(f)) rmSync(join(dir, f));

    const withFlags = client('svc-flags', {
      noMatchExec: true,
      proxyArgs: ['--service-token-id', SERVICE.clientId, '--service-token-secret', SERVICE.clientSecret],
    });
    // Same HOME as the login (its key and certificate), the flags' config.
    writeFileSync(login.config, readFileSync(withFlags.config, 'utf8').replaceAll(withFlags.home, login.home));
    const b = snapshot(sb);
    const r1 = await login.ssh();
    assert.equal(r1.code, 0, explain(r1, sb));
    assert.equal(r1.stdout.trim(), 'jdoe');
    let d = delta(sb, b);
    assert.equal(d.carrierServiceToken, 1, 'accepted by service token');
    assert.equal(d.approvals + d.loginPage + d.exchanges + d.certSigns, 0);

    const plain = client('svc-env', { noMatchExec: true });
    writeFileSync(login.config, readFileSync(plain.config, 'utf8').replaceAll(plain.home, login.home));
    const b2 = snapshot(sb);
    const r2 = await login.ssh(['whoami'], {
      env: { TUNNEL_SERVICE_TOKEN_ID: SERVICE.clientId, TUNNEL_SERVICE_TOKEN_SECRET: SERVICE.clientSecret },
    });
    assert.equal(r2.code, 0, explain(r2, sb));
    d = delta(sb, b2);
    assert.equal(d.carrierServiceToken, 1, 'accepted by service token from the environment');
    assert.equal(d.approvals + d.loginPage + d.exchanges, 0);
  });

  it('the entries printed by `ssh-config --short-lived-cert` give a plain ssh a fresh certificate', async () => {
    const c = client('sshconfig');
    const printed = await c.helper(['ssh-config', '--hostname', APP, '--short-lived-cert']);
    assert.equal(printed.code, 0, printed.stderr);
    const start = printed.stdout.indexOf('Match host');
    assert.ok(start >= 0, `a Match exec entry in:\n${printed.stdout}`);
    const entries = printed.stdout.slice(start);
    assert.match(entries, /^Match host ssh\.sandbox\.test exec ".* ssh-gen --hostname %h"$/m);
    // ssh expands ~ with the passwd home, not $HOME: point it at the test HOME.
    writeFileSync(c.config, entries.replace(/~\//g, `${c.home}/`));
    const b = snapshot(sb);
    const r = await runProcess(
      'ssh',
      sshArgs({
        config: c.config,
        knownHosts: c.knownHosts,
        strictHostKeyChecking: 'accept-new',
        destination: `jdoe@${APP}`,
        command: ['whoami'],
      }),
      c.env,
    );
    assert.equal(r.code, 0, explain(r, sb));
    assert.equal(r.stdout.trim(), 'jdoe');
    const d = delta(sb, b);
    assert.equal(d.certSigns, 1);
    assert.equal(d.approvals, 1);
    assert.equal(await certSerial(c), String(sb.counters.lastSerial));
  });
});
