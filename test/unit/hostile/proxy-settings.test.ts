// The editor's proxy settings reach the helper only from user settings: a
// workspace must not be able to send the user's Access tokens through a proxy
// of its choosing (issue 8, item 1).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

const ROOT = ((): string => {
  let dir = __dirname;
  while (!existsSync(join(dir, 'package.json')) || !existsSync(join(dir, 'src'))) dir = dirname(dir);
  return dir;
})();

test('http.proxy, http.noProxy and http.proxySupport are read as user (global) values only', () => {
  const src = readFileSync(join(ROOT, 'src', 'vscode', 'settings.ts'), 'utf8');
  const body = /export function editorProxy\(\)[\s\S]*?\n}\n/.exec(src)?.[0] ?? '';
  assert.notEqual(body, '', 'editorProxy() is in settings.ts');
  const reads = [...body.matchAll(/http\.(\w+)(?:<[^>]*>)?\('(\w+)'\)\??\.(\w+)/g)].map((m) => `${m[1]} ${m[2]} .${m[3]}`);
  assert.deepEqual(reads.sort(), ['inspect noProxy .globalValue', 'inspect proxy .globalValue', 'inspect proxySupport .globalValue']);
  assert.doesNotMatch(body, /\.get\s*[<(]/, 'never get(): it would include workspace values');
  // Nothing else in the extension reads the editor's proxy settings.
  for (const file of ['extension.ts', 'commands.ts', 'ssh-config-sync.ts', 'connect.ts', 'access.ts', 'auth-provider.ts']) {
    const p = join(ROOT, 'src', 'vscode', file);
    if (existsSync(p)) assert.doesNotMatch(readFileSync(p, 'utf8'), /getConfiguration\(\s*'http'/, file);
  }
});

test('the proxy URL reaches the helper through the launcher environment, never its command line', () => {
  const src = readFileSync(join(ROOT, 'src', 'vscode', 'settings.ts'), 'utf8');
  assert.match(src, /env\['HTTPS_PROXY'\] = s\.proxy/);
  for (const file of ['ssh-config-sync.ts', 'connect.ts', 'commands.ts']) {
    const p = join(ROOT, 'src', 'vscode', file);
    if (existsSync(p)) assert.doesNotMatch(readFileSync(p, 'utf8'), /\.proxy\b(?!Command)/, `${file} does not put the proxy in arguments`);
  }
});
