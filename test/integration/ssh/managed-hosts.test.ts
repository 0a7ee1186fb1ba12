// The managed file's host list read by the real `ssh -G`: two writers racing on the real
// file both land, and a FedRAMP host keeps --fedramp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fs } from 'node:fs';
import * as path from 'node:path';
import fc from 'fast-check';
import { runs } from '../../support/figures.js';
import {
  addCliHost,
  parseManagedHosts,
  readManagedHosts,
  renderManagedFile,
  syncExtensionHosts,
  updateManagedHosts,
} from '../../../src/ssh/managed-hosts.js';
import { hostArb, MANAGED_OPTS } from '../../unit/ssh/helpers.js';
import { tempDir } from '../../support/tmp.js';
import { sshG } from '../../support/openssh.js';
import { hostname } from '../../support/hostname.js';
import type { Hostname } from '../../../src/base/hostname.js';

test('two writers racing on the real file (CLI adds, extension syncs) both land, 0600, and the entries are what ssh -G reads', async (t) => {
  const dir = tempDir(t, 'access-ssh-managed-');
  try {
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(hostArb, { minLength: 1, maxLength: 3 }),
        fc.uniqueArray(hostArb, { minLength: 1, maxLength: 3 }),
        async (cliHosts: Hostname[], extHosts: Hostname[]) => {
          const file = path.join(dir, `c${Math.random().toString(36).slice(2)}`, 'config');
          // The extension syncs repeatedly while the CLI adds its hosts one by one.
          await Promise.all([
            (async () => {
              for (const h of cliHosts) await updateManagedHosts(file, (hs) => addCliHost(hs, h, 'deploy'), MANAGED_OPTS);
            })(),
            (async () => {
              for (let i = 0; i < 3; i++)
                await updateManagedHosts(
                  file,
                  (hs) =>
                    syncExtensionHosts(
                      hs,
                      extHosts.map((hostname) => ({ hostname, user: 'jdoe' })),
                    ),
                  MANAGED_OPTS,
                );
            })(),
          ]);
          const read = await readManagedHosts(file);
          assert.deepEqual(
            read.map((h) => h.hostname),
            [...new Set([...cliHosts, ...extHosts])].sort(),
          );
          for (const h of read) {
            assert.equal(h.from.includes('cli'), cliHosts.includes(h.hostname));
            assert.equal(h.from.includes('vscode'), extHosts.includes(h.hostname));
            assert.equal(h.user, cliHosts.includes(h.hostname) ? 'deploy' : 'jdoe');
          }
          assert.equal((await fs.stat(file)).mode & 0o777, 0o600);
          assert.equal((await fs.stat(path.dirname(file))).mode & 0o777, 0o700);
        },
      ),
      { numRuns: runs(40) },
    );

    // The real ssh reads what was written: absolute key paths (no `~` that ssh would
    // expand from the passwd entry), the helper with its script, the user.
    const file = path.join(dir, 'ssh-g', 'config');
    await updateManagedHosts(
      file,
      (hs) =>
        syncExtensionHosts(addCliHost(hs, hostname('a.example.com'), 'deploy'), [{ hostname: hostname('b.example.com'), user: 'jdoe' }]),
      { ...MANAGED_OPTS, helper: '/bin/false', helperArgs: [] },
    );
    for (const [host, user] of [
      ['a.example.com', 'deploy'],
      ['b.example.com', 'jdoe'],
    ] as const) {
      const g = await sshG(file, `cfpipe-${host}`);
      assert.deepEqual(g.get('user'), [user]);
      assert.deepEqual(g.get('hostname'), [host]);
      assert.deepEqual(g.get('proxycommand'), [`/bin/false ssh --hostname %h --non-interactive`]);
      assert.equal(g.get('identityfile')?.[0], `/home/other home/.cloudflared/${host}-cf_key`);
      assert.equal(g.get('certificatefile')?.[0], `/home/other home/.cloudflared/${host}-cf_key-cert.pub`);
    }
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
});

test('a FedRAMP host of the extension keeps fedramp=true in the list and --fedramp in its entries; ssh -G reads it', async (t) => {
  const hosts = syncExtensionHosts(
    [],
    [{ hostname: hostname('fed.example.com'), user: 'deploy', fedramp: true }, { hostname: hostname('plain.example.com') }],
  );
  assert.deepEqual(hosts, [
    { hostname: hostname('fed.example.com'), user: 'deploy', fedramp: true, from: ['vscode'] },
    { hostname: hostname('plain.example.com'), from: ['vscode'] },
  ]);
  const text = renderManagedFile(hosts, MANAGED_OPTS);
  assert.ok(text.includes('# access-ssh-host fed.example.com from=vscode user=deploy fedramp=true\n'), text);
  assert.deepEqual(parseManagedHosts(text), hosts, 'reads back');
  // The extension dropping the flag drops it from the file too.
  assert.deepEqual(syncExtensionHosts(parseManagedHosts(text), [{ hostname: hostname('fed.example.com'), user: 'deploy' }]), [
    { hostname: hostname('fed.example.com'), user: 'deploy', from: ['vscode'] },
  ]);
  assert.throws(() => parseManagedHosts('# access-ssh-host fed.example.com from=vscode fedramp=yes\n'), /fedramp="yes"|fedramp=/);
  const dir = tempDir(t);
  const file = path.join(dir, 'config');
  await fs.writeFile(file, text, { mode: 0o600 });
  const g = await sshG(file, 'cfpipe-fed.example.com');
  assert.deepEqual(g.get('proxycommand'), [
    `'/opt/access ssh/node' '/opt/access ssh/access-ssh.js' --fedramp ssh --hostname %h --non-interactive`,
  ]);
  assert.deepEqual(g.get('user'), ['deploy']);
  const plain = await sshG(file, 'cfpipe-plain.example.com');
  assert.doesNotMatch(plain.get('proxycommand')?.[0] ?? '', /--fedramp/);
});
