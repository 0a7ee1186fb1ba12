import { test } from 'node:test';
import assert from 'node:assert/strict';
import * as path from 'node:path';
import {
  appTokenFile,
  appTokenFileName,
  certFile,
  certKeyFile,
  certPubFile,
  defaultConfigDir,
  orgTokenFile,
  orgTokenFileName,
  parseCloudflaredFileName,
} from '../../../src/access/paths.js';
import { appHostname, hostname } from '../../support/hostname.js';

test('cloudflared file names', () => {
  assert.equal(defaultConfigDir('/home/u'), path.join('/home/u', '.cloudflared'));
  const d = '/d';
  assert.equal(appTokenFile(d, hostname('ssh.example.com'), 'aud1'), path.join(d, 'ssh.example.com-aud1-token'));
  assert.equal(appTokenFile(d, appHostname('*.example.com/path'), 'a/b'), path.join(d, '-.example.com-path-a-b-token'));
  assert.equal(orgTokenFile(d, 'team.cloudflareaccess.com'), path.join(d, 'team.cloudflareaccess.com-org-token'));
  assert.equal(orgTokenFile(d, 'a/b*'), path.join(d, 'a-b*-org-token'));
  assert.equal(certKeyFile(d, hostname('ssh.example.com')), path.join(d, 'ssh.example.com-cf_key'));
  assert.equal(certPubFile(d, hostname('ssh.example.com')), path.join(d, 'ssh.example.com-cf_key.pub'));
  assert.equal(certFile(d, hostname('ssh.example.com')), path.join(d, 'ssh.example.com-cf_key-cert.pub'));
  assert.equal(certKeyFile(d, new URL('https://ssh.example.com/x/y')), path.join(d, 'ssh.example.com-x-y-cf_key'));
  assert.equal(certKeyFile(d, new URL('https://ssh.example.com/')), path.join(d, 'ssh.example.com-cf_key'));
});

test('parseCloudflaredFileName reads back every name the builders make', () => {
  const hosts = ['ssh.example.com', 'my-host.example.com', 'a-b-c.example.com'].map(hostname);
  for (const host of hosts) {
    for (const aud of ['aud1', '0123456789abcdef0123456789abcdef']) {
      assert.deepEqual(parseCloudflaredFileName(appTokenFileName(host, aud), [aud]), { kind: 'app-token', appHostname: host, aud });
      // Without the token's audiences, the audience is the last `-` field (tags have no `-`).
      assert.deepEqual(parseCloudflaredFileName(appTokenFileName(host, aud)), { kind: 'app-token', appHostname: host, aud });
    }
    assert.deepEqual(parseCloudflaredFileName(path.basename(certKeyFile('/d', host))), { kind: 'key', host });
    assert.deepEqual(parseCloudflaredFileName(path.basename(certPubFile('/d', host))), { kind: 'public-key', host });
    assert.deepEqual(parseCloudflaredFileName(path.basename(certFile('/d', host))), { kind: 'certificate', host });
  }
  assert.deepEqual(parseCloudflaredFileName(orgTokenFileName('team.cloudflareaccess.com')), {
    kind: 'org-token',
    authDomain: 'team.cloudflareaccess.com',
  });
  // An audience with `-` (not Access's, but possible in a file): the token's own aud decides.
  assert.deepEqual(parseCloudflaredFileName(appTokenFileName(hostname('h.example.com'), 'x-y'), ['x-y']), {
    kind: 'app-token',
    appHostname: 'h.example.com',
    aud: 'x-y',
  });
  // A key or certificate file is a host's: a name that is no host name is not one of ours.
  for (const other of ['a..b-cf_key', '-x-cf_key.pub', 'a b-cf_key-cert.pub'])
    assert.equal(parseCloudflaredFileName(other), undefined, other);
  for (const other of ['config.yml', '-token', '-org-token', '-cf_key', 'x.lock', 'ssh.example.com-cf_key.url', 'aud-token']) {
    assert.equal(parseCloudflaredFileName(other), undefined, other);
  }
});
