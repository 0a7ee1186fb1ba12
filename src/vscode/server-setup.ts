// "Access: Set Up a Server…": the sshd side of Access short-lived certificates
// (src/ssh/server-config.ts), from the CA public key and the accounts whose name
// differs from the e-mail prefix, opened as a shell script to run on the server.

import { promises as fsp } from 'node:fs';
import { env, window as vscodeWindow, workspace } from 'vscode';
import { parseCaPublicKey, parseMap, renderServerConfig, type PrincipalMap } from '../ssh/server-config.js';
import type { Services } from './connect.js';

function problem(fn: () => unknown): string | undefined {
  try {
    fn();
    return undefined;
  } catch (err) {
    return err instanceof Error ? err.message : String(err);
  }
}

function parseMaps(text: string): PrincipalMap[] {
  return text
    .split(/[,\s]+/)
    .filter(Boolean)
    .map(parseMap);
}

export async function setUpServer(svc: Services): Promise<void> {
  const how = await vscodeWindow.showQuickPick(
    [
      { label: '$(file) Choose the CA public key file...', id: 'file' },
      { label: '$(clippy) Paste the CA public key...', id: 'paste' },
    ],
    {
      title: 'Set Up a Server (1/2): the Access SSH CA',
      placeHolder: 'The SSH CA public key of your Access account (Zero Trust > Access > Service credentials > SSH)',
    },
  );
  if (!how) return;
  let caText: string | undefined;
  if (how.id === 'file') {
    const picked = await vscodeWindow.showOpenDialog({
      canSelectMany: false,
      openLabel: 'Use this CA key',
      filters: { 'Public keys': ['pub'], 'All files': ['*'] },
    });
    if (!picked?.[0]) return;
    const stat = await fsp.stat(picked[0].fsPath);
    if (stat.size > 64 * 1024) {
      void vscodeWindow.showErrorMessage(`${picked[0].fsPath} is too large to be a public key.`);
      return;
    }
    caText = await fsp.readFile(picked[0].fsPath, 'utf8');
    const bad = problem(() => parseCaPublicKey(caText!));
    if (bad) {
      void vscodeWindow.showErrorMessage(`${picked[0].fsPath}: ${bad}`);
      return;
    }
  } else {
    caText = await vscodeWindow.showInputBox({
      title: 'Set Up a Server (1/2): the Access SSH CA',
      prompt: 'The CA public key: one line "ecdsa-sha2-nistp256 AAAA…"',
      ignoreFocusOut: true,
      validateInput: (v) => (v.trim() === '' ? undefined : problem(() => parseCaPublicKey(v))),
    });
    if (!caText) return;
  }
  const mapText = await vscodeWindow.showInputBox({
    title: 'Set Up a Server (2/2): accounts whose name differs from the e-mail prefix',
    prompt:
      'principal=account pairs, e.g. "jdoe=deploy, alice=deploy" (jdoe@example.com may log in as deploy). Leave empty when every account is named after its e-mail prefix.',
    ignoreFocusOut: true,
    validateInput: (v) => problem(() => parseMaps(v)),
  });
  if (mapText === undefined) return;
  const out = renderServerConfig({ caPublicKey: caText, maps: parseMaps(mapText) });
  const doc = await workspace.openTextDocument({ language: 'shellscript', content: out.script });
  await vscodeWindow.showTextDocument(doc);
  svc.log.info(`Server setup script opened (${out.files.length} files, drop-in ${out.dropIn.path})`);
  const choice = await vscodeWindow.showInformationMessage(
    `Run this script as root on the server (sudo sh setup.sh): it writes ${out.dropIn.path}, the CA key and the principals files, then checks them with sshd -t.`,
    'Copy Script',
  );
  if (choice === 'Copy Script') await env.clipboard.writeText(out.script);
}
