import { test, before, after, beforeEach, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as path from 'node:path';
import { forgetAppToken, getAppToken, login, logout, renewAppToken, type AccessContext } from '../../../src/access/token-flow.js';
import { TokenStore } from '../../../src/access/token-store.js';
import { AccessError } from '../../../src/access/errors.js';
import { clearJwksCache } from '../../../src/access/metadata.js';
import { silentLogger, type Logger } from '../../../src/access/types.js';
import { APP_HOST, AUD, TEAM, appToken, orgToken, startEdge, visitor, type FakeEdge } from './edge.js';

import { hostname } from '../../support/hostname.js';
import { tempDir } from '../../support/tmp.js';

const appInfo = { authDomain: TEAM, appAud: AUD, appHostname: APP_HOST };
const appUrl = new URL(`https://${APP_HOST}/`);
let edge: FakeEdge;
before(async () => {
  edge = await startEdge();
});
after(() => edge.close());
beforeEach(() => {
  edge.acceptOrg = undefined;
  clearJwksCache();
});

function ctx(t: TestContext, log: Logger = silentLogger): AccessContext & { store: TokenStore } {
  return { http: edge.server.client(), store: new TokenStore(tempDir(t)), log };
}
const fastOpts = { pollDelayMs: 20, lockRetryMs: 20 };

test('a valid stored app token is used without any request', async (t) => {
  const c = ctx(t);
  const tok = appToken();
  await c.store.writeAppToken(appInfo, tok);
  const before = edge.server.seen.length;
  assert.equal(await getAppToken(c, appUrl, appInfo, { interactive: false }), tok);
  assert.equal(edge.server.seen.length, before);
});

test('no app token, valid org token: exchanged, stored, no browser', async (t) => {
  const c = ctx(t);
  const org = orgToken();
  await c.store.writeOrgToken(TEAM, org);
  edge.acceptOrg = org;
  const got = await getAppToken(c, appUrl, appInfo, { interactive: false, openBrowser: async () => assert.fail('no browser') });
  assert.equal(got, edge.exchangeToken);
  assert.equal(await c.store.readAppToken(appInfo), edge.exchangeToken);
  assert.deepEqual(
    fs.readdirSync(c.store.dir).filter((f) => f.endsWith('.lock')),
    [],
  );
});

test('non-interactive without usable tokens: login-required naming the command, no browser', async (t) => {
  const c = ctx(t);
  await c.store.writeOrgToken(TEAM, orgToken()); // refused by the edge
  const debug: string[] = [];
  const log = { ...silentLogger, debug: (m: string) => debug.push(m) };
  await assert.rejects(
    getAppToken({ ...c, log }, appUrl, appInfo, { interactive: false, openBrowser: async () => assert.fail('no browser') }),
    (err: unknown) => {
      assert.ok(err instanceof AccessError && err.code === 'login-required');
      assert.equal(err.message, `Not signed in to Cloudflare Access for ${APP_HOST}`);
      // The next step is an action the CLI and the extension each say in their words (test/unit/base/app-error.test.ts).
      assert.equal(err.action, 'sign-in');
      assert.equal(err.host, APP_HOST);
      assert.equal(err.hint, undefined);
      return true;
    },
  );
  assert.ok(debug.some((m) => /failed to exchange/.test(m)));
  assert.deepEqual(
    fs.readdirSync(c.store.dir).filter((f) => f.endsWith('.lock')),
    [],
  );
});

test('interactive: browser login stores both tokens; url companion removed', async (t) => {
  const c = ctx(t);
  const opened: string[] = [];
  const got = await getAppToken(c, appUrl, appInfo, { interactive: true, openBrowser: visitor(edge, opened), ...fastOpts });
  assert.equal(got, edge.transfer.app);
  assert.equal(opened.length, 1);
  assert.equal(await c.store.readAppToken(appInfo), edge.transfer.app);
  assert.equal(await c.store.readOrgToken(TEAM), edge.transfer.org);
  assert.deepEqual(fs.readdirSync(c.store.dir).sort(), [`${APP_HOST}-${AUD}-token`, `${TEAM}-org-token`].sort());
});

test('interactive: a login without org_token stores the app token alone; a stored org token is kept', async (t) => {
  const saved = edge.transfer;
  try {
    edge.transfer = { app: appToken() };
    const c = ctx(t);
    const got = await getAppToken(c, appUrl, appInfo, { interactive: true, openBrowser: visitor(edge), ...fastOpts });
    assert.equal(got, edge.transfer.app);
    assert.equal(await c.store.readAppToken(appInfo), edge.transfer.app);
    assert.deepEqual(fs.readdirSync(c.store.dir), [`${APP_HOST}-${AUD}-token`], 'no org token file, not even an empty one');

    const c2 = ctx(t);
    const org = orgToken();
    await c2.store.writeOrgToken(TEAM, org); // refused by the exchange: a browser login follows
    const r = await login(c2, appUrl, { interactive: true, openBrowser: visitor(edge), ...fastOpts });
    assert.equal(r.orgToken, undefined);
    assert.equal(r.appToken, edge.transfer.app);
    assert.equal(await c2.store.readOrgToken(TEAM), org, 'the stored org token is left as it was');
  } finally {
    edge.transfer = saved;
  }
});

test('login --fedramp polls the FedRAMP transfer service', async (t) => {
  const c = ctx(t);
  const fed = edge.count((r) => r.host.startsWith('login.fed.cloudflareaccess.org'));
  const commercial = edge.count((r) => r.host.startsWith('login.cloudflareaccess.org'));
  const r = await login(c, appUrl, { interactive: true, fedramp: true, openBrowser: visitor(edge), ...fastOpts });
  assert.equal(r.appToken, edge.transfer.app);
  assert.ok(edge.count((q) => q.host.startsWith('login.fed.cloudflareaccess.org')) > fed);
  assert.equal(
    edge.count((q) => q.host.startsWith('login.cloudflareaccess.org')),
    commercial,
  );
});

test('concurrent first connections share one browser login', async (t) => {
  const c = ctx(t);
  const opened: string[] = [];
  const open = visitor(edge, opened);
  const slowOpen = async (u: string): Promise<void> => {
    await new Promise((r) => setTimeout(r, 100));
    await open(u);
  };
  const results = await Promise.all(
    [1, 2, 3].map(() =>
      getAppToken({ ...c, store: new TokenStore(c.store.dir) }, appUrl, appInfo, { interactive: true, openBrowser: slowOpen, ...fastOpts }),
    ),
  );
  assert.equal(opened.length, 1);
  for (const r of results) assert.equal(r, edge.transfer.app);
});

test("a waiting process is shown the holder's login URL", async (t) => {
  const c = ctx(t);
  const shown: string[] = [];
  let release!: () => void;
  const gate = new Promise<void>((r) => {
    release = r;
  });
  const first = getAppToken(c, appUrl, appInfo, {
    interactive: true,
    ...fastOpts,
    openBrowser: async (u) => {
      await gate;
      await visitor(edge)(u);
    },
  });
  // Start the second once the first is in its browser login (its URL file is out).
  const urlFile = `${c.store.appTokenPath(appInfo)}.url`;
  for (let i = 0; i < 500 && !fs.existsSync(urlFile); i++) await new Promise((r) => setTimeout(r, 10));
  assert.ok(fs.existsSync(urlFile));
  const second = getAppToken({ ...c, store: new TokenStore(c.store.dir) }, appUrl, appInfo, {
    interactive: false,
    ...fastOpts,
    onLoginUrl: (u) => shown.push(u),
  });
  for (let i = 0; i < 500 && shown.length === 0; i++) await new Promise((r) => setTimeout(r, 10));
  release();
  assert.equal(await first, await second);
  assert.equal(shown.length, 1);
  assert.match(shown[0]!, /\/cdn-cgi\/access\/cli\?/);
});

test('login() forces a browser login and returns app info and claims', async (t) => {
  const c = ctx(t);
  await c.store.writeAppToken(appInfo, appToken());
  const opened: string[] = [];
  const r = await login(c, appUrl, { interactive: true, openBrowser: visitor(edge, opened), ...fastOpts });
  assert.equal(opened.length, 1);
  assert.deepEqual(r.appInfo, appInfo);
  assert.equal(r.appToken, edge.transfer.app);
  assert.equal(r.orgToken, edge.transfer.org);
  assert.equal(r.claims.email, 'jdoe@example.com');
  await assert.rejects(
    login(c, appUrl, { interactive: false }),
    (err: unknown) => err instanceof AccessError && err.code === 'login-required',
  );
});

test('renewAppToken exchanges the stored org token now; undefined without one', async (t) => {
  const c = ctx(t);
  assert.equal(await renewAppToken(c, appUrl, appInfo), undefined);
  const org = orgToken();
  await c.store.writeOrgToken(TEAM, org);
  assert.equal(await renewAppToken(c, appUrl, appInfo), undefined); // refused
  edge.acceptOrg = org;
  await c.store.writeAppToken(appInfo, appToken());
  assert.equal(await renewAppToken(c, appUrl, appInfo), edge.exchangeToken);
  assert.equal(await c.store.readAppToken(appInfo), edge.exchangeToken);
});

test('forgetAppToken and logout', async (t) => {
  const c = ctx(t);
  await c.store.writeAppToken(appInfo, appToken());
  await forgetAppToken(c, appInfo);
  assert.equal(await c.store.readAppToken(appInfo), undefined);

  const other = { authDomain: 'other.cloudflareaccess.com', appAud: 'bbb', appHostname: hostname('x.example.com') };
  await c.store.writeAppToken(appInfo, appToken());
  await c.store.writeAppToken({ ...appInfo, appHostname: hostname('two.sandbox.test') }, appToken());
  await c.store.writeOrgToken(TEAM, orgToken());
  await c.store.writeAppToken(other, appToken({ aud: ['bbb'], iss: 'https://other.cloudflareaccess.com' }));
  await c.store.writeOrgToken(other.authDomain, orgToken({ iss: 'https://other.cloudflareaccess.com' }));
  fs.writeFileSync(path.join(c.store.dir, `${APP_HOST}-cf_key`), 'key');
  const removed = await logout(c, TEAM);
  assert.equal(removed.length, 3);
  assert.deepEqual(
    fs.readdirSync(c.store.dir).sort(),
    [`${APP_HOST}-cf_key`, 'other.cloudflareaccess.com-org-token', 'x.example.com-bbb-token'].sort(),
  );
});
