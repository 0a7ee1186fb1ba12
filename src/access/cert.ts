// Short-lived SSH certificates: `ensureCertificate`, the locked ensure step. It runs on
// every ssh connection (the `Match exec` of the ssh_config entries), so its fast path
// is cert-file.ts's `usableCachedCertificate` (three small files, no sshpk, no network).
// Only when that finds nothing usable does it take the lock (lock.ts, shared with
// cloudflared), re-check with sshpk (cert-check.ts) and renew (cert-issue.ts: a new key,
// cert_sign (cert-sign.ts), the checks, the files). Those modules, with sshpk and the
// token flow, are imported on demand here, so that loading this module loads none of them.
//
// The jobs: cert-file.ts (the files: read fast, write in one step, the clock rule),
// cert-check.ts (the sshpk check), cert-sign.ts (the cert_sign contract), cert-issue.ts
// (key and certificate issue), this module (the locked ensure step).

import { onAbnormalExit } from '../base/cleanup.js';
import type { Hostname } from '../base/hostname.js';
import { checkPrivateDir, removePrivateFile, removePrivateFileSync, writePrivateFile } from '../base/private-files.js';
import { DEFAULT_MAX_VALIDITY_SECONDS, unusableReason, usableCachedCertificate, type CertificateInfo } from './cert-file.js';
import { describeError, fromFileError } from './errors.js';
import { withFileLock, type LockHolder } from './lock.js';
import { certKeyFile, defaultConfigDir } from './paths.js';
import type { Logger } from './types.js';
import type { AccessContext, LoginOptions } from './token-flow.js';

export {
  CLOCK_SKEW_SECONDS,
  DEFAULT_MAX_VALIDITY_SECONDS,
  DEFAULT_RENEW_MARGIN_SECONDS,
  policyProblem,
  unusableReason,
  type CertificateInfo,
} from './cert-file.js';

export interface EnsureOptions {
  /** Renew when the certificate is valid for less than this. */
  readonly marginSeconds: number;
  readonly login: LoginOptions;
  /** The application URL; default `https://<host>/`. */
  readonly appUrl?: URL;
  readonly now?: () => Date;
  /** Where the key and certificate live; default the token store's directory, else `~/.cloudflared`. */
  readonly dir?: string;
  /** The longest validity window accepted, new or cached; default 24 h (DEFAULT_MAX_VALIDITY_SECONDS). */
  readonly maxValiditySeconds?: number;
}

export interface EnsureResult {
  readonly cert: CertificateInfo;
  readonly renewed: boolean;
}

/**
 * A certificate for `host` valid for more than `marginSeconds`: the cached one
 * when it is (no network at all), else a new key and certificate made under a
 * lock that concurrent processes share (one renewal, one login).
 */
export async function ensureCertificate(ctx: AccessContext, host: Hostname, opts: EnsureOptions): Promise<EnsureResult> {
  const now = opts.now ?? (() => new Date());
  const dir = opts.dir ?? ctx.store.dir ?? defaultConfigDir();
  const log = ctx.log;

  const maxValidity = opts.maxValiditySeconds ?? DEFAULT_MAX_VALIDITY_SECONDS;
  const cached = await usableCachedCertificate(dir, host, {
    now: now(),
    marginSeconds: opts.marginSeconds,
    maxValiditySeconds: maxValidity,
  });
  if (cached.cert) return { cert: cached.cert, renewed: false };
  log.debug(`No usable certificate for ${host} (${cached.reason}); checking under the lock`);

  const keyPath = certKeyFile(dir, host);
  try {
    await checkPrivateDir(dir);
  } catch (err) {
    throw fromFileError(err);
  }
  const loginBudget = opts.login.timeoutMs ?? 10 * 60_000; // transfer.ts DEFAULT_LOGIN_TIMEOUT_MS
  let saidWaiting = false;
  // Processes waiting on this lock read the login URL of the holder from here (as
  // cloudflared's `<token>.url`), so that they can show it instead of a bare "waiting".
  const urlFile = `${keyPath}.url`;
  let publishing: Promise<void> = Promise.resolve();
  const publishUrl = (url: string): void => {
    // Through the file layer: a symlink planted at the path is replaced, never written through.
    publishing = publishing
      .then(() => writePrivateFile(urlFile, url, 0o600))
      .catch((err: unknown) => {
        log.debug(`could not write ${urlFile}: ${describeError(err)}`);
      });
  };
  const login: LoginOptions = {
    ...opts.login,
    onLoginUrl: (url: string) => {
      publishUrl(url);
      opts.login.onLoginUrl?.(url);
    },
    onWaiting: (holder: LockHolder) => {
      // We wait on another process's login ourselves: pass its URL on to our waiters.
      if (holder.url) publishUrl(holder.url);
      if (opts.login.onWaiting) opts.login.onWaiting(holder);
      else if (holder.url) opts.login.onLoginUrl?.(holder.url);
    },
  };
  return await withFileLock(
    keyPath,
    async () => {
      const unregister = onAbnormalExit(() => removePrivateFileSync(urlFile));
      try {
        return await renewLocked();
      } finally {
        await publishing;
        await removePrivateFile(urlFile).catch(() => undefined);
        unregister();
      }
    },
    {
      timeoutMs: loginBudget + 60_000,
      retryMs: 200,
      ...(opts.login.signal !== undefined ? { signal: opts.login.signal } : {}),
      onWaiting: (holder) => {
        if (holder.url) {
          // The holder is in a browser login: show its URL, as cloudflared does.
          if (opts.login.onWaiting) opts.login.onWaiting(holder);
          else opts.login.onLoginUrl?.(holder.url);
          return;
        }
        // Waiters take the lock in turn to re-check: say it once, whoever holds it.
        if (saidWaiting) return;
        saidWaiting = true;
        log.info(`Waiting for another access-ssh process that is renewing the certificate for ${host}`);
      },
    },
  );

  async function renewLocked(): Promise<EnsureResult> {
    // Another process may have renewed while we waited.
    const again = await usableCertificate(dir, host, now(), opts.marginSeconds, maxValidity, undefined);
    if (again) {
      log.debug(`Certificate for ${host} was renewed by another process`);
      return { cert: again, renewed: false };
    }
    // What only a renewal needs, loaded here and not with this module: sshpk (key
    // generation and the full check) and the token flow.
    const [{ appTokens }, { issueCertificate }] = await Promise.all([import('./token-flow.js'), import('./cert-issue.js')]);
    const appUrl = opts.appUrl ?? new URL(`https://${host}/`);
    // The app is discovered only when no live app token for the host is stored,
    // or the stored one is refused (token-flow.ts, appTokens).
    const tokens = appTokens(ctx, appUrl, login);
    const cert = await issueCertificate(
      ctx.http,
      dir,
      host,
      {
        get: () => tokens.get(),
        forget: () => tokens.forget(),
        authDomain: () => tokens.appInfo()?.authDomain,
      },
      {
        now,
        log,
        maxValiditySeconds: maxValidity,
        ...(opts.login.signal !== undefined ? { signal: opts.login.signal } : {}),
      },
    );
    return { cert, renewed: true };
  }
}

async function usableCertificate(
  dir: string,
  host: Hostname,
  now: Date,
  marginSeconds: number,
  maxValiditySeconds: number,
  log: Logger | undefined,
): Promise<CertificateInfo | undefined> {
  const { inspectCertificate } = await import('./cert-check.js'); // sshpk: only under the lock
  const state = await inspectCertificate(dir, host);
  if (state.status !== 'ok') {
    log?.debug(`No usable certificate for ${host}: ${state.reason}`);
    return undefined;
  }
  const why = unusableReason(state.cert, now, marginSeconds, maxValiditySeconds);
  if (why !== undefined) {
    log?.debug(`Renewing the certificate for ${host}: ${why}`);
    return undefined;
  }
  return state.cert;
}
