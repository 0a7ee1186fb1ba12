// cert_sign: the request, error bodies and refusals against a loopback HTTPS server.
// Certificates made by the real ssh-keygen and the renewal against the sandbox edge are
// integration tests (test/integration/access/cert.test.ts).

import { parseAppToken } from '../../../src/access/jwt.js';
import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { certSignUrl, signCertificate } from '../../../src/access/cert-sign.js';
import { isAccessError } from '../../../src/access/errors.js';
import { type AppToken } from '../../../src/access/types.js';
import { fakeJwt, nowSeconds, startServer, type TestServer } from './helpers.js';

const ISS = 'https://sandbox.cloudflareaccess.com';

function token(claims: Record<string, unknown> = {}): AppToken {
  return parseAppToken(fakeJwt({ iss: ISS, aud: ['aud1'], email: 'jdoe@example.com', exp: nowSeconds() + 3600, ...claims })).token;
}

describe('cert_sign', () => {
  let server: TestServer;
  let reply: (body: Buffer, res: import('node:http').ServerResponse) => void;
  before(async () => {
    server = await startServer((req, res) => reply(req.body, res));
  });
  after(() => server.close());

  const PUB =
    'ecdsa-sha2-nistp256 AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBPdCZTpLWSYKZ+eOtoQ2uDK2u8TIrNBXo0X64NPG0AiC7XWdC1hGwpaiif7b1f5BQgfNabG4WXHAtGFZVYKxCQg=';

  test('POSTs public_key, jwt and issuer to <iss>/cdn-cgi/access/cert_sign', async () => {
    reply = (_b, res) => {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(
        JSON.stringify({ id: 'abc', certificate: 'ecdsa-sha2-nistp256-cert-v01@openssh.com AAAA', expires_at: '2030-01-01T00:00:00Z' }),
      );
    };
    const t = token();
    const signed = await signCertificate(server.client(), t, PUB + '\n');
    assert.equal(signed.id, 'abc');
    assert.equal(signed.certificate, 'ecdsa-sha2-nistp256-cert-v01@openssh.com AAAA');
    assert.equal(signed.expiresAt?.toISOString(), '2030-01-01T00:00:00.000Z');
    const seen = server.seen.at(-1)!;
    assert.equal(seen.method, 'POST');
    assert.equal(seen.host, 'sandbox.cloudflareaccess.com');
    assert.equal(seen.url, '/cdn-cgi/access/cert_sign');
    assert.equal(seen.headers['content-type'], 'application/json');
    assert.deepEqual(JSON.parse(seen.body.toString()), { public_key: PUB, jwt: t, issuer: ISS });
  });

  test('a JSON error gives its status and message', async () => {
    reply = (_b, res) => {
      res.writeHead(400, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ status: 400, message: 'short-lived certificates are not enabled' }));
    };
    await assert.rejects(signCertificate(server.client(), token(), PUB), (err: unknown) => {
      assert.ok(isAccessError(err, 'cert-sign'));
      assert.match(err.message, /HTTP 400/);
      assert.match(err.message, /short-lived certificates are not enabled/);
      return true;
    });
  });

  test('a non-JSON error body (cloudflared #1271) is quoted short, redacted, with the status', async () => {
    const t = token();
    reply = (_b, res) => {
      res.writeHead(502, { 'content-type': 'text/html' });
      res.end(`<html><head><title>502 Bad Gateway</title></head>\n<body>echo ${t} ${'x'.repeat(5000)}</body></html>`);
    };
    await assert.rejects(signCertificate(server.client(), t, PUB), (err: unknown) => {
      assert.ok(isAccessError(err, 'cert-sign'));
      assert.match(err.message, /HTTP 502/);
      assert.match(err.message, /not JSON/);
      assert.match(err.message, /502 Bad Gateway/);
      assert.ok(!err.message.includes(t), 'the token must not be echoed');
      assert.ok(err.message.length < 400, 'the excerpt is short');
      assert.ok(!err.message.includes('\n'));
      return true;
    });
  });

  test('200 with garbage, or without a certificate, is an error', async () => {
    for (const body of ['<html>ok</html>', '{"id":"x"}', '[]', '']) {
      reply = (_b, res) => {
        res.writeHead(200);
        res.end(body);
      };
      await assert.rejects(
        signCertificate(server.client(), token(), PUB),
        (err: unknown) => isAccessError(err, 'cert-sign') && /HTTP 200/.test(err.message),
      );
    }
  });

  test('401 and 403 mean the token was refused', async () => {
    for (const status of [401, 403]) {
      reply = (_b, res) => {
        res.writeHead(status, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ status, message: 'invalid token' }));
      };
      await assert.rejects(signCertificate(server.client(), token(), PUB), (err: unknown) => isAccessError(err, 'token-refused'));
    }
  });

  test('the token is only ever sent to an https issuer', async () => {
    const before = server.seen.length;
    for (const iss of [
      'http://sandbox.cloudflareaccess.com',
      'file:///etc/passwd',
      'not a url',
      'https://u:p@sandbox.cloudflareaccess.com',
      'https://sandbox.cloudflareaccess.com/?x=1',
    ]) {
      await assert.rejects(signCertificate(server.client(), token({ iss }), PUB), (err: unknown) => isAccessError(err, 'cert-sign'));
    }
    assert.equal(server.seen.length, before, 'no request was made');
    assert.equal(certSignUrl('https://team.cloudflareaccess.com/').href, 'https://team.cloudflareaccess.com/cdn-cgi/access/cert_sign');
  });
});
