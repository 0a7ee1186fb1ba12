// End to end behind a corporate proxy (issue 8, item 1): the sandbox edge is reachable
// only through a real squid that resolves the Access names itself and demands Basic
// credentials (test/sandbox/proxied.ts). login, ssh-gen, a real ssh session and the
// org -> app exchange go through it; a proxy that refuses is an error naming the proxy;
// no credential of the proxy appears in any output, debug logs included.
import { strict as assert } from 'node:assert';
import { readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { proxiedMissing, PROXY_PASSWORD, PROXY_USER, startProxiedSandbox, type ProxiedSandbox } from '../sandbox/proxied';
import { squidMissing } from '../sandbox/squid';
import { APP, delta, explain, helperMissing, makeClient, snapshot, type Client, type RunResult } from './harness';
import { waitFor } from '../support/wait';

const missing = helperMissing() ?? squidMissing() ?? proxiedMissing();
const ALIAS = 'edge-alias.sandbox.test';
const BLOCKED = 'blocked.sandbox.test';

/** Every form in which the proxy password could leak. */
const SECRETS = [
  PROXY_PASSWORD,
  encodeURIComponent(PROXY_PASSWORD),
  's3cr',
  Buffer.from(`${PROXY_USER}:${PROXY_PASSWORD}`).toString('base64'),
];

describe('behind a CONNECT proxy (squid) that is the only way to the edge', { skip: missing }, () => {
  let px: ProxiedSandbox;
  let c: Client;
  const outputs: string[] = [];
  const homes: string[] = [];
  const record = (r: RunResult): RunResult => {
    outputs.push(r.stdout, r.stderr);
    return r;
  };
  const proxyClient = (name: string, proxyArgs: string[] = []): Client => {
    const client = makeClient(px.sb, name, { proxyArgs });
    homes.push(client.home);
    delete client.env.ACCESS_SSH_CONNECT_TO;
    Object.assign(client.env, px.env, { ACCESS_SSH_LOGLEVEL: 'debug' });
    return client;
  };
  const connects = (): string[] =>
    px.squid
      .accessLog()
      .split('\n')
      .filter((l) => / CONNECT /.test(l));
  /** squid logs a tunnel when it closes, which may be just after ssh exits: wait for the line. */
  const tunnelled = (from: number, needle: string): Promise<boolean> =>
    waitFor(
      () =>
        connects()
          .slice(from)
          .some((l) => l.includes(needle)),
      { what: `squid's access.log line "${needle.trim()}"`, timeoutMs: 10_000 },
    ).then(
      () => true,
      () => false, // the assertion says what the log holds
    );

  before(async () => {
    px = await startProxiedSandbox({ apps: [ALIAS], deny: [BLOCKED] });
    c = proxyClient('proxy', ['--loglevel', 'debug']);
  });
  after(async () => {
    await px?.stop();
    for (const h of homes) rmSync(h, { recursive: true, force: true });
  });

  it('login goes through CONNECT <name>:443 with the Basic user; the browser too', async () => {
    assert.equal(c.env.ACCESS_SSH_CONNECT_TO, undefined, 'no connect-to route');
    const b = snapshot(px.sb);
    const r = record(await c.helper(['login', `https://${APP}`]));
    assert.equal(r.code, 0, r.stderr);
    const d = delta(px.sb, b);
    assert.equal(d.approvals, 1);
    assert.equal(d.transferDeliveries, 1);
    assert.equal(c.browserOpens(), 1);
    const log = connects();
    for (const name of [APP, 'sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org']) {
      assert.ok(
        log.some((l) => l.includes(`TCP_TUNNEL/200`) && l.includes(` CONNECT ${name}:443 ${PROXY_USER} `)),
        `squid tunnelled ${name}:443 for ${PROXY_USER}:\n${log.join('\n')}`,
      );
    }
    assert.match(r.stderr, new RegExp(`via proxy http://127\\.0\\.0\\.1:${px.squid.port}`), 'debug log names the proxy');
  });

  it('ssh-gen signs a certificate through the proxy', async () => {
    const b = snapshot(px.sb);
    const r = record(await c.helper(['ssh-gen', '--hostname', APP]));
    assert.equal(r.code, 0, r.stderr);
    assert.equal(delta(px.sb, b).certSigns, 1);
    assert.ok(readdirSync(join(c.home, '.cloudflared')).includes(`${APP}-cf_key-cert.pub`));
  });

  it('a real ssh session runs over the carrier websocket through the proxy', async () => {
    const b = snapshot(px.sb);
    const before = connects().length;
    const r = record(await c.ssh(['whoami']));
    assert.equal(r.code, 0, explain(r, px.sb));
    assert.equal(r.stdout.trim(), 'jdoe');
    assert.equal(delta(px.sb, b).carrierAccepted, 1);
    assert.ok(await tunnelled(before, ` CONNECT ${APP}:443 ${PROXY_USER} `), 'the websocket went through squid');
  });

  it('the org -> app exchange runs through the proxy, no browser', async () => {
    const dir = join(c.home, '.cloudflared');
    for (const f of readdirSync(dir)) if (f.startsWith(`${APP}-`)) rmSync(join(dir, f));
    const b = snapshot(px.sb);
    const opens = c.browserOpens();
    const r = record(await c.helper(['ssh-gen', '--hostname', APP, '--non-interactive']));
    assert.equal(r.code, 0, r.stderr);
    const d = delta(px.sb, b);
    assert.equal(d.exchanges, 1, 'org token exchanged');
    assert.equal(d.certSigns, 1);
    assert.equal(d.approvals, 0);
    assert.equal(c.browserOpens(), opens, 'no browser');
    const s = record(await c.ssh(['whoami']));
    assert.equal(s.code, 0, explain(s, px.sb));
  });

  it("with ACCESS_SSH_CONNECT_TO the proxy is asked for the rule's destination; TLS name stays", async () => {
    const before = connects().length;
    const r = record(await c.ssh(['whoami'], { env: { ACCESS_SSH_CONNECT_TO: `${APP}:443:${ALIAS}:443` } }));
    assert.equal(r.code, 0, explain(r, px.sb));
    // Only the rule can make the client ask for this name; the edge still saw the real one (SNI, Host).
    assert.ok(await tunnelled(before, ` CONNECT ${ALIAS}:443 ${PROXY_USER} `), connects().slice(before).join('\n'));
  });

  it('a proxy asking for credentials (407): the error names the proxy, not the edge', async () => {
    const r = record(
      await c.helper(['ssh-gen', '--hostname', APP, '--non-interactive'], { HTTPS_PROXY: px.squid.url, ACCESS_SSH_RENEW_MARGIN: '3600' }),
    );
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `access-ssh: The proxy http://127\\.0\\.0\\.1:${px.squid.port} \\(HTTPS_PROXY\\) refused the CONNECT with HTTP 407 Proxy Authentication Required \\(tunnel to [a-z.]+\\.(test|com|org):443\\)`,
      ),
    );
    assert.match(r.stderr, /needs credentials/);
  });

  it('wrong proxy credentials (407) through ssh itself: refused, said so, never shown', async () => {
    const wrong = `http://${PROXY_USER}:not-the-s3cr-password@127.0.0.1:${px.squid.port}`;
    const r = record(await c.ssh(['whoami'], { env: { HTTPS_PROXY: wrong, ACCESS_SSH_RENEW_MARGIN: '3600' } }));
    assert.notEqual(r.code, 0);
    assert.match(
      r.stderr,
      /\(HTTPS_PROXY\) refused the CONNECT with HTTP 407 Proxy Authentication Required: it did not accept the user name and password/,
    );
    assert.doesNotMatch(r.stderr, /not-the-s3cr-password/);
  });

  it('a host the proxy denies (403) and a proxy that is not there', async () => {
    let r = record(await c.helper(['login', `https://${BLOCKED}`]));
    assert.equal(r.code, 1);
    assert.match(
      r.stderr,
      new RegExp(
        `The proxy http://127\\.0\\.0\\.1:${px.squid.port} \\(HTTPS_PROXY\\) refused the CONNECT with HTTP 403 Forbidden \\(tunnel to blocked\\.sandbox\\.test:443\\)`,
      ),
    );
    assert.match(r.stderr, /policy/);

    const s = createServer();
    await new Promise<void>((res) => s.listen(0, '127.0.0.1', res));
    const port = (s.address() as AddressInfo).port;
    await new Promise<void>((res) => s.close(() => res()));
    r = record(
      await c.helper(['login', `https://${APP}`], {
        HTTPS_PROXY: `http://${PROXY_USER}:${encodeURIComponent(PROXY_PASSWORD)}@127.0.0.1:${port}`,
      }),
    );
    assert.equal(r.code, 1);
    assert.match(r.stderr, new RegExp(`The proxy http://127\\.0\\.0\\.1:${port} \\(HTTPS_PROXY\\) cannot be reached: .*ECONNREFUSED`));
  });

  it('without the proxy the edge cannot be reached at all', async () => {
    const r = record(await c.helper(['login', `https://${APP}`], { HTTPS_PROXY: '', ACCESS_SSH_TIMEOUT: '3' }));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /Cannot reach ssh\.sandbox\.test|No answer from ssh\.sandbox\.test/);
  });

  it('no proxy credential in any output (debug logs of every run above)', () => {
    assert.ok(outputs.length >= 18, `outputs collected: ${outputs.length}`);
    const all = outputs.join('\n');
    assert.match(all, /Proxy|proxy/, 'the outputs are the debug runs');
    for (const secret of SECRETS) assert.ok(!all.includes(secret), `"${secret.slice(0, 4)}…" leaked`);
  });
});
