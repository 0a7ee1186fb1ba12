// The server-side renderer with CA keys made by the real ssh-keygen: the key read
// strictly (a private key or a certificate refused without being shown), the drop-in
// with and without a Match block (its script checked by sh -n), paths refused.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { parseCaPublicKey, renderServerConfig } from '../../../src/ssh/server-config.js';
import { SshConfigError } from '../../../src/ssh/validate.js';
import { type HasAfter, tempDir } from '../../support/tmp.js';

async function keyPair(t: HasAfter, type: string): Promise<{ pub: string; priv: string }> {
  const dir = tempDir(t, 'server-config-');
  const f = path.join(dir, 'k');
  execFileSync('ssh-keygen', ['-q', '-t', type, '-N', '', '-C', 'ca comment', '-f', f]);
  return { pub: readFileSync(`${f}.pub`, 'utf8'), priv: readFileSync(f, 'utf8') };
}

test('parseCaPublicKey: one key line, comment dropped; private keys, certificates, junk refused without echo', async (t) => {
  for (const type of ['ecdsa', 'ed25519']) {
    const { pub, priv } = await keyPair(t, type);
    const [kind, b] = pub.trim().split(' ');
    assert.equal(parseCaPublicKey(`# the Access CA\n${pub}\n`), `${kind} ${b}`);
    assert.throws(
      () => parseCaPublicKey(priv),
      (e: unknown) =>
        e instanceof SshConfigError && /private key.*not used or shown/.test(e.message) && !e.message.includes(priv.split('\n')[1]!),
    );
  }
  const { pub } = await keyPair(t, 'ed25519');
  const [kind, b] = pub.trim().split(' ');
  for (const [bad, why] of [
    ['', /found 0 lines/],
    [`${pub}${pub}`, /found 2 lines/],
    [`ssh-ed25519-cert-v01@openssh.com ${b}`, /certificate/],
    [`ssh-dss ${b}`, /not an SSH public key line/],
    [`${kind} !!!`, /base64 part is missing or damaged/],
    [`ecdsa-sha2-nistp256 ${b}`, /does not hold a key of the type it names/],
  ] as const)
    assert.throws(
      () => parseCaPublicKey(bad),
      (e: unknown) => e instanceof SshConfigError && why.test(e.message),
      bad,
    );
});

test("renderServerConfig: the guide's two lines; a Match block only for mapped accounts; one principals file per account", async (t) => {
  const { pub } = await keyPair(t, 'ecdsa');
  const plain = renderServerConfig({ caPublicKey: pub });
  assert.deepEqual(
    plain.files.map((f) => f.path),
    ['/etc/ssh/ca.pub', '/etc/ssh/sshd_config.d/50-cloudflare-access.conf'],
  );
  assert.match(plain.dropIn.content, /^PubkeyAuthentication yes\nTrustedUserCAKeys \/etc\/ssh\/ca\.pub\n$/m);
  assert.doesNotMatch(plain.dropIn.content, /Match|AuthorizedPrincipalsFile/);
  const mapped = renderServerConfig({
    caPublicKey: pub,
    maps: [
      { principal: 'jdoe', account: 'deploy' },
      { principal: 'alice', account: 'deploy' },
      { principal: 'jdoe', account: 'deploy' },
      { principal: 'bob', account: 'admin' },
    ],
  });
  assert.match(mapped.dropIn.content, /\nMatch User deploy,admin\n {2}AuthorizedPrincipalsFile \/etc\/ssh\/auth_principals\/%u\n$/);
  assert.equal(
    mapped.files.find((f) => f.path === '/etc/ssh/auth_principals/deploy')?.content,
    '# Access principals that may log in as deploy\njdoe\nalice\n',
  );
  assert.match(mapped.script, /^set -eu\n/m);
  assert.match(mapped.script, /chmod 0755 \/etc\/ssh\/auth_principals/);
  // The script is valid sh.
  execFileSync('/bin/sh', ['-n', '-c', mapped.script]);
});

test('renderServerConfig: paths that sshd_config or the shell would read specially are refused', async (t) => {
  const { pub } = await keyPair(t, 'ed25519');
  for (const [opt, value] of [
    ['caPath', 'relative/ca.pub'],
    ['caPath', '/etc/ssh/my ca.pub'],
    ['principalsDir', '/etc/ssh/p%u'],
    ['dropInPath', '/etc/ssh/sshd_config.d/x.txt'],
    ['dropInPath', '/etc/ssh/$(id).conf'],
    ['sshdConfig', "/etc/ssh/'x"],
  ] as const) {
    assert.throws(() => renderServerConfig({ caPublicKey: pub, [opt]: value }), SshConfigError, `${opt}=${value}`);
  }
});
