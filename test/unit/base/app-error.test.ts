// One error model: every next step an error can carry is rendered by the helper and by
// the extension, each in its own words; the layers below say no front end's words.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { AppError, NEXT_STEPS, nextStepText } from '../../../src/base/app-error.js';
import { FileError, ioError } from '../../../src/base/file-error.js';
import { AccessError } from '../../../src/access/errors.js';
import { loginRequired } from '../../../src/access/token-flow.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { UsageError } from '../../../src/cli/args.js';
import { cliNextStep, cliWords } from '../../../src/cli/next-step.js';
import { buttonFor, classifyFailure, EXTENSION_WORDS, extensionNextStep } from '../../../src/hosts/failure.js';
import { parseDeepLink } from '../../../src/remote-ssh/authority.js';
import { hostname } from '../../support/hostname.js';

const io = { env: {}, self: ['/opt/node', '/ext/dist/access-ssh.js'], platform: 'linux' as const };

test('each next step is rendered by the helper and by the extension, in different words', () => {
  const cli = cliWords(io);
  for (const step of NEXT_STEPS) {
    const c = cli[step]('ssh.example.com');
    const e = EXTENSION_WORDS[step]('ssh.example.com');
    assert.ok(c.length > 0 && e.length > 0, step);
    assert.ok(!/\n/.test(c + e), `${step}: one line`);
    // The extension never shows a command line; the helper never a button.
    assert.doesNotMatch(e, /access-ssh|--hostname|ACCESS_SSH_/, `${step}: extension words`);
    assert.doesNotMatch(c, /\(Edit Host\)|accessSsh\./, `${step}: helper words`);
    assert.ok(['signIn', 'retry', 'editHost', 'showLog'].includes(buttonFor(step)), step);
  }
  assert.equal(
    cli['sign-in']('ssh.example.com'),
    'Sign in with "Access: Sign In" in VS Code, or run: /opt/node /ext/dist/access-ssh.js login https://ssh.example.com',
  );
  assert.equal(EXTENSION_WORDS['sign-in']('ssh.example.com'), 'Sign in again with "Access: Sign In".');
  assert.equal(buttonFor('sign-in'), 'signIn');
  assert.equal(buttonFor('edit-host'), 'editHost');
});

test('sign-in: the helper names the launcher the extension wrote, quoted for the shell', () => {
  const err = loginRequired('ssh.example.com');
  assert.equal(err.action, 'sign-in');
  assert.equal(err.hint, undefined, 'the protocol layer says no front end words');
  assert.equal(
    cliNextStep(err, { env: { ACCESS_SSH_LAUNCHER: "/home/j doe/it's/access-ssh" }, platform: 'linux' }),
    `Sign in with "Access: Sign In" in VS Code, or run: '/home/j doe/it'\\''s/access-ssh' login https://ssh.example.com`,
  );
  assert.equal(
    cliNextStep(err, { env: { ACCESS_SSH_LAUNCHER: 'C:\\Users\\J Doe\\access-ssh.cmd' }, platform: 'win32' }),
    'Sign in with "Access: Sign In" in VS Code, or run: "C:\\Users\\J Doe\\access-ssh.cmd" login https://ssh.example.com',
  );
  assert.equal(extensionNextStep(err), 'Sign in again with "Access: Sign In".');
  // A sign-in with more to say: the words, then the hint.
  const more = new AccessError('token-refused', 'refused', {
    action: 'sign-in',
    host: 'h.example.com',
    hint: 'If this persists, check the app.',
  });
  assert.equal(extensionNextStep(more), 'Sign in again with "Access: Sign In". If this persists, check the app.');
  assert.match(cliNextStep(more, io) ?? '', /login https:\/\/h\.example\.com If this persists, check the app\.$/);
  const f = classifyFailure('h.example.com', {
    code: 'token-refused',
    message: more.message,
    action: 'sign-in',
    hint: extensionNextStep(more) ?? '',
  });
  assert.equal(f.action, 'signIn');
  assert.match(f.detail, /"Access: Sign In"/);
});

test("the doctor's steps: the helper names its command line, the extension its command or setting", () => {
  const cli = cliWords(io);
  assert.equal(
    cli['refresh-certificate']('ssh.example.com'),
    'Run: /opt/node /ext/dist/access-ssh.js ssh-gen --hostname ssh.example.com, then try again.',
  );
  assert.equal(
    cli['write-entries']('ssh.example.com'),
    "Write the host's ssh entries: /opt/node /ext/dist/access-ssh.js config add --hostname ssh.example.com",
  );
  assert.match(cli['trust-network-ca'](undefined), /NODE_EXTRA_CA_CERTS/);
  assert.match(EXTENSION_WORDS['refresh-certificate']('ssh.example.com'), /"Access: Refresh Certificate"/);
  assert.match(EXTENSION_WORDS['write-entries']('ssh.example.com'), /"Access: Add Host…"/);
  assert.match(EXTENSION_WORDS['trust-network-ca'](undefined), /"Access SSH: Extra CA File"/);
  // Neither names the other front end.
  for (const step of ['refresh-certificate', 'write-entries', 'trust-network-ca'] as const) {
    assert.doesNotMatch(cli[step]('ssh.example.com'), /VS Code|Access: |Access SSH: /, step);
  }
});

test('other steps: the hint (the detail: file, setting) when there is one, else the words', () => {
  const e = new AppError('x', 'm', { action: 'retry' });
  assert.equal(nextStepText(e, EXTENSION_WORDS), 'Try again in a moment.');
  assert.equal(cliNextStep(e, io), 'Try again in a moment.');
  const full = ioError('write', '/d/f', Object.assign(new Error('ENOSPC: no space left on device'), { code: 'ENOSPC' }));
  assert.equal(full.action, 'free-space');
  assert.match(cliNextStep(full, io) ?? '', /Free some space on the disk that holds \/d\/f/);
  assert.equal(extensionNextStep(full), cliNextStep(full, io));
  assert.equal(nextStepText({ hint: 'plain' }, EXTENSION_WORDS), 'plain');
  assert.equal(nextStepText({}, EXTENSION_WORDS), undefined);
});

test('the action, not the text, decides the extension button', () => {
  const f = classifyFailure('h', { code: 'metadata', message: 'anything at all', action: 'edit-host' });
  assert.equal(f.action, 'editHost');
  assert.equal(classifyFailure('h', { code: 'metadata', message: 'No Access application at x', action: 'check-clock' }).action, 'showLog');
  assert.equal(classifyFailure('h', { code: 'changed-meanwhile', message: 'kept changing', action: 'retry' }).action, 'retry');
});

test('every error of ours is an AppError with a code', () => {
  const errors: AppError[] = [
    new AccessError('network', 'm'),
    new SshConfigError('m', 'h'),
    new UsageError('m', 'login'),
    new FileError('unsafe-dir', '/d', 'm', 'h'),
    (() => {
      try {
        parseDeepLink('/nope', '');
      } catch (err) {
        return err as AppError;
      }
      throw new Error('parseDeepLink accepted /nope');
    })(),
  ];
  for (const e of errors) {
    assert.ok(e instanceof AppError, e.name);
    assert.equal(typeof e.code, 'string');
  }
  assert.deepEqual(
    errors.map((e) => [e.name, e.code, e.action]),
    [
      ['AccessError', 'network', undefined],
      ['SshConfigError', 'invalid-value', 'fix-input'],
      ['UsageError', 'usage', 'fix-input'],
      ['FileError', 'unsafe-dir', 'fix-permissions'],
      ['AppError', 'invalid-link', 'fix-input'],
    ],
  );
});

test('a file-layer refusal keeps its next step when the access layer rewraps it', async (t) => {
  const { mkdtempSync, rmSync, writeFileSync, chmodSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  const { readCachedCertificate } = await import('../../../src/access/cert-file.js');
  const { validateHostname } = await import('../../../src/ssh/validate.js');
  const dir = mkdtempSync(join(tmpdir(), 'app-error-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  chmodSync(dir, 0o700);
  writeFileSync(join(dir, 'h.example.com-cf_key'), 'not a key', { mode: 0o644 });
  chmodSync(join(dir, 'h.example.com-cf_key'), 0o644);
  await assert.rejects(readCachedCertificate(dir, validateHostname('h.example.com')), (e: unknown) => {
    assert.ok(e instanceof AccessError && e.code === 'cert-invalid', String(e));
    assert.equal(e.action, 'fix-permissions');
    assert.match(e.hint ?? '', /chmod 600/);
    return true;
  });
});

test('the browser-login timeout, a bad proxy URL and an unusable extra CA file carry an action each front end words', async (t) => {
  const { runBrowserLogin } = await import('../../../src/access/transfer.js');
  const { HttpClient } = await import('../../../src/access/http.js');
  const { parseProxyUrl } = await import('../../../src/access/proxy.js');
  const { tempDir } = await import('../../support/tmp.js');
  const { writeFileSync } = await import('node:fs');
  const { join } = await import('node:path');
  const caught = async (fn: () => unknown): Promise<AccessError> => {
    try {
      await fn();
    } catch (err) {
      assert.ok(err instanceof AccessError, String(err));
      return err;
    }
    assert.fail('no error');
  };

  // The login's deadline has passed before the first poll: no request is made.
  const timeout = await caught(() =>
    runBrowserLogin(new HttpClient(), {
      appUrl: new URL('https://ssh.example.com/'),
      appInfo: { authDomain: 'team.cloudflareaccess.com', appAud: 'aud1', appHostname: hostname('ssh.example.com') },
      openBrowser: () => undefined,
      timeoutMs: 0,
    }),
  );
  assert.equal(timeout.code, 'timeout');
  assert.equal(timeout.action, 'sign-in');
  assert.equal(timeout.host, 'ssh.example.com');
  assert.match(cliNextStep(timeout, io) ?? '', /^Sign in with .* login https:\/\/ssh\.example\.com Complete the login page/);
  assert.match(extensionNextStep(timeout) ?? '', /^Sign in again with "Access: Sign In"\. Complete the login page/);
  assert.equal(classifyFailure('ssh.example.com', { code: 'timeout', message: timeout.message, action: 'sign-in' }).action, 'signIn');

  const proxies = ['http://', 'socks5://proxy.example:1080', 'http://proxy.example:3128/path', 'http://us%zzer:secret@proxy.example:3128'];
  for (const value of proxies) {
    const err = await caught(() => parseProxyUrl(value, 'HTTPS_PROXY'));
    assert.equal(err.code, 'config', value);
    assert.equal(err.action, 'check-proxy', value);
    assert.equal(err.hint, undefined, `${value}: the words say where to look, the message how to write it`);
    assert.doesNotMatch(err.message, /secret/, 'no password in the message');
    assert.equal(cliNextStep(err, io), 'Check HTTPS_PROXY / ALL_PROXY (and NO_PROXY) and the proxy credentials.');
    assert.equal(extensionNextStep(err), 'Check the http.proxy setting (or HTTPS_PROXY) and the proxy credentials.');
  }

  const dir = tempDir(t);
  const notPem = join(dir, 'ca.txt');
  writeFileSync(notPem, 'not a certificate\n');
  for (const file of [join(dir, 'missing.pem'), notPem]) {
    const err = await caught(() => new HttpClient({ extraCaFile: file }));
    assert.equal(err.code, 'config', file);
    assert.equal(err.action, 'check-ca-file', file);
    assert.match(cliNextStep(err, io) ?? '', /^Point NODE_EXTRA_CA_CERTS at a readable PEM file/);
    assert.match(extensionNextStep(err) ?? '', /^Point the "Access SSH: Extra CA File" setting \(accessSSH\.extraCAFile\)/);
    const f = classifyFailure('ssh.example.com', {
      code: err.code,
      message: err.message,
      action: 'check-ca-file',
      hint: extensionNextStep(err) ?? '',
    });
    assert.equal(f.action, 'showLog');
    assert.match(f.detail, /accessSSH\.extraCAFile/);
  }
});
