import { test } from 'node:test';
import assert from 'node:assert/strict';
import { deepLinkEntry, handOff, hostsForConnect, type HandOffInput } from '../../../src/remote-ssh/hand-off.js';
import { MS_REMOTE_SSH } from '../../../src/remote-ssh/detect.js';
import { hostname } from '../../support/hostname.js';

const base: HandOffInput = {
  host: 'ssh.example.com',
  installed: [{ id: MS_REMOTE_SSH }],
  appName: 'Visual Studio Code',
  window: 'default',
  windowInUse: false,
};

test('Remote - SSH installed, an empty local window: opened here, on the cfpipe- alias', () => {
  const plan = handOff(base);
  assert.equal(plan.kind, 'open');
  assert.deepEqual(plan.kind === 'open' && { id: plan.flavor.id, target: plan.target, reuse: plan.reuseWindow }, {
    id: MS_REMOTE_SSH,
    target: { authority: 'ssh-remote+cfpipe-ssh.example.com' },
    reuse: true,
  });
});

test('a window in use gets a new window by default; "current" and "new" are obeyed', () => {
  const reuse = (input: Partial<HandOffInput>) => {
    const plan = handOff({ ...base, ...input });
    return plan.kind === 'open' ? plan.reuseWindow : undefined;
  };
  assert.equal(reuse({ windowInUse: true }), false);
  assert.equal(reuse({ windowInUse: true, window: 'current' }), true);
  assert.equal(reuse({ window: 'new' }), false);
});

test("the host's folder becomes the remote path", () => {
  const plan = handOff({ ...base, path: '/srv/app/' });
  assert.deepEqual(plan.kind === 'open' && plan.target, { authority: 'ssh-remote+cfpipe-ssh.example.com', path: '/srv/app' });
});

test("no Remote-SSH: the editor's own is offered for install, or only the terminal where it cannot use certificates", () => {
  const vscodeOffer = handOff({ ...base, installed: [] });
  assert.equal(vscodeOffer.kind, 'offerRemoteSsh');
  assert.equal(vscodeOffer.kind === 'offerRemoteSsh' && vscodeOffer.install?.id, MS_REMOTE_SSH);
  assert.match(
    vscodeOffer.kind === 'offerRemoteSsh' ? vscodeOffer.message : '',
    /ssh\.example\.com with Remote - SSH, which is not installed/,
  );
  const codium = handOff({ ...base, installed: [], appName: 'VSCodium' });
  assert.equal(codium.kind === 'offerRemoteSsh' && codium.install, undefined);
});

test('a Remote-SSH that cannot use certificates: asked first, with the plan to open if the user insists', () => {
  const plan = handOff({ ...base, installed: [{ id: 'jeanp413.open-remote-ssh' }], appName: 'VSCodium' });
  assert.equal(plan.kind, 'confirmUnsupported');
  assert.match(plan.kind === 'confirmUnsupported' ? plan.message : '', /does not use OpenSSH certificates/);
  assert.equal(plan.kind === 'confirmUnsupported' && plan.then.target.authority, 'ssh-remote+cfpipe-ssh.example.com');
});

test('an unknown host gets entries for this connect without joining the list', () => {
  const hosts = [{ hostname: hostname('a.example.com'), source: 'settings' as const }];
  assert.equal(hostsForConnect(hosts, hostname('a.example.com')), hosts);
  assert.deepEqual(
    hostsForConnect(hosts, hostname('new.example.com')).map((h) => h.hostname),
    ['a.example.com', 'new.example.com'],
  );
  assert.equal(hosts.length, 1);
});

test("a deep link: the configured entry with the link's folder, else the bare host", () => {
  const entry = { hostname: hostname('a.example.com'), label: 'A', path: '/home/a', source: 'settings' as const };
  assert.deepEqual(deepLinkEntry({ action: 'connect', hostname: hostname('a.example.com'), window: 'new' }, entry), entry);
  assert.deepEqual(deepLinkEntry({ action: 'connect', hostname: hostname('a.example.com'), path: '/x', window: 'new' }, entry), {
    ...entry,
    path: '/x',
  });
  assert.deepEqual(deepLinkEntry({ action: 'connect', hostname: hostname('b.example.com'), path: '/y', window: 'current' }, undefined), {
    hostname: 'b.example.com',
    source: 'settings',
    path: '/y',
  });
});
