// Opening the login page: `$BROWSER` when set (the usual convention: a
// command, `%s` replaced by the URL or the URL appended; a `:`-separated list
// uses its first entry), else the platform opener. The browser runs detached
// and is not waited for: a failing or missing browser never fails the login,
// the URL is printed on stderr too.

import { spawn } from 'node:child_process';
import type { Logger } from '../access/types.js';

export interface BrowserCommand {
  readonly command: string;
  readonly args: readonly string[];
}

export function browserCommand(url: string, env: Readonly<Record<string, string | undefined>>, platform: NodeJS.Platform): BrowserCommand {
  const custom = env['BROWSER']?.trim();
  if (custom) {
    const first = platform === 'win32' ? custom : (custom.split(':').find((s) => s.trim() !== '') ?? custom);
    const words = first.trim().split(/\s+/);
    const command = words.shift() ?? first;
    if (words.some((w) => w.includes('%s'))) {
      return { command, args: words.map((w) => w.replace(/%s/g, url)) };
    }
    return { command, args: [...words, url] };
  }
  switch (platform) {
    case 'darwin':
      return { command: 'open', args: [url] };
    case 'win32':
      return { command: 'rundll32', args: ['url.dll,FileProtocolHandler', url] };
    default:
      return { command: 'xdg-open', args: [url] };
  }
}

/** Start the browser on `url`; resolves once it started (or failed to), never rejects. */
export function openBrowser(
  url: string,
  opts: { env?: Readonly<Record<string, string | undefined>>; platform?: NodeJS.Platform; log?: Logger } = {},
): Promise<void> {
  const { command, args } = browserCommand(url, opts.env ?? process.env, opts.platform ?? process.platform);
  const log = opts.log;
  return new Promise<void>((resolve) => {
    let child;
    try {
      child = spawn(command, args, { detached: true, stdio: 'ignore', windowsHide: true });
    } catch (err) {
      log?.warn(`Could not start the browser (${command}): ${err instanceof Error ? err.message : String(err)}`);
      resolve();
      return;
    }
    child.once('error', (err) => {
      log?.warn(`Could not start the browser (${command}): ${err.message}`);
      resolve();
    });
    child.once('spawn', () => {
      log?.debug(`Started the browser: ${command}`);
      child.unref();
      resolve();
    });
    child.once('exit', (code, signal) => {
      if (code !== 0) log?.debug(`The browser command ${command} exited with ${code ?? signal}`);
    });
  });
}
