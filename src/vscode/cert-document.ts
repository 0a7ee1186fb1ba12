// "Show Certificate": a read-only document (`access-ssh-cert:` scheme) with the
// parsed certificate of a host, rendered from the files on disk.

import { isoTime } from '../access/cert-file.js';
import { validateHostname } from '../ssh/validate.js';
import { type Disposable, EventEmitter, type TextDocumentContentProvider, type Uri, window, workspace } from 'vscode';
import { certFile } from '../access/paths.js';
import { readPrivateFile } from '../base/private-files.js';
import { displayText } from '../base/display.js';
import { countdown, expiredText } from '../hosts/state.js';
import { hostDocumentUri, hostOfDocument } from './host-document.js';
import { accessModules } from './lazy.js';
import type { AccessState } from './access-state.js';

const CERT_SCHEME = 'access-ssh-cert';

export class CertificateDocuments implements TextDocumentContentProvider, Disposable {
  private readonly changed = new EventEmitter<Uri>();
  readonly onDidChange = this.changed.event;
  private readonly open = new Set<string>();
  private readonly disposables: Disposable[] = [];

  constructor(private readonly state: AccessState) {
    this.disposables.push(
      workspace.registerTextDocumentContentProvider(CERT_SCHEME, this),
      state.onDidChange(() => {
        for (const host of this.open) this.changed.fire(hostDocumentUri(CERT_SCHEME, host, 'txt'));
      }),
      workspace.onDidCloseTextDocument((d) => {
        if (d.uri.scheme === CERT_SCHEME) this.open.delete(hostOfDocument(d.uri, 'txt'));
      }),
    );
  }

  async show(host: string): Promise<void> {
    this.open.add(host);
    const doc = await workspace.openTextDocument(hostDocumentUri(CERT_SCHEME, host, 'txt'));
    await window.showTextDocument(doc, { preview: true });
  }

  async provideTextDocumentContent(uri: Uri): Promise<string> {
    const host = validateHostname(hostOfDocument(uri, 'txt'));
    const dir = this.state.dir;
    const { inspectCertificate } = await accessModules();
    const state = await inspectCertificate(dir, host);
    const lines = [`# Access SSH certificate for ${host}`, ''];
    if (state.status !== 'ok') {
      lines.push(`No usable certificate: ${state.reason}`, '', 'Run "Access: Refresh Certificate" to get one.');
      return lines.join('\n') + '\n';
    }
    const c = state.cert;
    const now = Date.now();
    const left = c.validBefore - now / 1000;
    lines.push(
      `File:          ${c.path}`,
      `Private key:   ${c.keyPath}`,
      `Type:          ${c.type} certificate`,
      `Key ID:        ${displayText(c.keyId, 200)}`,
      `Serial:        ${c.serial}`,
      `Principals:    ${c.principals.map((p) => displayText(p)).join(', ') || '(none)'}`,
      `Valid after:   ${isoTime(c.validAfter)} (${new Date(c.validAfter * 1000).toLocaleString()})`,
      `Valid before:  ${isoTime(c.validBefore)} (${new Date(c.validBefore * 1000).toLocaleString()})`,
      `Status:        ${left > 0 ? `valid for ${countdown(left)}` : expiredText(-left)}`,
      `Key:           ${c.keyFingerprint}`,
      `Signing CA:    ${c.caFingerprint}`,
      '',
    );
    try {
      const text = (await readPrivateFile(certFile(dir, host), { sensitivity: 'public', maxBytes: 64 * 1024 }))?.toString('utf8');
      if (text !== undefined) lines.push('# The certificate (public; safe to share)', text.trim());
    } catch {
      /* raced with a renewal */
    }
    return lines.join('\n') + '\n';
  }

  dispose(): void {
    for (const d of this.disposables) d.dispose();
    this.changed.dispose();
  }
}
