// Settings cannot be turned against the user (issue #4, item 6): every setting that
// the code reads, and that can reach a command line or a file path, is application
// or machine scoped (a workspace cannot set it); in an untrusted workspace the
// repository's host list is not even read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../../support/root';
import { collectHosts, type HostList } from '../../../src/hosts/hosts.js';
import { hostname } from '../../support/hostname.js';

interface Prop {
  scope?: string;
  type: string;
}
type Manifest = { contributes: { configuration: { properties: Record<string, Prop> } } };

/** The settings the extension reads, from its source: `globalValue('key', …)` in settings.ts. */
function settingsRead(): string[] {
  const src = readFileSync(join(ROOT, 'src', 'vscode', 'settings.ts'), 'utf8');
  return [...new Set([...src.matchAll(/globalValue(?:<[^>]*>)?\('([A-Za-z.]+)'/g)].map((m) => `accessSSH.${m[1]}`))].sort();
}

/** Settings that a workspace could set: declared without application/machine scope, or not declared. */
function unsafeSettings(manifest: Manifest, read: readonly string[]): string[] {
  const props = manifest.contributes.configuration.properties;
  return read.filter((key) => {
    const p = props[key];
    return !p || (p.scope !== 'application' && p.scope !== 'machine');
  });
}

/** The one setting read but not declared: test-only routing, hidden from ordinary users. */
const HIDDEN = 'accessSSH.connectTo';

const manifest = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as Manifest;

test('every setting the code reads (hosts, paths, connect-to, CA, cloudflared) is application or machine scoped', () => {
  const read = settingsRead();
  for (const key of [
    'accessSSH.hosts',
    'accessSSH.configFile',
    'accessSSH.connectTo',
    'accessSSH.extraCAFile',
    'accessSSH.useCloudflared',
    'accessSSH.cloudflaredPath',
  ]) {
    assert.ok(read.includes(key), `${key} is read through globalValue (which also refuses workspace values)`);
  }
  // accessSSH.connectTo (test-only routing) is not declared, so that the Settings editor
  // does not show it to every user; globalValue still refuses a workspace's value of it.
  assert.deepEqual(unsafeSettings(manifest, read), [HIDDEN]);
  assert.equal(manifest.contributes.configuration.properties[HIDDEN], undefined, `${HIDDEN} stays out of the Settings editor`);
  // The check can fail: a window-scoped or undeclared setting is caught.
  const loose = structuredClone(manifest);
  loose.contributes.configuration.properties['accessSSH.cloudflaredPath']!.scope = 'window';
  assert.deepEqual(unsafeSettings(loose, read), ['accessSSH.cloudflaredPath', HIDDEN]);
  delete loose.contributes.configuration.properties['accessSSH.extraCAFile'];
  assert.deepEqual(unsafeSettings(loose, read), ['accessSSH.cloudflaredPath', HIDDEN, 'accessSSH.extraCAFile']);
});

test("no setting is read around globalValue, and Remote-SSH's configFile (a path) refuses workspace values", () => {
  const src = readFileSync(join(ROOT, 'src', 'vscode', 'settings.ts'), 'utf8');
  assert.doesNotMatch(src, /cfg\(\)\.get\s*[<(]/, 'accessSsh settings only through globalValue');
  assert.match(src, /getConfiguration\('remote\.SSH'\)[\s\S]{0,200}inspect<string>\('configFile'\)[\s\S]{0,200}workspaceValue/);
  for (const file of [
    'extension.ts',
    'commands.ts',
    'ssh-config-sync.ts',
    'connect.ts',
    'access.ts',
    'auth-provider.ts',
    'hosts-view.ts',
    'status-bar.ts',
  ]) {
    const p = join(ROOT, 'src', 'vscode', file);
    if (!existsSync(p)) continue;
    assert.doesNotMatch(
      readFileSync(p, 'utf8'),
      /getConfiguration\(\s*['"]accessSsh['"]\s*\)\s*\.get/,
      `${file} reads accessSsh settings directly`,
    );
  }
});

const repoList: HostList = { hosts: [{ hostname: hostname('from-repo.example.com'), source: 'repo' }], problems: [] };

test("untrusted workspace: the repository's host list is not read at all; only the user's settings count", async () => {
  for (const trusted of [false, undefined, 'true', 1] as unknown[]) {
    let reads = 0;
    const list = await collectHosts({
      settings: ['mine.example.com'],
      trusted: trusted as boolean,
      readRepoLists: async () => {
        reads += 1;
        return [repoList];
      },
    });
    assert.equal(reads, 0, `trusted=${String(trusted)}: not read`);
    assert.deepEqual(
      list.hosts.map((h) => h.hostname),
      ['mine.example.com'],
    );
    assert.deepEqual(list.problems, []);
  }
});

test("trusted workspace: the repository adds hosts after the settings' own, never overriding them; its bad entries are problems", async () => {
  const list = await collectHosts({
    settings: ['mine.example.com', { hostname: 'from-repo.example.com', label: 'mine' }],
    trusted: true,
    readRepoLists: async () => [
      repoList,
      {
        hosts: [{ hostname: hostname('second.example.com'), source: 'repo' }],
        problems: [{ source: 'repo', index: 0, value: '"a b"', message: 'bad' }],
      },
    ],
  });
  assert.deepEqual(
    list.hosts.map((h) => [h.hostname, h.source, h.label]),
    [
      ['mine.example.com', 'settings', undefined],
      ['from-repo.example.com', 'settings', 'mine'],
      ['second.example.com', 'repo', undefined],
    ],
  );
  assert.equal(list.problems.length, 1);
});
