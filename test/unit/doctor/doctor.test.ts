// The doctor's pure parts: reading ssh -v, the carrier status map,
// and the Markdown / text reports (escaped, no secret).
import { strict as assert } from 'node:assert';
import { test } from 'node:test';
import { carrierStatus, readSshLog, type DoctorReport, type StepResult } from '../../../src/doctor/doctor';
import { renderJson, renderMarkdown, renderText, stepFromJson, stepNext } from '../../../src/doctor/report';
import { cliWords } from '../../../src/cli/next-step';
import { EXTENSION_WORDS } from '../../../src/hosts/failure';

const CLI = cliWords({ env: {}, self: ['/usr/bin/node', '/opt/access ssh/access-ssh.js'], platform: 'linux' });

test('readSshLog: host key, the certificate offered, acceptance', () => {
  const log = readSshLog(
    [
      'debug1: Server host key: ssh-ed25519 SHA256:abc',
      "debug1: Host 'h' is known and matches the ED25519 host key.",
      'debug1: Authentications that can continue: publickey',
      'debug1: Offering public key: /k/h-cf_key-cert.pub ECDSA-CERT SHA256:x explicit',
      'debug1: Server accepts key: /k/h-cf_key-cert.pub ECDSA-CERT SHA256:x explicit',
      'Authenticated to h (via proxy) using "publickey".',
    ].join('\n'),
  );
  assert.equal(log.hostKey, 'ssh-ed25519 SHA256:abc');
  assert.equal(log.hostKeyKnown, true);
  assert.deepEqual(log.offered, ['/k/h-cf_key-cert.pub ECDSA-CERT SHA256:x']);
  assert.equal(log.accepted, true);
  assert.equal(log.authenticated, true);
  assert.equal(log.refused, false);
});

test('readSshLog: a refusal after the certificate was offered; an unknown host key in BatchMode', () => {
  const refused = readSshLog(
    [
      'debug1: Authentications that can continue: publickey',
      'debug1: Offering public key: /k/h-cf_key-cert.pub ECDSA-CERT SHA256:x explicit',
      'debug1: Authentications that can continue: publickey',
      'jdoe@h: Permission denied (publickey).',
    ].join('\n'),
  );
  assert.equal(refused.refused, true);
  assert.equal(refused.permissionDenied, 'Permission denied (publickey)');
  const unknown = readSshLog('debug1: Server host key: ssh-ed25519 SHA256:abc\nHost key verification failed.\n');
  assert.equal(unknown.hostKeyUnknown, true);
  const changed = readSshLog('@@@ WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED! @@@\nHost key verification failed.\n');
  assert.equal(changed.hostKeyChanged, true);
  assert.equal(changed.hostKeyUnknown, false);
});

test('carrierStatus: each status on a Cloudflare zone has its own cause and next step', () => {
  const seen = new Set<string>();
  for (const s of [403, 400, 426, 502, 521, 530]) {
    const m = carrierStatus(s, 'h.example.com');
    assert.ok(m.cause.includes(String(s)), `${s}: ${m.cause}`);
    assert.ok(m.next.length > 20);
    seen.add(m.next);
  }
  assert.match(carrierStatus(426, 'h').cause, /WebSockets are turned off/);
  assert.match(carrierStatus(530, 'h').next, /tunnel/);
  assert.equal(seen.size, 5, '400 and 426 share one; the others differ');
});

const report: DoctorReport = {
  host: 'h.example.com',
  alias: 'cfpipe-h.example.com',
  startedAt: '2026-11-30T15:00:00.000Z',
  ok: false,
  failed: 'carrier',
  steps: [
    { id: 'dns', title: 'name resolution', status: 'passed', ms: 3, details: ['h.example.com → 192.0.2.1'] },
    { id: 'proxy', title: 'proxy', status: 'skipped', ms: 0, details: [], cause: 'no proxy configured' },
    {
      id: 'carrier',
      title: 'carrier (websocket)',
      status: 'failed',
      ms: 40,
      details: ['a <b>|pipe|</b> and `code` *stars*'],
      cause: 'Access denied the connection (403)',
      next: 'Ask your administrator',
    },
  ],
};

test('renderText: one line per step, the cause and next step under a failure', () => {
  const t = renderText(report, CLI);
  assert.match(t, /^\[ok\] {3}name resolution +3 ms$/m);
  assert.match(t, /^\[skip\] proxy$/m);
  assert.match(
    t,
    /^\[FAIL\] carrier \(websocket\) +40 ms\n.*\n {9}cause: Access denied the connection \(403\)\n {9}next: {2}Ask your administrator$/m,
  );
  assert.match(t, /Failed at "carrier \(websocket\)"/);
});

test('renderMarkdown: a table of steps; values cannot become markup', () => {
  const m = renderMarkdown(report, EXTENSION_WORDS);
  assert.match(m, /^\| carrier \(websocket\) \| \*\*failed\*\* \| 40 ms \|$/m);
  assert.match(m, /^## carrier \(websocket\): \*\*failed\*\*$/m);
  assert.doesNotMatch(m, /\p{Extended_Pictographic}/u, 'no emoji: the editor font may have none');
  assert.match(m, /\*\*Next step:\*\* Ask your administrator/);
  assert.ok(m.includes('a \\<b\\>\\|pipe\\|\\</b\\> and \\`code\\` \\*stars\\*'), m);
});

/** The report of a signed-out host: the tokens step fails with the action sign-in (and one with a hint). */
const signedOut: DoctorReport = {
  ...report,
  failed: 'tokens',
  steps: [
    { id: 'tokens', title: 'tokens', status: 'failed', ms: 5, details: [], cause: 'Signed out', action: 'sign-in' },
    {
      id: 'carrier',
      title: 'carrier (websocket)',
      status: 'failed',
      ms: 7,
      details: [],
      cause: 'Access refused the app token (302 to the login)',
      action: 'sign-in',
      next: 'If a fresh sign-in is refused too, ask your Access administrator.',
    },
  ],
};

test("the sign-in step is an action each front end words for itself: the helper's command line, the extension's command", () => {
  const [tokens, carrier] = signedOut.steps as [StepResult, StepResult];
  const cli = stepNext(tokens, 'h.example.com', CLI) ?? '';
  const ext = stepNext(tokens, 'h.example.com', EXTENSION_WORDS) ?? '';
  assert.equal(
    cli,
    `Sign in with "Access: Sign In" in VS Code, or run: /usr/bin/node '/opt/access ssh/access-ssh.js' login https://h.example.com`,
  );
  assert.equal(ext, 'Sign in again with "Access: Sign In".');
  assert.doesNotMatch(ext, /login https|access-ssh/, 'the extension names no command line');
  // The hint follows the words.
  assert.match(
    stepNext(carrier, 'h.example.com', EXTENSION_WORDS) ?? '',
    /^Sign in again with "Access: Sign In"\. If a fresh sign-in is refused too/,
  );
  // Each renderer uses the words it is given.
  assert.ok(renderText(signedOut, CLI).includes(`next:  ${cli}`));
  assert.ok(renderMarkdown(signedOut, EXTENSION_WORDS).includes(`**Next step:** Sign in again with "Access: Sign In".`));
  assert.doesNotMatch(renderMarkdown(signedOut, EXTENSION_WORDS), /login https/);
});

test("--json: a step's next is the helper's whole text, with the action and hint kept for the extension to word", () => {
  const json = JSON.parse(renderJson(signedOut, CLI)) as DoctorReport;
  const [tokens, carrier] = json.steps as [StepResult & { hint?: string }, StepResult & { hint?: string }];
  assert.equal(tokens.action, 'sign-in');
  assert.match(tokens.next ?? '', /run: .* login https:\/\/h\.example\.com$/);
  assert.equal(tokens.hint, undefined);
  assert.equal(carrier.hint, 'If a fresh sign-in is refused too, ask your Access administrator.');
  assert.match(carrier.next ?? '', /login https:\/\/h\.example\.com If a fresh sign-in is refused too/);
  // Read back by the extension: the same steps as the report, worded by it.
  assert.deepEqual(json.steps.map(stepFromJson), signedOut.steps);
  assert.equal(
    stepNext(stepFromJson(carrier), json.host, EXTENSION_WORDS),
    'Sign in again with "Access: Sign In". If a fresh sign-in is refused too, ask your Access administrator.',
  );
  // A step without an action is written as it is.
  const plain = JSON.parse(renderJson(report, CLI)) as DoctorReport;
  assert.deepEqual(plain, report);
});
