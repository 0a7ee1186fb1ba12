import { test } from 'node:test';
import * as assert from 'node:assert/strict';
import {
  detectRemoteSsh,
  missingRemoteSshOffer,
  MS_REMOTE_SSH,
  recommendedRemoteSsh,
  REMOTE_SSH_FLAVORS,
} from '../../../src/remote-ssh/detect.js';

const ext = (...ids: string[]) => ids.map((id) => ({ id }));

test('none installed: undefined', () => {
  assert.equal(detectRemoteSsh(ext('ms-python.python'), 'Visual Studio Code'), undefined);
});

test('Microsoft Remote - SSH in VS Code', () => {
  assert.equal(detectRemoteSsh(ext('ms-vscode-remote.remote-ssh'), 'Visual Studio Code')?.id, MS_REMOTE_SSH);
  assert.equal(detectRemoteSsh(ext('MS-VSCODE-REMOTE.Remote-SSH'), 'Visual Studio Code')?.id, MS_REMOTE_SSH);
});

test("the editor's own fork wins when both are installed", () => {
  assert.equal(detectRemoteSsh(ext(MS_REMOTE_SSH, 'anysphere.remote-ssh'), 'Cursor')?.id, 'anysphere.remote-ssh');
  assert.equal(detectRemoteSsh(ext(MS_REMOTE_SSH, 'codeium.windsurf-remote-openssh'), 'Windsurf')?.id, 'codeium.windsurf-remote-openssh');
  assert.equal(detectRemoteSsh(ext(MS_REMOTE_SSH, 'jeanp413.open-remote-ssh'), 'VSCodium')?.id, 'jeanp413.open-remote-ssh');
  assert.equal(detectRemoteSsh(ext(MS_REMOTE_SSH, 'jeanp413.open-remote-ssh'), 'Visual Studio Code')?.id, MS_REMOTE_SSH);
});

test("without the editor's own, one that can use certificates is preferred", () => {
  assert.equal(detectRemoteSsh(ext('jeanp413.open-remote-ssh', 'anysphere.remote-ssh'), 'code-server')?.id, 'jeanp413.open-remote-ssh');
  assert.equal(detectRemoteSsh(ext('jeanp413.open-remote-ssh', 'anysphere.remote-ssh'), 'Something Else')?.id, 'anysphere.remote-ssh');
  assert.equal(detectRemoteSsh(ext('jeanp413.open-remote-ssh'), 'Visual Studio Code')?.id, 'jeanp413.open-remote-ssh');
});

test('Open Remote - SSH is flagged: no OpenSSH certificates, with a note', () => {
  const f = REMOTE_SSH_FLAVORS.find((x) => x.id === 'jeanp413.open-remote-ssh')!;
  assert.equal(f.supportsCertificates, false);
  assert.match(f.note ?? '', /Open in Terminal/);
  for (const g of REMOTE_SSH_FLAVORS) {
    assert.equal(g.authorityPrefix, 'ssh-remote');
    if (!g.supportsCertificates) assert.ok(g.note);
  }
});

test('the one to recommend for install follows the editor', () => {
  assert.equal(recommendedRemoteSsh('Visual Studio Code').id, MS_REMOTE_SSH);
  assert.equal(recommendedRemoteSsh('Cursor').id, 'anysphere.remote-ssh');
  assert.equal(recommendedRemoteSsh('code-server').id, 'jeanp413.open-remote-ssh');
  assert.equal(recommendedRemoteSsh('').id, MS_REMOTE_SSH);
});

test('missingRemoteSshOffer: install only a Remote-SSH that can use certificates', () => {
  const vs = missingRemoteSshOffer('ssh.example.com', 'Visual Studio Code');
  assert.equal(vs.install?.id, MS_REMOTE_SSH);
  assert.match(vs.message, /Remote - SSH, which is not installed/);
  const cs = missingRemoteSshOffer('ssh.example.com', 'code-server');
  assert.equal(cs.install, undefined, 'Open Remote - SSH ignores certificates: not offered');
  assert.match(cs.message, /No Remote-SSH that can use Access certificates is installed to open ssh\.example\.com/);
  assert.match(cs.message, /Open Remote - SSH has its own SSH client/);
});
