// The read-only documents named after a host, `<scheme>:/<host>.<ext>` (the certificate,
// the doctor's report): the tab shows the host, and nothing asks to be saved.

import { Uri } from 'vscode';

/** The document of `host` under `scheme`, its name ending in `.ext`. */
export function hostDocumentUri(scheme: string, host: string, ext: string): Uri {
  return Uri.from({ scheme, path: `/${host}.${ext}` });
}

/** The host a document of hostDocumentUri names (as written there; the caller parses it). */
export function hostOfDocument(uri: Uri, ext: string): string {
  const name = uri.path.replace(/^\//, '');
  return name.endsWith(`.${ext}`) ? name.slice(0, -(ext.length + 1)) : name;
}
