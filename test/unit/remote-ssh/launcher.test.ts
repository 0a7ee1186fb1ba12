import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import { renderLauncher } from '../../../src/ssh/launcher.js';
import { shellQuote as shQuote } from '../../../src/ssh/quote.js';

test('shell quoting', () => {
  assert.equal(shQuote("it's"), `'it'\\''s'`);
  assert.equal(shQuote('$(x) `y` "z"'), `'$(x) \`y\` "z"'`);
});

test('Windows launcher is a .cmd with quoted paths and refuses what cmd cannot carry', () => {
  const l = renderLauncher({
    platform: 'win32',
    execPath: 'C:\\Program Files\\Code\\Code.exe',
    script: 'C:\\Users\\J Doe\\.vscode\\extensions\\x\\dist\\access-ssh.js',
    env: { NODE_EXTRA_CA_CERTS: 'C:\\ca.pem' },
  });
  assert.equal(l.fileName, 'access-ssh.cmd');
  assert.match(l.content, /^@echo off\r\n/);
  assert.match(l.content, /set "ELECTRON_RUN_AS_NODE=1"\r\n/);
  assert.match(l.content, /"C:\\Program Files\\Code\\Code.exe" "C:\\Users\\J Doe\\.vscode\\extensions\\x\\dist\\access-ssh.js" %\*\r\n/);
  assert.throws(() => renderLauncher({ platform: 'win32', execPath: 'C:\\a"b.exe', script: 'x', env: {} }));
  assert.throws(() =>
    renderLauncher({ platform: 'win32', execPath: 'C:\\a.exe', script: 'x', env: { NODE_EXTRA_CA_CERTS: 'C:\\%PATH%' } }),
  );
});

test('control characters and bad variable names are refused everywhere', () => {
  assert.throws(() => renderLauncher({ platform: 'linux', execPath: '/a\nb', script: '/x', env: {} }));
  assert.throws(() => renderLauncher({ platform: 'linux', execPath: '/a', script: '/x', env: { 'A B': 'x' } }));
  assert.throws(() => renderLauncher({ platform: 'linux', execPath: '/a', script: '/x', env: { X: 'a\nb' } }));
});
