import { test, after, before } from 'node:test';
import assert from 'node:assert/strict';
import { exchangeOrgToken } from '../../../src/access/exchange.js';
import { AccessError } from '../../../src/access/errors.js';
import { APP_HOST, TEAM, orgToken, startEdge, type FakeEdge } from './edge.js';
import { startServer, type TestServer } from './helpers.js';

const appUrl = new URL(`https://${APP_HOST}/`);
let edge: FakeEdge;
before(async () => {
  edge = await startEdge();
});
after(() => edge.close());

test('cookies go to the right hops; stops after authorized', async () => {
  const org = orgToken();
  edge.acceptOrg = org;
  const start = edge.server.seen.length;
  const token = await exchangeOrgToken(edge.server.client(), appUrl, org, TEAM);
  assert.equal(token, edge.exchangeToken);
  const hops = edge.server.seen.slice(start);
  assert.deepEqual(
    hops.map((h) => `${h.method} ${h.host}${h.url.split('?')[0]}`),
    [`HEAD ${APP_HOST}/`, `HEAD ${TEAM}/cdn-cgi/access/login/${APP_HOST}`, `HEAD ${APP_HOST}/cdn-cgi/access/authorized`],
  );
  assert.equal(hops[0]!.headers.cookie, undefined);
  assert.equal(hops[1]!.headers.cookie, `CF_Authorization=${org}`);
  assert.equal(hops[2]!.headers.cookie, 'CF_AppSession=sess-1');
});

test('org token refused: token-refused, the token never in the message', async () => {
  const org = orgToken();
  edge.acceptOrg = undefined;
  await assert.rejects(exchangeOrgToken(edge.server.client(), appUrl, org, TEAM), (err: unknown) => {
    assert.ok(err instanceof AccessError && err.code === 'token-refused');
    assert.ok(!err.message.includes(org));
    // The next step: sign in again for the app (each front end says it in its words).
    assert.equal(err.action, 'sign-in');
    assert.equal(err.host, appUrl.host);
    return true;
  });
});

async function authorizedAnswer(cookie: string | undefined): Promise<TestServer> {
  return await startServer((req, res) => {
    if (req.url.startsWith('/cdn-cgi/access/authorized')) {
      res.writeHead(302, { location: '/', ...(cookie ? { 'set-cookie': [cookie] } : {}) });
    } else if (req.url.startsWith('/cdn-cgi/access/login')) {
      res.writeHead(302, { location: `https://${APP_HOST}/cdn-cgi/access/authorized` });
    } else {
      res.writeHead(302, { location: `https://${TEAM}/cdn-cgi/access/login` });
    }
    res.end();
  });
}

test('only a CF_Authorization cookie with a future Expires counts', async () => {
  const future = new Date(Date.now() + 3600_000).toUTCString();
  const past = new Date(Date.now() - 3600_000).toUTCString();
  const cases: Array<[string | undefined, boolean]> = [
    [`CF_Authorization=good.tok.en; Expires=${future}; Path=/`, true],
    [`CF_Authorization=old.tok.en; Expires=${past}; Path=/`, false],
    ['CF_Authorization=maxage.tok.en; Max-Age=3600; Path=/', false],
    [`CF_Authorization=; Expires=${future}`, false],
    [`Other=x; Expires=${future}`, false],
    [undefined, false],
  ];
  for (const [cookie, ok] of cases) {
    const srv = await authorizedAnswer(cookie);
    try {
      const p = exchangeOrgToken(srv.client(), appUrl, orgToken(), TEAM);
      if (ok) assert.equal(await p, 'good.tok.en');
      else await assert.rejects(p, (err: unknown) => err instanceof AccessError && err.code === 'token-refused', String(cookie));
      // The redirect after authorized is never followed.
      assert.equal(srv.seen.length, 3);
    } finally {
      await srv.close();
    }
  }
});

test('redirect loop and server errors are http errors', async () => {
  const loop = await startServer((_req, res) => {
    res.writeHead(302, { location: '/again' });
    res.end();
  });
  try {
    await assert.rejects(
      exchangeOrgToken(loop.client(), appUrl, orgToken(), TEAM),
      (err: unknown) => err instanceof AccessError && err.code === 'http' && /redirects/.test(err.message),
    );
    assert.equal(loop.seen.length, 11);
  } finally {
    await loop.close();
  }
  const broken = await startServer((_req, res) => {
    res.writeHead(503);
    res.end();
  });
  try {
    await assert.rejects(
      exchangeOrgToken(broken.client(), appUrl, orgToken(), TEAM),
      (err: unknown) => err instanceof AccessError && err.code === 'http' && /503/.test(err.message),
    );
  } finally {
    await broken.close();
  }
  const insecure = await startServer((_req, res) => {
    res.writeHead(302, { location: 'http://x.sandbox.test/' });
    res.end();
  });
  try {
    await assert.rejects(
      exchangeOrgToken(insecure.client(), appUrl, orgToken(), TEAM),
      (err: unknown) => err instanceof AccessError && err.code === 'http' && /non-https/.test(err.message),
    );
  } finally {
    await insecure.close();
  }
});

// Issue 11, item 1: the org token (the whole team's session) goes only to the team's
// auth domain; a redirect to a login path anywhere else ends the exchange.
test('a redirect to a login page on another host ends the exchange; the org token is not sent there', async () => {
  const org = orgToken();
  for (const elsewhere of [
    `https://evil.sandbox.test/cdn-cgi/access/login/${APP_HOST}`,
    `https://${TEAM}.evil.sandbox.test/cdn-cgi/access/login`,
    `https://${TEAM}:8443/cdn-cgi/access/login`,
  ]) {
    const srv = await startServer((req, res) => {
      res.writeHead(302, { location: req.headers.host === APP_HOST ? elsewhere : `https://${APP_HOST}/cdn-cgi/access/authorized` });
      res.end();
    });
    try {
      await assert.rejects(
        exchangeOrgToken(srv.client(), appUrl, org, TEAM),
        (err: unknown) =>
          err instanceof AccessError &&
          err.code === 'token-refused' &&
          /neither the application nor its team domain/.test(err.message) &&
          !err.message.includes(org),
      );
      assert.equal(srv.seen.length, 1, 'nothing was sent to the other host');
      assert.ok(srv.seen.every((h) => !String(h.headers.cookie ?? '').includes(org)));
    } finally {
      await srv.close();
    }
  }
});

test('the whole exchange has one deadline (cloudflared: 7 s), however many hops', async () => {
  // Every hop answers after a pause: each alone is well within the per-request timeout.
  const slow = await startServer((req, res) => {
    setTimeout(() => {
      res.writeHead(302, {
        location: req.url.startsWith('/cdn-cgi/access/login') ? `https://${APP_HOST}/x` : `https://${TEAM}/cdn-cgi/access/login`,
      });
      res.end();
    }, 300);
  });
  try {
    await assert.rejects(
      exchangeOrgToken(slow.client(), appUrl, orgToken(), TEAM, { timeoutMs: 1000 }),
      (err: unknown) => err instanceof AccessError && err.code === 'timeout' && /took longer than 1s/.test(err.message),
    );
    assert.ok(slow.seen.length <= 4, `stopped at the deadline (${slow.seen.length} hops)`);
  } finally {
    await slow.close();
  }
});
