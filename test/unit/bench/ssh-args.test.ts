// The benchmark's ssh command lines (test/bench/ssh.ts) are built by test/support's
// `sshArgs` now; before, test/bench/main.ts spelled them out twice. These are the
// lists it spelled out, and what ssh reads from each must be what it reads from the
// new ones (every option, its value, the destination and the command): the rows
// measure the same ssh. (`-i K` is `-o IdentityFile=K`; `-F none` reads no file.)
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { APP, CIPHER, pathSshArgs, plainSshArgs } from '../../bench/ssh';

const KEY = '/home/b/.cloudflared/ssh.sandbox.test-cf_key';
const PORT = 2222;

const oldBase = [
  '-F', 'none', '-T',
  '-o', 'BatchMode=yes',
  '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'LogLevel=ERROR',
  '-o', `IdentityFile=${KEY}`,
  '-o', `CertificateFile=${KEY}-cert.pub`,
  '-o', 'IdentitiesOnly=yes',
  '-o', 'Compression=no',
  '-o', 'ControlMaster=no',
  '-o', 'ControlPath=none',
  '-c', CIPHER,
  '-l', 'jdoe',
]; // prettier-ignore

const oldPlain = [
  '-T',
  '-o', 'ConnectTimeout=15',
  '-F', 'none',
  '-o', 'BatchMode=yes',
  '-o', 'StrictHostKeyChecking=no',
  '-o', 'UserKnownHostsFile=/dev/null',
  '-o', 'LogLevel=ERROR',
  '-o', `IdentityFile=${KEY}`,
  '-o', `CertificateFile=${KEY}-cert.pub`,
  '-o', 'IdentitiesOnly=yes',
  '-p', String(PORT),
  '-l', 'jdoe',
  '127.0.0.1',
  'bash',
]; // prettier-ignore

/** What ssh reads from an argv of these flags: options by lower-case name (each given once), then the rest. */
function asSshReadsIt(argv: readonly string[]): { options: Record<string, string>; positional: string[] } {
  const flags: Record<string, string> = { '-F': 'configfile', '-p': 'port', '-l': 'user', '-c': 'ciphers', '-i': 'identityfile' };
  const options: Record<string, string> = {};
  const set = (name: string, value: string): void => {
    assert.equal(options[name], undefined, `${name} given twice`);
    options[name] = value;
  };
  let i = 0;
  for (; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '-T') set('requesttty', 'no');
    else if (a === '-o') {
      const [name, ...value] = argv[++i]!.split('=');
      set(name!.toLowerCase(), value.join('='));
    } else if (flags[a] !== undefined) set(flags[a], argv[++i]!);
    else break;
  }
  return { options, positional: argv.slice(i) };
}

test('the benchmark passes ssh the same options as before through sshArgs', () => {
  const proxy = `socat - TCP:127.0.0.1:4000`;
  assert.deepEqual(asSshReadsIt(pathSshArgs(KEY, { proxyCommand: proxy })), asSshReadsIt([...oldBase, '-o', `ProxyCommand=${proxy}`, APP]));
  assert.deepEqual(asSshReadsIt(pathSshArgs(KEY, { sshdPort: PORT })), asSshReadsIt([...oldBase, '-p', String(PORT), '127.0.0.1']));
  assert.deepEqual(asSshReadsIt(plainSshArgs(KEY, PORT)), asSshReadsIt(oldPlain));
  // The reading itself tells the options apart (a changed value is seen).
  assert.notDeepEqual(asSshReadsIt(plainSshArgs(KEY, PORT + 1)), asSshReadsIt(oldPlain));
  assert.equal(asSshReadsIt(oldPlain).positional.join(' '), '127.0.0.1 bash');
  assert.equal(Object.keys(asSshReadsIt(oldBase).options).length, 14);
});
