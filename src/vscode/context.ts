// The context keys of package.json's `when` clauses, set in one place so that each key is
// named once (the lint config forbids executeCommand('setContext') elsewhere).
import { commands } from 'vscode';

/** Every context key the extension sets; package.json's `when` clauses read them. */
export type ContextKey = 'accessSsh.ready' | 'accessSsh.signedIn' | 'accessSsh.hasHosts' | 'accessSsh.signingIn';

export async function setContext(key: ContextKey, value: boolean | string | number): Promise<void> {
  await commands.executeCommand('setContext', key, value);
}
