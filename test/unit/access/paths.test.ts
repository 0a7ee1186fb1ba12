import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import { appTokenFile, certFile, certKeyFile, certPubFile, defaultConfigDir, orgTokenFile } from '../../../src/access/paths.js';

test('cloudflared file names', () => {
  assert.equal(defaultConfigDir('/home/u'), path.join('/home/u', '.cloudflared'));
  const d = '/d';
  assert.equal(appTokenFile(d, 'ssh.example.com', 'aud1'), path.join(d, 'ssh.example.com-aud1-token'));
  assert.equal(appTokenFile(d, '*.example.com/path', 'a/b'), path.join(d, '-.example.com-path-a-b-token'));
  assert.equal(orgTokenFile(d, 'team.cloudflareaccess.com'), path.join(d, 'team.cloudflareaccess.com-org-token'));
  assert.equal(orgTokenFile(d, 'a/b*'), path.join(d, 'a-b*-org-token'));
  assert.equal(certKeyFile(d, 'ssh.example.com'), path.join(d, 'ssh.example.com-cf_key'));
  assert.equal(certPubFile(d, 'ssh.example.com'), path.join(d, 'ssh.example.com-cf_key.pub'));
  assert.equal(certFile(d, 'ssh.example.com'), path.join(d, 'ssh.example.com-cf_key-cert.pub'));
  assert.equal(certKeyFile(d, 'https://ssh.example.com/x/y'), path.join(d, 'ssh.example.com-x-y-cf_key'));
  assert.equal(certKeyFile(d, 'https://ssh.example.com/'), path.join(d, 'ssh.example.com-cf_key'));
});
