// The real edge's inconvenient parts, each a sandbox mode, each run end to end: the
// helper's login, ssh-gen, a real ssh to the sandbox sshd through entries written by
// src/ssh (with the User that src/hosts chooses), and the org → app exchange.
//   - transfer polls answered 200 with an empty body while the user has not finished;
//   - a login that hands over no org token;
//   - an edge that maps the login to another account (the certificate's principal);
//   - an application under a Bypass policy (the carrier lets anyone in);
//   - a FedRAMP team (auth domain under .fed.cloudflareaccess.com) and its transfer host.
import { validateHostname } from '../../src/ssh/validate.js';
import { strict as assert } from 'node:assert';
import { existsSync, mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { readCachedCertificate } from '../../src/access/cert-file';
import { sshUserFor } from '../../src/hosts/hosts';
import { renderEntries, type HostEntry } from '../../src/ssh/entries';
import { startSandbox, type Sandbox } from '../sandbox/sandbox';
import { FED_TEAM_DOMAIN, TEAM_DOMAIN } from '../sandbox/state';
import { delta, explain, HELPER, helperMissing, makeClient, runProcess, snapshot, type Client, type RunResult } from './harness';
import { hostname } from '../support/hostname.js';

const missing = helperMissing();

describe("the edge's modes, end to end (login, ssh-gen, real ssh, org → app exchange)", { skip: missing }, () => {
  let sb: Sandbox;
  const homes: string[] = [];

  before(async () => {
    // `deploy` is the account the edge maps logins to in the principal mode.
    sb = await startSandbox({ users: ['jdoe', 'deploy'] });
  });
  after(async () => {
    await sb?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  function client(name: string): Client {
    const c = makeClient(sb, name);
    homes.push(c.home);
    return c;
  }

  /** A launcher for the helper (what the extension writes), and our entries for `hosts` as the user's ssh config. */
  async function writeEntries(c: Client, hosts: HostEntry[]): Promise<void> {
    const bin = join(c.home, 'bin');
    mkdirSync(bin, { recursive: true });
    const launcher = join(bin, 'access-ssh');
    writeFileSync(launcher, `#!/bin/sh\nexec '${process.execPath}' '${HELPER}' "$@"\n`, { mode: 0o700 });
    writeFileSync(
      c.config,
      renderEntries(hosts, { helper: launcher, platform: 'linux', nonInteractive: true, keyDir: join(c.home, '.cloudflared') }),
      { mode: 0o600 },
    );
  }

  /** The User the extension writes for `host`: src/hosts' rule on the certificate on disk. */
  async function userFor(c: Client, host: string, configured?: string): Promise<string | undefined> {
    const { cert } = await readCachedCertificate(join(c.home, '.cloudflared'), validateHostname(host));
    return sshUserFor({ ...(configured ? { configured } : {}), principals: cert?.principals ?? [], email: 'jdoe@example.com' }).user;
  }

  function ok(r: RunResult, what: string): void {
    assert.equal(r.code, 0, `${what}: ${explain(r, sb)}`);
  }

  function files(c: Client): string[] {
    const dir = join(c.home, '.cloudflared');
    return existsSync(dir) ? readdirSync(dir).sort() : [];
  }

  it('transfer polls answered 200 with an empty body are "not yet": the login waits them out', async () => {
    // Polls end after 150 ms with an empty 200; the login page approves only after 1.5 s.
    sb.setOptions({ transferPending: 'empty-200', transferWaitMs: 150, faults: { loginPage: { delayMs: 1500, times: 1 } } });
    try {
      const c = client('empty200');
      const b = snapshot(sb);
      const login = await c.helper(['login', `https://${'ssh.sandbox.test'}`]);
      ok(login, 'login');
      const d = delta(sb, b);
      assert.ok(d.transferPolls >= 3, `several empty 200 polls before the tokens (${d.transferPolls})`);
      assert.equal(d.transferDeliveries, 1);
      assert.equal(d.approvals, 1);

      ok(await c.helper(['ssh-gen', '--hostname', 'ssh.sandbox.test']), 'ssh-gen');
      await writeEntries(c, [{ hostname: hostname('ssh.sandbox.test'), user: (await userFor(c, hostname('ssh.sandbox.test')))! }]);
      const r = await c.ssh(['whoami']);
      ok(r, 'ssh');
      assert.equal(r.stdout.trim(), 'jdoe');

      // org → app exchange for a second app of the team, no browser.
      const b2 = snapshot(sb);
      ok(await c.helper(['ssh-gen', '--hostname', 'two.sandbox.test', '--non-interactive']), 'ssh-gen (exchange)');
      assert.equal(delta(sb, b2).exchanges, 1);
      assert.equal(c.browserOpens(), 1, 'one browser login in all');
    } finally {
      sb.setOptions({ transferPending: 'status-404', transferWaitMs: 8000, faults: { loginPage: null } } as never);
    }
  });

  it('a login without org_token: the app token works, no org token is written, other apps need their own login', async () => {
    sb.setOptions({ sendOrgToken: false });
    try {
      const c = client('noorg');
      ok(await c.helper(['login', 'https://ssh.sandbox.test']), 'login');
      assert.deepEqual(
        files(c).filter((f) => f.endsWith('-org-token')),
        [],
        'no org token file',
      );
      assert.equal(files(c).filter((f) => f.startsWith('ssh.sandbox.test-') && f.endsWith('-token')).length, 1);

      const b = snapshot(sb);
      ok(await c.helper(['ssh-gen', '--hostname', 'ssh.sandbox.test', '--non-interactive']), 'ssh-gen');
      assert.equal(delta(sb, b).certSigns, 1);
      await writeEntries(c, [{ hostname: hostname('ssh.sandbox.test'), user: (await userFor(c, hostname('ssh.sandbox.test')))! }]);
      const r = await c.ssh(['whoami']);
      ok(r, 'ssh');
      assert.equal(r.stdout.trim(), 'jdoe');

      // No team session: the exchange cannot happen; the helper says what to do, at once.
      const b2 = snapshot(sb);
      const other = await c.helper(['ssh-gen', '--hostname', 'two.sandbox.test', '--non-interactive']);
      assert.equal(other.code, 1);
      assert.match(other.stderr, /Not signed in to Cloudflare Access for two\.sandbox\.test/);
      assert.equal(delta(sb, b2).exchanges, 0);
      assert.equal(c.browserOpens(), 1);
    } finally {
      sb.setOptions({ sendOrgToken: true });
    }
  });

  it('the edge decides the principal: the certificate for "deploy" is kept, the entries log in as deploy', async () => {
    sb.setOptions({ certPrincipal: 'deploy' });
    try {
      const c = client('principal');
      ok(await c.helper(['login', 'https://ssh.sandbox.test']), 'login');
      const gen = await c.helper(['ssh-gen', '--hostname', 'ssh.sandbox.test', '--loglevel', 'info']);
      ok(gen, 'ssh-gen');
      assert.match(gen.stderr, /is for deploy, not jdoe/);
      const keygen = await runProcess('ssh-keygen', ['-L', '-f', c.certFile], c.env);
      assert.match(keygen.stdout, /Principals: \n\s+deploy\n/);

      const user = await userFor(c, 'ssh.sandbox.test');
      assert.equal(user, 'deploy');
      await writeEntries(c, [{ hostname: hostname('ssh.sandbox.test'), user }]);
      const r = await c.ssh(['whoami']);
      ok(r, 'ssh');
      assert.equal(r.stdout.trim(), 'deploy');

      // The e-mail's local part would be refused by the server: the certificate is not for jdoe.
      const asJdoe = await c.ssh(['whoami'], { extraArgs: ['-o', 'User=jdoe'] });
      assert.notEqual(asJdoe.code, 0);
      assert.match(asJdoe.stderr, /Permission denied/);

      // A user chosen for the host wins over the principal.
      assert.equal(await userFor(c, 'ssh.sandbox.test', 'jdoe'), 'jdoe');

      // The exchange gives the second app the same mapping.
      const b = snapshot(sb);
      ok(await c.helper(['ssh-gen', '--hostname', 'two.sandbox.test', '--non-interactive']), 'ssh-gen (exchange)');
      assert.equal(delta(sb, b).exchanges, 1);
      assert.equal(await userFor(c, 'two.sandbox.test'), 'deploy');

      // No principal at all stays refused, and nothing is written.
      sb.setOptions({ faults: { certSign: { certificate: 'no-principal', times: 1 } } });
      const before = files(c);
      const none = await c.helper(['ssh-gen', '--hostname', 'three.sandbox.test', '--non-interactive']);
      assert.equal(none.code, 1);
      assert.match(none.stderr, /names no principal/);
      assert.deepEqual(
        files(c).filter((f) => f.startsWith('three.sandbox.test-cf_key')),
        [],
      );
      assert.ok(before.every((f) => files(c).includes(f)));
    } finally {
      sb.setOptions({ certPrincipal: null, faults: { certSign: null } } as never);
    }
  });

  it('a Bypass application: ssh connects with no token, no discovery and no browser', async () => {
    sb.setOptions({ bypassHosts: ['open.sandbox.test'] });
    try {
      const c = client('bypass');
      // A certificate from an ordinary app of the team, for the sshd behind both.
      ok(await c.helper(['login', 'https://ssh.sandbox.test']), 'login');
      ok(await c.helper(['ssh-gen', '--hostname', 'ssh.sandbox.test']), 'ssh-gen');
      const b = snapshot(sb);
      const r = await c.ssh(['whoami'], {
        host: 'open.sandbox.test',
        extraArgs: [
          '-o',
          `ProxyCommand=${process.execPath} ${HELPER} ssh --hostname %h --non-interactive`,
          '-o',
          `IdentityFile=${c.keyFile}`,
          '-o',
          `CertificateFile=${c.certFile}`,
          '-o',
          'User=jdoe',
        ],
      });
      ok(r, 'ssh through the Bypass app');
      assert.equal(r.stdout.trim(), 'jdoe');
      const d = delta(sb, b);
      assert.equal(d.carrierBypass, 1, 'let in by the Bypass policy');
      assert.equal(d.metadata, 0, 'no discovery');
      assert.equal(d.carrierRefused, 0);
      assert.equal(d.approvals + d.loginPage + d.exchanges, 0, 'no login, no exchange');
      assert.deepEqual(
        files(c).filter((f) => f.startsWith('open.sandbox.test')),
        [],
        'no token for it',
      );
      assert.equal(c.browserOpens(), 1, 'only the first login');

      // The org → app exchange still serves the team's other apps.
      const b2 = snapshot(sb);
      ok(await c.helper(['ssh-gen', '--hostname', 'two.sandbox.test', '--non-interactive']), 'ssh-gen (exchange)');
      assert.equal(delta(sb, b2).exchanges, 1);
      // A Bypass app never sends anyone to a login, so there is no app token to get for it
      // (cert_sign needs one): that is a clear login-required, not a hang.
      const b3 = snapshot(sb);
      const gen = await c.helper(['ssh-gen', '--hostname', 'open.sandbox.test', '--non-interactive']);
      assert.equal(gen.code, 1);
      assert.match(gen.stderr, /Not signed in to Cloudflare Access for open\.sandbox\.test/);
      assert.equal(delta(sb, b3).exchanges, 0);
    } finally {
      sb.setOptions({ bypassHosts: [] });
    }
  });

  it('a FedRAMP team: --fedramp logs in through login.fed.cloudflareaccess.org; the entries carry it', async () => {
    sb.setOptions({ fedrampHosts: ['fed.sandbox.test', 'fed2.sandbox.test'] });
    try {
      const c = client('fedramp');
      const b = snapshot(sb);
      ok(await c.helper(['access', '--fedramp', 'login', 'https://fed.sandbox.test']), 'login --fedramp');
      const d = delta(sb, b);
      assert.ok(
        d.fedTransferPolls >= 1 && d.fedTransferPolls === d.transferPolls,
        `only the FedRAMP transfer service was polled (${d.fedTransferPolls}/${d.transferPolls})`,
      );
      assert.deepEqual(
        files(c).filter((f) => f.endsWith('-org-token')),
        [`${FED_TEAM_DOMAIN}-org-token`],
      );

      ok(await c.helper(['ssh-gen', '--hostname', 'fed.sandbox.test', '--fedramp']), 'ssh-gen --fedramp');
      await writeEntries(c, [
        { hostname: hostname('fed.sandbox.test'), user: (await userFor(c, hostname('fed.sandbox.test')))!, fedramp: true },
      ]);
      const r = await c.ssh(['whoami'], { host: 'cfpipe-fed.sandbox.test' });
      ok(r, 'ssh through the FedRAMP entries');
      assert.equal(r.stdout.trim(), 'jdoe');

      // The FedRAMP team's org token is exchanged for its other app.
      const b2 = snapshot(sb);
      ok(await c.helper(['--fedramp', 'ssh-gen', '--hostname', 'fed2.sandbox.test', '--non-interactive']), 'ssh-gen (exchange)');
      assert.equal(delta(sb, b2).exchanges, 1);

      // Without --fedramp, a team under .fed.cloudflareaccess.com still logs in through the FedRAMP service.
      const c2 = client('fedramp-auto');
      const b3 = snapshot(sb);
      ok(await c2.helper(['login', 'https://fed.sandbox.test']), 'login without the flag');
      const d3 = delta(sb, b3);
      assert.equal(d3.transferPolls, d3.fedTransferPolls);
      assert.equal(d3.transferDeliveries, 1);
      assert.ok(!files(c2).includes(`${TEAM_DOMAIN}-org-token`));
    } finally {
      sb.setOptions({ fedrampHosts: [] });
    }
  });
});
