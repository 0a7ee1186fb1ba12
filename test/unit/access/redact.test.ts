import { test } from 'node:test';
import assert from 'node:assert/strict';
import { logLines, redact, redactingLogger } from '../../../src/access/redact.js';
import { fakeJwt } from './helpers.js';

const jwt = fakeJwt({ aud: 'a', exp: 1, iss: 'x', email: 'jdoe@example.com' });

test('JWTs anywhere are masked', () => {
  const out = redact(`got token ${jwt} for host`);
  assert.ok(!out.includes(jwt));
  assert.match(out, /got token \[redacted\] for host/);
  // A JWT with an empty signature (alg none) is masked too.
  const unsigned = jwt.slice(0, jwt.lastIndexOf('.') + 1);
  assert.ok(!redact(unsigned).includes(unsigned.split('.')[1]!));
});

test('PEM private keys are masked, public material kept', () => {
  const pem = '-----BEGIN EC PRIVATE KEY-----\nMHcCAQEEIB\nabc\n-----END EC PRIVATE KEY-----';
  const out = redact(`key:\n${pem}\nssh-ed25519 AAAAC3 pub`);
  assert.ok(!out.includes('MHcCAQEEIB'));
  assert.match(out, /BEGIN EC PRIVATE KEY/);
  assert.match(out, /ssh-ed25519 AAAAC3 pub/);
  const openssh = '-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----';
  assert.ok(!redact(openssh).includes('b3BlbnNzaC1rZXk'));
  // Truncated block (no END) is still masked.
  assert.ok(!redact('-----BEGIN PRIVATE KEY-----\nSECRETDATA').includes('SECRETDATA'));
});

test('cookies, headers, query values', () => {
  const cases: Array<[string, string]> = [
    ['Cookie: CF_Authorization=abc.def; CF_AppSession=sess123', 'abc.def'],
    ['Cookie: CF_Authorization=abc.def; CF_AppSession=sess123', 'sess123'],
    ['Set-Cookie: CF_AppSession=sess123; Path=/', 'sess123'],
    ['Cf-Access-Token: opaque-secret-value', 'opaque-secret-value'],
    ['cf-access-client-secret: 0123456789abcdef', '0123456789abcdef'],
    ['{"Cf-Access-Client-Secret":"s3cr3t"}', 's3cr3t'],
    ['GET https://h/cdn-cgi/access/cli?aud=x&token=PUBKEY%3D&x=1', 'PUBKEY'],
    ['token=abc', 'abc'],
    ['{"app_token":"opaque1","org_token":"opaque2"}', 'opaque1'],
    ['{"app_token":"opaque1","org_token":"opaque2"}', 'opaque2'],
  ];
  for (const [input, secret] of cases) {
    const out = redact(input);
    assert.ok(!out.includes(secret), `${input} -> ${out}`);
    assert.match(out, /\[redacted\]/);
  }
  assert.match(redact('GET https://h/x?aud=keepme&token=s'), /aud=keepme/);
  assert.equal(redact('nothing secret here: ssh.example.com 200'), 'nothing secret here: ssh.example.com 200');
});

test('redactingLogger masks every level', () => {
  const lines: string[] = [];
  const sink = {
    trace: (m: string) => lines.push(m),
    debug: (m: string) => lines.push(m),
    info: (m: string) => lines.push(m),
    warn: (m: string) => lines.push(m),
    error: (m: string) => lines.push(m),
  };
  const log = redactingLogger(sink);
  log.trace(jwt);
  log.debug(jwt);
  log.info(jwt);
  log.warn(jwt);
  log.error(jwt);
  assert.equal(lines.length, 5);
  for (const l of lines) assert.equal(l, '[redacted]');
});

test('a JWT cut after its payload is still masked', () => {
  const cut = jwt.slice(0, jwt.indexOf('.', jwt.indexOf('.') + 1) - 3);
  const out = redact(`body: ${cut}`);
  assert.equal(out, 'body: [redacted]');
});

test('logLines: secrets masked, every line safe to show and capped (the CLI and the extension log through it)', () => {
  const hostile = `Signed in as \u001b[2Jevil\u001b]0;title\u0007@example.com\r\nforged: line\u202etxt.exe ${jwt} ${'x'.repeat(5000)}`;
  const lines = logLines(hostile);
  assert.equal(lines.length, 2, 'a line break in a value stays a line break: no third, forged line');
  for (const l of lines) {
    assert.doesNotMatch(l, /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/, 'no raw control or bidi character');
    assert.ok(l.length <= 2000 + 1 + 6 * 2000, 'capped');
  }
  assert.match(lines[0] ?? '', /Signed in as \\u001b\[2Jevil\\u001b\]0;title\\u0007@example\.com/);
  assert.ok(!lines.join('\n').includes(jwt), 'the token is masked');
  assert.ok((lines[1] ?? '').startsWith('forged: line\\u202etxt.exe'));
  assert.ok((lines[1] ?? '').length < 2200, 'the 5,000-character tail is cut');
  const seen: string[] = [];
  redactingLogger({
    trace: (m) => seen.push(m),
    debug: (m) => seen.push(m),
    info: (m) => seen.push(m),
    warn: (m) => seen.push(m),
    error: (m) => seen.push(m),
  }).info(hostile);
  assert.equal(seen[0], lines.join('\n'), 'the wrapped logger writes exactly those lines');
});
