// The websocket carrier against the sandbox edge: the handshake rules (302 to the login →
// new token → retry once; Bypass; service tokens; other statuses are errors) end to end.
// The piping and the handshake against a local server are unit tests
// (test/unit/access/carrier.test.ts).

import { parseAppToken, parseOrgToken } from '../../../src/access/jwt.js';
import { validateHostname } from '../../../src/ssh/validate.js';
import { test, describe, before, after, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import type * as net from 'node:net';
import { PassThrough } from 'node:stream';
import type { WebSocketClient } from '../../../src/access/websocket.js';
import { openCarrier, pipeCarrier } from '../../../src/access/carrier.js';
import { isAccessError } from '../../../src/access/errors.js';
import { HttpClient } from '../../../src/access/http.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { silentLogger } from '../../../src/access/types.js';
import { sha, sink, startEchoServer } from '../../unit/access/helpers.js';
import { startSandbox, type Sandbox } from '../../sandbox/sandbox.js';
import { tempDir } from '../../support/tmp.js';

const HOST = validateHostname('ssh.sandbox.test');

describe('openCarrier against the sandbox edge', () => {
  let sandbox: Sandbox;
  let echo: net.Server;
  let http: HttpClient;
  before(async () => {
    let port: number;
    ({ server: echo, port } = await startEchoServer());
    sandbox = await startSandbox({ sshd: false, origins: { [HOST]: { host: '127.0.0.1', port } } });
    http = HttpClient.fromEnv(sandbox.env);
  });
  after(async () => {
    await sandbox.stop();
    await new Promise((r) => echo.close(r));
  });

  async function seeded(t: TestContext): Promise<{
    ctx: { http: HttpClient; store: TokenStore; log: typeof silentLogger };
    appInfo: import('../../../src/access/types.js').AppInfo;
  }> {
    const store = new TokenStore(tempDir(t, 'carrier-sbx-'));
    const { discoverApp } = await import('../../../src/access/metadata.js');
    const appInfo = await discoverApp(http, new URL(`https://${HOST}/`));
    await store.writeAppToken(appInfo, parseAppToken(await sandbox.mintAppToken()).token);
    return { ctx: { http, store, log: silentLogger }, appInfo };
  }

  /**
   * Echo through edge and origin. Stdin ends only once everything came back:
   * a websocket has no half-close, so the edge drops the origin connection on
   * our close (as ssh closes the ProxyCommand's stdin only when it is done).
   */
  async function roundTrip(ws: WebSocketClient, size = 3 * 1024 * 1024 + 17): Promise<void> {
    const payload = randomBytes(size);
    const input = new PassThrough({ highWaterMark: 64 * 1024 });
    const out = sink();
    let got = 0;
    const origWrite = out.write.bind(out) as (c: Buffer) => boolean;
    (out as { write: (c: Buffer) => boolean }).write = (c: Buffer) => {
      got += c.length;
      if (got >= size) input.end();
      return origWrite(c);
    };
    const done = pipeCarrier(ws, input, out, { keepaliveMs: 0 });
    for (let off = 0; off < size; off += 256 * 1024) input.write(payload.subarray(off, Math.min(size, off + 256 * 1024)));
    await done;
    assert.equal(sha(out.data()), sha(payload));
  }

  test('with the stored app token: bytes reach the origin and come back', async (t) => {
    const { ctx } = await seeded(t);
    const accepted = sandbox.counters.carrierAccepted;
    const metadata = sandbox.counters.metadata;
    await roundTrip(await openCarrier(ctx, HOST, { login: { interactive: false } }));
    assert.equal(sandbox.counters.carrierAccepted - accepted, 1);
    assert.equal(sandbox.counters.metadata - metadata, 0, 'the stored token names the app: no discovery');
  });

  test('a refused token (302 to the login) is dropped, replaced through the org token, retried once', async (t) => {
    const { ctx, appInfo } = await seeded(t);
    const oldToken = await ctx.store.readAppToken(appInfo);
    sandbox.revokeAllTokens('app');
    await ctx.store.writeOrgToken(appInfo.authDomain, parseOrgToken(await sandbox.mintOrgToken()).token);
    const refused = sandbox.counters.carrierRefused;
    const metadata = sandbox.counters.metadata;
    const ws = await openCarrier(ctx, HOST, { login: { interactive: false } });
    assert.equal(sandbox.counters.carrierRefused - refused, 1);
    assert.equal(sandbox.counters.metadata - metadata, 1, 'after the refusal the app is discovered for real');
    const newToken = await ctx.store.readAppToken(appInfo);
    assert.ok(newToken && newToken !== oldToken);
    await roundTrip(ws, 1000);
  });

  test('a refused token and no way to get one without a browser: login-required', async (t) => {
    const { ctx, appInfo } = await seeded(t);
    sandbox.revokeAllTokens('app');
    await assert.rejects(openCarrier(ctx, HOST, { login: { interactive: false } }), (err: unknown) => isAccessError(err, 'login-required'));
    assert.equal(await ctx.store.readAppToken(appInfo), undefined, 'the refused token was forgotten');
  });

  test('no stored token: the first handshake goes out without one; a 302 starts discovery and the exchange', async (t) => {
    const store = new TokenStore(tempDir(t, 'carrier-bare-'));
    const ctx = { http, store, log: silentLogger };
    const { discoverApp } = await import('../../../src/access/metadata.js');
    const appInfo = await discoverApp(http, new URL(`https://${HOST}/`));
    await store.writeOrgToken(appInfo.authDomain, parseOrgToken(await sandbox.mintOrgToken()).token);
    const before = { ...sandbox.counters };
    const ws = await openCarrier(ctx, HOST, { login: { interactive: false } });
    assert.equal(sandbox.counters.carrierRefused - before.carrierRefused, 1, 'the bare handshake is answered 302');
    assert.equal(sandbox.counters.metadata - before.metadata, 1, 'then the app is discovered');
    assert.equal(sandbox.counters.exchanges - before.exchanges, 1, 'and the org token exchanged');
    assert.equal(sandbox.counters.carrierAccepted - before.carrierAccepted, 1);
    assert.ok(await store.readAppToken(appInfo));
    await roundTrip(ws, 1000);
  });

  test('a Bypass application: the bare handshake is accepted, no discovery, no token, no browser', async (t) => {
    sandbox.setOptions({ bypassHosts: [HOST] });
    try {
      const store = new TokenStore(tempDir(t, 'carrier-bypass-'));
      const before = { ...sandbox.counters };
      const ws = await openCarrier({ http, store, log: silentLogger }, HOST, {
        login: { interactive: false, openBrowser: async () => assert.fail('no browser') },
      });
      assert.equal(sandbox.counters.carrierBypass - before.carrierBypass, 1);
      assert.equal(sandbox.counters.metadata - before.metadata, 0);
      assert.equal(sandbox.counters.carrierRefused - before.carrierRefused, 0);
      assert.deepEqual(fs.existsSync(store.dir) ? fs.readdirSync(store.dir) : [], [], 'nothing stored');
      await roundTrip(ws, 1000);
    } finally {
      sandbox.setOptions({ bypassHosts: [] });
    }
  });

  test('service token accepted by the edge', async (t) => {
    sandbox.setOptions({ serviceTokens: [{ clientId: 'svc.access', clientSecret: 'svc-secret' }] });
    const ctx = { http, store: new TokenStore(tempDir(t, 'carrier-svc-')), log: silentLogger };
    const before = sandbox.counters.carrierServiceToken;
    await roundTrip(
      await openCarrier(ctx, HOST, { serviceToken: { clientId: 'svc.access', clientSecret: 'svc-secret' }, login: { interactive: false } }),
      1000,
    );
    assert.equal(sandbox.counters.carrierServiceToken - before, 1);
  });

  test('a carrier answered 503 is a plain carrier error with the status', async (t) => {
    const { ctx } = await seeded(t);
    sandbox.setOptions({ faults: { carrier: { status: 503, times: 1 } } });
    await assert.rejects(
      openCarrier(ctx, HOST, { login: { interactive: false } }),
      (err: unknown) => isAccessError(err, 'carrier') && /HTTP 503/.test(err.message),
    );
  });
});
