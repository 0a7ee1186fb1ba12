import { test, before, after, beforeEach } from 'node:test';
import assert from 'node:assert/strict';
import { clearJwksCache, discoverApp, parseAuthDomain } from '../../../src/access/metadata.js';
import { AccessError } from '../../../src/access/errors.js';
import { APP_HOST, AUD, TEAM, rsaKey, signMetadata, startEdge, type FakeEdge } from './edge.js';
import { nowSeconds, startServer, type TestServer } from './helpers.js';

let edge: FakeEdge;
before(async () => {
  edge = await startEdge();
});
after(() => edge.close());
beforeEach(() => {
  clearJwksCache();
  edge.metadata = {};
});

const appUrl = new URL(`https://${APP_HOST}/`);

async function rejectsMetadata(p: Promise<unknown>, re: RegExp): Promise<void> {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof AccessError, String(err));
    assert.equal(err.code, 'metadata');
    assert.match(err.message, re);
    return true;
  });
}

test('verified metadata gives the app info; no redirect followed', async () => {
  const info = await discoverApp(edge.server.client(), appUrl);
  assert.deepEqual(info, { authDomain: TEAM, appAud: AUD, appHostname: APP_HOST });
  const head = edge.server.seen.find((r) => r.method === 'HEAD' && r.host === APP_HOST)!;
  assert.equal(head.headers['cf-access-metadata-request'], 'true');
  assert.equal(
    edge.count((r) => r.url.startsWith('/cdn-cgi/access/login')),
    0,
  );
});

test('app_hostname falls back to hostname; wildcard app_hostname kept; case-insensitive host', async () => {
  edge.metadata = { app_hostname: '', hostname: 'SSH.Sandbox.Test' };
  assert.equal((await discoverApp(edge.server.client(), appUrl)).appHostname, 'SSH.Sandbox.Test');
  edge.metadata = { app_hostname: '*.sandbox.test' };
  assert.equal((await discoverApp(edge.server.client(), appUrl)).appHostname, '*.sandbox.test');
});

test('JWKS cached per auth domain for the process', async () => {
  const before = edge.count((r) => r.url === '/cdn-cgi/access/certs');
  await discoverApp(edge.server.client(), appUrl);
  await discoverApp(edge.server.client(), new URL('https://other.sandbox.test/'));
  assert.equal(edge.count((r) => r.url === '/cdn-cgi/access/certs') - before, 1);
});

test('no metadata header: no Access application, with hint', async () => {
  let plain: TestServer | undefined;
  try {
    plain = await startServer((_req, res) => {
      res.writeHead(200);
      res.end();
    });
    await assert.rejects(discoverApp(plain.client(), new URL('https://plain.sandbox.test/')), (err: unknown) => {
      assert.ok(err instanceof AccessError && err.code === 'metadata');
      assert.match(err.message, /No Access application at https:\/\/plain\.sandbox\.test\//);
      assert.ok(err.hint);
      return true;
    });
  } finally {
    await plain?.close();
  }
});

test('signed by a key not in the team JWKS', async () => {
  const other = await rsaKey('k1'); // same kid, different key
  const jwt = await signMetadata(other, { type: 'match', hostname: APP_HOST, auth_domain: TEAM, aud: AUD, iat: nowSeconds() });
  const srv = await forged(jwt);
  try {
    await rejectsMetadata(discoverApp(srv.client(), appUrl), /failed verification/);
  } finally {
    await srv.close();
  }
});

/** A server that answers metadata with a fixed JWT and serves the edge's real JWKS. */
async function forged(jwt: string): Promise<TestServer> {
  return await startServer((req, res) => {
    if (req.url === '/cdn-cgi/access/certs') {
      res.writeHead(200);
      res.end(JSON.stringify({ keys: [edge.key.jwk] }));
      return;
    }
    res.writeHead(302, { 'cf-access-metadata': jwt });
    res.end();
  });
}

test('non-RS256 algorithm refused', async () => {
  const jwt = `${Buffer.from('{"alg":"none"}').toString('base64url')}.${Buffer.from(JSON.stringify({ type: 'match', hostname: APP_HOST, auth_domain: TEAM, aud: AUD, iat: nowSeconds() })).toString('base64url')}.`;
  const srv = await forged(jwt);
  try {
    await rejectsMetadata(discoverApp(srv.client(), appUrl), /not a valid JWT|RS256/);
  } finally {
    await srv.close();
  }
  const garbage = await forged('garbage');
  try {
    await rejectsMetadata(discoverApp(garbage.client(), appUrl), /not a valid JWT/);
  } finally {
    await garbage.close();
  }
});

test('foreign auth_domain refused before any key fetch', async () => {
  edge.metadata = { auth_domain: 'evil.example.com' };
  const certsBefore = edge.count((r) => r.url === '/cdn-cgi/access/certs');
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /does not end with \.cloudflareaccess\.com/);
  assert.equal(
    edge.count((r) => r.url === '/cdn-cgi/access/certs'),
    certsBefore,
  );
});

test('parseAuthDomain oddities', () => {
  assert.equal(parseAuthDomain('Team.CloudflareAccess.com'), 'team.cloudflareaccess.com');
  for (const bad of [
    '',
    'https://team.cloudflareaccess.com',
    'team.cloudflareaccess.com:443',
    'team.cloudflareaccess.com/x',
    'user@team.cloudflareaccess.com',
    '.cloudflareaccess.com',
    'cloudflareaccess.com',
    'evilcloudflareaccess.com',
    'team.cloudflareaccess.com.evil.com',
    'team.cloudflareaccess.com.',
    'a b.cloudflareaccess.com',
    42,
    undefined,
  ]) {
    assert.throws(
      () => parseAuthDomain(bad),
      (err: unknown) => err instanceof AccessError && err.code === 'metadata',
      String(bad),
    );
  }
});

test('an app_hostname that is no host name (a line break, a space, a bad path) is refused, never a file name', async () => {
  for (const bad of ['evil\n.sandbox.test', 'a b.sandbox.test', '../../x', 'sandbox.test/a b', '*.*.sandbox.test']) {
    edge.metadata = { app_hostname: bad };
    await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /names the application .* which is not a host name/);
  }
  edge.metadata = { app_hostname: 'sandbox.test/admin' };
  assert.equal((await discoverApp(edge.server.client(), appUrl)).appHostname, 'sandbox.test/admin', 'a path is kept');
});

test('hostname mismatch', async () => {
  edge.metadata = { hostname: 'other.sandbox.test' };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /not ssh\.sandbox\.test/);
});

test('wrong type', async () => {
  edge.metadata = { type: 'nomatch' };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /type/);
});

test('aud must be a non-empty string', async () => {
  edge.metadata = { aud: '' };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /audience/);
  edge.metadata = { aud: [AUD] };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /audience/);
});

test('iat: older than 24h, more than 5 min ahead, missing', async () => {
  edge.metadata = { iat: nowSeconds() - 24 * 3600 - 60 };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /older than 24 hours/);
  edge.metadata = { iat: nowSeconds() + 6 * 60 };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /future/);
  edge.metadata = { iat: undefined };
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl), /iat/);
  // Within bounds: 23 h old, and 4 min ahead.
  edge.metadata = { iat: nowSeconds() - 23 * 3600 };
  await discoverApp(edge.server.client(), appUrl);
  edge.metadata = { iat: nowSeconds() + 4 * 60 };
  await discoverApp(edge.server.client(), appUrl);
  // The `now` option moves the window.
  edge.metadata = {};
  await rejectsMetadata(discoverApp(edge.server.client(), appUrl, { now: new Date(Date.now() + 25 * 3600_000) }), /older/);
});

test('JWKS endpoint failure is a metadata error', async () => {
  const srv = await startServer(async (req, res) => {
    if (req.url === '/cdn-cgi/access/certs') {
      res.writeHead(500);
      res.end();
      return;
    }
    res.writeHead(302, {
      'cf-access-metadata': await signMetadata(edge.key, {
        type: 'match',
        hostname: APP_HOST,
        auth_domain: TEAM,
        aud: AUD,
        iat: nowSeconds(),
      }),
    });
    res.end();
  });
  try {
    await rejectsMetadata(discoverApp(srv.client(), appUrl), /HTTP 500/);
  } finally {
    await srv.close();
  }
});
