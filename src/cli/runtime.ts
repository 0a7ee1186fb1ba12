// What a command runs with: the process's streams and environment (tests pass
// their own), the logger, and the lazily built Access context.

import type { Readable, Writable } from 'node:stream';
import type { AccessContext, LoginOptions } from '../access/token-flow.js';
import type { CliLogger } from './log.js';

export type Env = Readonly<Record<string, string | undefined>>;

export interface Runtime {
  readonly env: Env;
  readonly stdin: Readable;
  readonly stdout: Writable;
  readonly stderr: Writable;
  readonly log: CliLogger;
  readonly platform: NodeJS.Platform;
  /** How to run this helper again (for ssh-config): argv[0..1] of this process. */
  readonly self: readonly string[];
  /** Opens a URL in the browser; default `openBrowser` of open-browser.ts. */
  readonly openUrl?: (url: string) => Promise<void>;
  /** Per-request limit from --timeout / ACCESS_SSH_TIMEOUT; default the client's (10 s). */
  readonly timeoutMs?: number;
  /** `access-ssh/<version>`. */
  readonly userAgent?: string;
  /** Stops a long-running command (the --url listener); when absent, SIGINT/SIGTERM do. */
  readonly shutdown?: AbortSignal;
}

/** The Access context: HTTPS client from the environment, token store in ~/.cloudflared. */
export async function createContext(rt: Runtime): Promise<AccessContext> {
  const [{ HttpClient }, { TokenStore }] = await Promise.all([import('../access/http.js'), import('../access/token-store.js')]);
  const extra = {
    ...(rt.timeoutMs !== undefined ? { timeoutMs: rt.timeoutMs } : {}),
    ...(rt.userAgent !== undefined ? { userAgent: rt.userAgent } : {}),
  };
  // A token file others could read is made 0600 and the user told (tokens: repair; keys: refuse).
  const store = new TokenStore(undefined, (file, mode) => {
    rt.log.warn(
      `${file} could be read by others (mode ${mode.toString(8).padStart(4, '0')}); it was made 0600. If others may have read it, sign in again.`,
    );
  });
  return { http: HttpClient.fromEnv(rt.env, rt.log, extra), store, log: rt.log };
}

/**
 * Login options for the CLI: the login URL always printed on stderr (once per
 * URL, also when another process holds the login and we wait for it), and
 * the browser opened unless `interactive` is false.
 */
export function loginOptions(rt: Runtime, interactive: boolean, fedramp = false): LoginOptions {
  const printed = new Set<string>();
  const print = (url: string): void => {
    if (printed.has(url)) return;
    printed.add(url);
    rt.stderr.write(
      `A browser window should have opened at the following URL:\n\n${url}\n\n` +
        'If the browser failed to open, please visit the URL above directly in your browser.\n',
    );
  };
  let waitingSaid = false;
  return {
    interactive,
    ...(fedramp ? { fedramp: true } : {}),
    onLoginUrl: print,
    onWaiting: (holder) => {
      if (holder.url) {
        if (printed.has(holder.url)) return;
        printed.add(holder.url);
        rt.stderr.write(
          `Another process (pid ${holder.pid}) is signing in to Cloudflare Access; finish the login at:\n\n${holder.url}\n\n`,
        );
      } else if (!waitingSaid) {
        waitingSaid = true;
        rt.stderr.write(`Waiting for another process (pid ${holder.pid}) that is signing in to Cloudflare Access…\n`);
      }
    },
    openBrowser: async (url: string) => {
      print(url);
      if (rt.openUrl) {
        await rt.openUrl(url);
        return;
      }
      const { openBrowser } = await import('./open-browser.js');
      await openBrowser(url, { env: rt.env, platform: rt.platform, log: rt.log });
    },
  };
}
