import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { ACTION_LABELS, classifyFailure, firstLine } from '../../../src/hosts/failure.js';

const H = 'ssh.example.com';

test('each cause gets the one next step that can help', () => {
  const cases: Array<[Parameters<typeof classifyFailure>[1], string, string]> = [
    [{ code: 'login-required', message: `Not signed in to Cloudflare Access for ${H}` }, 'signIn', 'signed out'],
    [{ code: 'token-refused', message: 'Certificate signing refused the app token (HTTP 401)' }, 'signIn', 'sign-in refused'],
    [{ code: 'timeout', message: 'The browser login did not finish within 10s', hint: 'Sign in again' }, 'signIn', 'sign-in timed out'],
    [{ code: 'timeout', message: `No answer from ${H} within 30 s` }, 'retry', 'no answer'],
    [
      { code: 'metadata', message: `No Access application at https://${H}/ (the answer, HTTP 404, has no cf-access-metadata header)` },
      'editHost',
      'not an Access app',
    ],
    [{ code: 'metadata', message: `The Access edge failed to answer for https://${H}/ (HTTP 502, twice)` }, 'retry', 'Access edge error'],
    [
      { code: 'metadata', message: 'The Access metadata is older than 24 hours', hint: 'Check the system clock.' },
      'showLog',
      'clock out of sync',
    ],
    [{ code: 'metadata', message: 'The Access metadata failed verification against the keys' }, 'showLog', 'Access check failed'],
    [{ code: 'network', message: `Cannot reach ${H}: getaddrinfo ENOTFOUND ${H}`, causeCode: 'ENOTFOUND' }, 'editHost', 'host not found'],
    [{ code: 'network', message: `Cannot reach ${H}: getaddrinfo EAI_AGAIN`, causeCode: 'EAI_AGAIN' }, 'editHost', 'host not found'],
    [
      {
        code: 'network',
        message: `Cannot reach ${H}: Hostname/IP does not match certificate's altnames: Host: ${H}. is not in the cert's altnames: DNS:a, DNS:b`,
        causeCode: 'ERR_TLS_CERT_ALTNAME_INVALID',
      },
      'editHost',
      'not served by Access',
    ],
    [
      {
        code: 'network',
        message: `Cannot reach ${H}: self-signed certificate in certificate chain`,
        causeCode: 'SELF_SIGNED_CERT_IN_CHAIN',
      },
      'showLog',
      'untrusted TLS',
    ],
    [{ code: 'network', message: `Cannot reach ${H}: connect ECONNREFUSED`, causeCode: 'ECONNREFUSED' }, 'retry', 'cannot reach'],
    [{ code: 'cert-sign', message: 'Certificate signing failed (HTTP 500)' }, 'retry', 'no certificate'],
    [{ code: 'cert-invalid', message: 'The certificate from Access was refused: not for our key' }, 'showLog', 'bad certificate'],
    [{ code: 'transfer', message: 'The login service failed with HTTP 503' }, 'retry', 'login service error'],
    [{ code: 'transfer', message: 'The login service answer is not JSON' }, 'signIn', 'sign-in failed'],
    [{ code: 'store', message: 'Cannot write the certificate files' }, 'showLog', 'cannot save files'],
    [{ code: 'config', message: 'Cannot read the extra CA file' }, 'showLog', 'settings problem'],
    [{ message: 'something odd happened\nwith a second line' }, 'showLog', 'something odd happened'],
  ];
  for (const [input, action, reason] of cases) {
    const f = classifyFailure(H, input);
    assert.equal(f.action, action, `${input.message}: action`);
    assert.equal(f.reason, reason, `${input.message}: reason`);
    assert.ok(f.reason.length <= 40, `${f.reason} fits the row`);
    assert.ok(!f.summary.includes('\n'), 'the summary is one line');
    assert.ok(f.detail.includes(input.message), 'the detail keeps the whole message');
    if (input.hint) assert.ok(f.detail.includes(input.hint), 'and the hint');
  }
});

test('an unknown host gets no TLS-proxy hint and no Sign In; a non-Access host no Sign In', () => {
  const unknown = classifyFailure('example.invalid', {
    code: 'network',
    message: 'Cannot reach example.invalid: getaddrinfo ENOTFOUND example.invalid',
    causeCode: 'ENOTFOUND',
  });
  assert.equal(unknown.summary, 'The host name example.invalid does not resolve.');
  assert.doesNotMatch(unknown.summary, /proxy|Sign In/i);
  assert.equal(ACTION_LABELS[unknown.action], 'Edit Host');
});

test('firstLine keeps one bounded line', () => {
  assert.equal(firstLine('a\nb'), 'a');
  assert.equal(firstLine('x'.repeat(300), 10), 'xxxxxxxxx…');
});
