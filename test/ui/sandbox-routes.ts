// How a UI test sends the extension and Chromium to the sandbox edge on loopback: only the
// names it lists (an application's host, the team, the login service) go to 127.0.0.1:<port>;
// any other name resolves as it would for a user. One home for the tests that use it.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Sandbox } from '../sandbox/sandbox';
import { launchBrowser, spkiHash, type BrowserOptions, type BrowserSession } from './browser';

/** The sandbox team's and its login service's names. */
export const TEAM_NAMES = ['sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org'] as const;
/** The same for the sandbox's FedRAMP team. */
export const FEDRAMP_TEAM_NAMES = ['sandbox.fed.cloudflareaccess.com', 'login.fed.cloudflareaccess.org'] as const;

const CA_FILE = 'sandbox-ca.pem';

/** The home's files: the server's host key accepted before (not what is under test) and the sandbox CA. */
export function sandboxHomeFiles(sandbox: Sandbox): Record<string, string> {
  return { '.ssh/known_hosts': `${sandbox.knownHostsLine ?? ''}\n`, [CA_FILE]: readFileSync(sandbox.caFile, 'utf8') };
}

/** The extension's settings that route `names` to the sandbox and trust its CA (in a home made with sandboxHomeFiles). */
export function sandboxSettings(sandbox: Sandbox, home: string, names: readonly string[]): Record<string, unknown> {
  return {
    'accessSSH.connectTo': names.map((n) => `${n}:443:127.0.0.1:${sandbox.port}`).join(','),
    'accessSSH.extraCAFile': join(home, CA_FILE),
  };
}

/** Chromium's host map for the same names. */
export function sandboxHostMap(sandbox: Sandbox, names: readonly string[]): Record<string, string> {
  return Object.fromEntries(names.map((n) => [n, `127.0.0.1:${sandbox.port}`]));
}

/** Chromium with `names` sent to the sandbox, trusting the certificate it serves for `host`. */
export async function sandboxBrowser(
  sandbox: Sandbox,
  names: readonly string[],
  host: string,
  opts: Omit<BrowserOptions, 'hostMap' | 'spkiHashes'> = {},
): Promise<BrowserSession> {
  return launchBrowser({ ...opts, hostMap: sandboxHostMap(sandbox, names), spkiHashes: [await spkiHash(sandbox.port, host)] });
}
