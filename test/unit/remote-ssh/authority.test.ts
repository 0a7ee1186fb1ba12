import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { hostFromAuthority, parseDeepLink, remoteAuthority, remoteTarget, sshAlias } from '../../../src/remote-ssh/authority.js';

test('alias and authority', () => {
  assert.equal(sshAlias('ssh.example.com'), 'cfpipe-ssh.example.com');
  assert.equal(remoteAuthority('ssh.example.com'), 'ssh-remote+cfpipe-ssh.example.com');
});

test('host from our authorities, plain and hex-JSON; others are not ours', () => {
  assert.equal(hostFromAuthority('ssh-remote+cfpipe-ssh.example.com'), 'ssh.example.com');
  assert.equal(hostFromAuthority('ssh-remote+jdoe@cfpipe-ssh.example.com'), 'ssh.example.com');
  const hex = Buffer.from(JSON.stringify({ hostName: 'cfpipe-ssh.example.com', user: 'jdoe' })).toString('hex');
  assert.equal(hostFromAuthority(`ssh-remote+${hex}`), 'ssh.example.com');
  assert.equal(hostFromAuthority('ssh-remote+other.example.com'), undefined);
  assert.equal(hostFromAuthority('wsl+Ubuntu'), undefined);
  assert.equal(hostFromAuthority('ssh-remote+cfpipe-bad host'), undefined);
  assert.equal(hostFromAuthority(undefined), undefined);
  assert.equal(hostFromAuthority('ssh-remote+7b7d'), undefined);
});

test('remote targets and folder URIs', () => {
  assert.deepEqual(remoteTarget('a.example.com'), { authority: 'ssh-remote+cfpipe-a.example.com' });
  assert.deepEqual(remoteTarget('a.example.com', '/home/jdoe/src/'), {
    authority: 'ssh-remote+cfpipe-a.example.com',
    path: '/home/jdoe/src',
  });
  assert.equal(remoteTarget('a.example.com', 'C:\\src').path, '/C:/src');
  assert.equal(remoteTarget('a.example.com', '/home/jdoe/my src').path, '/home/jdoe/my src');
});

test('deep links: connect with host, path, window', () => {
  assert.deepEqual(parseDeepLink('/connect', 'host=SSH.example.com'), { action: 'connect', hostname: 'ssh.example.com', window: 'new' });
  assert.deepEqual(parseDeepLink('/connect', 'host=a.example.com&path=%2Fhome%2Fjdoe&window=current'), {
    action: 'connect',
    hostname: 'a.example.com',
    path: '/home/jdoe',
    window: 'current',
  });
  // The link a README or a teammate would give: vscode://<extension id>/connect?host=…&path=…
  const u = new URL(`vscode://access-ssh.access-ssh/connect?${new URLSearchParams({ host: 'a.example.com', path: '/srv/x' }).toString()}`);
  assert.equal(u.protocol, 'vscode:');
  assert.equal(parseDeepLink(u.pathname, u.search.slice(1)).path, '/srv/x');
});

test('hostile deep links are refused', () => {
  const bad: Array<[string, string]> = [
    ['/delete', 'host=a.example.com'],
    ['/connect', ''],
    ['/connect', 'host='],
    ['/connect', 'host=a.example.com%20-oProxyCommand%3Devil'],
    ['/connect', 'host=a.example.com%0AProxyCommand%20evil'],
    ['/connect', 'host=-oProxyCommand%3Devil'],
    ['/connect', 'host=a.example.com&host=b.example.com'],
    ['/connect', 'host=a.example.com&path=relative'],
    ['/connect', 'host=a.example.com&path=%2Fx%0Ay'],
    ['/connect', 'host=a.example.com&window=other'],
    ['/connect', 'host=a.example.com&command=evil'],
  ];
  for (const [p, q] of bad) assert.throws(() => parseDeepLink(p, q), Error, `${p}?${q}`);
});
