import { test } from 'node:test';
import assert from 'node:assert/strict';
import { renderEntries, hostOptions, keyPaths, type RenderOptions } from '../../../src/ssh/entries.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { forgedHostname, hostname } from '../../support/hostname.js';

const LINUX: RenderOptions = { helper: '/opt/access ssh/access-ssh', platform: 'linux', nonInteractive: true };

test('renderEntries: exact text of one host', () => {
  assert.equal(
    renderEntries([{ hostname: hostname('ssh.example.com'), user: 'jdoe' }], LINUX),
    [
      '# managed by Access SSH; edits are overwritten',
      '',
      '# ssh.example.com: renew the certificate before ssh loads it',
      `Match originalhost cfpipe-ssh.example.com,ssh.example.com !exec "'/opt/access ssh/access-ssh' ssh-gen --hostname ssh.example.com --non-interactive --quiet-signed-out"`,
      '  LogLevel FATAL',
      '',
      'Host cfpipe-ssh.example.com',
      '  HostName ssh.example.com',
      '  User jdoe',
      `  ProxyCommand '/opt/access ssh/access-ssh' ssh --hostname %h --non-interactive`,
      '  IdentityFile "~/.cloudflared/ssh.example.com-cf_key"',
      '  CertificateFile "~/.cloudflared/ssh.example.com-cf_key-cert.pub"',
      '  IdentitiesOnly yes',
      '',
      'Host ssh.example.com',
      '  User jdoe',
      `  ProxyCommand '/opt/access ssh/access-ssh' ssh --hostname %h --non-interactive`,
      '  IdentityFile "~/.cloudflared/ssh.example.com-cf_key"',
      '  CertificateFile "~/.cloudflared/ssh.example.com-cf_key-cert.pub"',
      '  IdentitiesOnly yes',
      '',
    ].join('\n'),
  );
});

test('renderEntries: interactive, no user, extra args, key dir, Windows', () => {
  const out = renderEntries([{ hostname: hostname('a.example.com') }], {
    helper: 'C:\\Users\\Jane Doe\\AppData\\access-ssh.cmd'.replace('Jane Doe', 'jdoe'),
    keyDir: 'C:\\Users\\jdoe\\.cloudflared\\',
    platform: 'win32',
    nonInteractive: false,
    extraArgs: ['--log', 'debug'],
  });
  assert.ok(!out.includes('--non-interactive'));
  assert.ok(!out.includes('User '));
  assert.ok(
    out.includes(
      'Match originalhost cfpipe-a.example.com,a.example.com exec "C:\\Users\\jdoe\\AppData\\access-ssh.cmd ssh-gen --hostname a.example.com --log debug"\n',
    ),
  );
  assert.ok(out.includes('  ProxyCommand "C:\\Users\\jdoe\\AppData\\access-ssh.cmd" ssh --hostname %h --log debug\n'));
  assert.ok(out.includes('  IdentityFile "C:\\Users\\jdoe\\.cloudflared\\a.example.com-cf_key"\n'));
  assert.ok(out.includes('  CertificateFile "C:\\Users\\jdoe\\.cloudflared\\a.example.com-cf_key-cert.pub"\n'));
});

test('renderEntries is deterministic: sorted, duplicates merged, conflicting duplicates refused', () => {
  const a = renderEntries([{ hostname: hostname('b.example.com') }, { hostname: hostname('a.example.com'), user: 'x' }], LINUX);
  const b = renderEntries(
    [{ hostname: hostname('a.example.com'), user: 'x' }, { hostname: hostname('b.example.com') }, { hostname: hostname('b.example.com') }],
    LINUX,
  );
  assert.equal(a, b);
  assert.ok(a.indexOf('Host cfpipe-a.example.com') < a.indexOf('Host cfpipe-b.example.com'));
  assert.throws(
    () =>
      renderEntries(
        [
          { hostname: hostname('a.example.com'), user: 'x' },
          { hostname: hostname('a.example.com'), user: 'y' },
        ],
        LINUX,
      ),
    SshConfigError,
  );
  assert.equal(renderEntries([], LINUX), '# managed by Access SSH; edits are overwritten\n');
});

test('renderEntries validates every value first', () => {
  const bad: [Parameters<typeof renderEntries>[0], RenderOptions][] = [
    [[{ hostname: forgedHostname('a.example.com\nHost *') }], LINUX],
    [[{ hostname: hostname('a.example.com'), user: 'j doe' }], LINUX],
    [[{ hostname: hostname('a.example.com'), user: '$(id)' }], LINUX],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, helper: "/it's/helper" }],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, helper: 'relative/helper' }],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, keyDir: '/keys/"x"' }],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, keyDir: '/keys/${HOME}' }],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, keyDir: '' }],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, extraArgs: ["'"] }],
    [[{ hostname: hostname('a.example.com') }], { ...LINUX, platform: 'win32', helper: 'C:\\Program Files\\h.cmd' }],
  ];
  for (const [hosts, opts] of bad) assert.throws(() => renderEntries(hosts, opts), SshConfigError, JSON.stringify([hosts, opts]));
});

test('keyPaths joins with the key dir separator', () => {
  assert.deepEqual(keyPaths('h', '/k/', 'linux'), { key: '/k/h-cf_key', certificate: '/k/h-cf_key-cert.pub' });
  assert.deepEqual(keyPaths('h', '/', 'linux'), { key: '/h-cf_key', certificate: '/h-cf_key-cert.pub' });
  assert.equal(keyPaths('h', 'C:\\k', 'win32').key, 'C:\\k\\h-cf_key');
  assert.equal(keyPaths('h', 'C:/k', 'win32').key, 'C:/k/h-cf_key');
});

test('hostOptions gives the values written (for ssh -G checks)', () => {
  const o = hostOptions({ hostname: hostname('h.example.com'), user: 'jdoe' }, LINUX);
  assert.equal(o.alias, 'cfpipe-h.example.com');
  assert.equal(o.proxyCommand, `'/opt/access ssh/access-ssh' ssh --hostname %h --non-interactive`);
  assert.equal(o.identityFile, '"~/.cloudflared/h.example.com-cf_key"');
});

test('renderEntries: a FedRAMP host gets --fedramp before the subcommand of both helper calls (where cloudflared access takes it)', () => {
  const text = renderEntries(
    [{ hostname: hostname('fed.example.com'), user: 'jdoe', fedramp: true }, { hostname: hostname('plain.example.com') }],
    LINUX,
  );
  assert.ok(
    text.includes(`!exec "'/opt/access ssh/access-ssh' --fedramp ssh-gen --hostname fed.example.com --non-interactive --quiet-signed-out"`),
    text,
  );
  assert.equal(
    text.split('\n').filter((l) => l === `  ProxyCommand '/opt/access ssh/access-ssh' --fedramp ssh --hostname %h --non-interactive`)
      .length,
    2,
  );
  assert.ok(text.includes(`exec "'/opt/access ssh/access-ssh' ssh-gen --hostname plain.example.com --non-interactive --quiet-signed-out"`));
  assert.equal((text.match(/--fedramp/g) ?? []).length, 3, 'only the FedRAMP host');
  assert.throws(
    () => renderEntries([{ hostname: hostname('fed.example.com'), fedramp: true }, { hostname: hostname('fed.example.com') }], LINUX),
    /once with fedramp and once without/,
  );
});
