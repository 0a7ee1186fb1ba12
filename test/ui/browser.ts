// Debian's Chromium driven by playwright-core, able to reach the sandbox edge as if it
// were Cloudflare: its names are mapped to the sandbox's loopback port with
// --host-resolver-rules (the TLS name and Host stay the real ones), and only the
// sandbox's leaf certificate is trusted, by its SPKI hash.
import { createHash, X509Certificate } from 'node:crypto';
import { existsSync } from 'node:fs';
import { connect } from 'node:tls';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';

export const CHROMIUM = process.env.ACCESS_SSH_CHROMIUM ?? '/usr/bin/chromium';

export interface BrowserOptions {
  /** host name → "127.0.0.1:PORT" */
  hostMap?: Record<string, string>;
  /** base64 SHA-256 of SubjectPublicKeyInfo of certificates to accept. */
  spkiHashes?: string[];
  viewport?: { width: number; height: number };
  /** Show the browser (needs a display). */
  headed?: boolean;
}

export interface BrowserSession {
  browser: Browser;
  context: BrowserContext;
  page: Page;
  close(): Promise<void>;
}

/** The base64 SHA-256 of the SPKI of the certificate served on host:port for `servername`. */
export function spkiHash(port: number, servername: string, host = '127.0.0.1'): Promise<string> {
  return new Promise((resolve, reject) => {
    const sock = connect({ host, port, servername, rejectUnauthorized: false }, () => {
      try {
        const cert = sock.getPeerX509Certificate() ?? new X509Certificate(sock.getPeerCertificate().raw);
        const der = cert.publicKey.export({ type: 'spki', format: 'der' });
        resolve(createHash('sha256').update(der).digest('base64'));
      } catch (err) {
        reject(err instanceof Error ? err : new Error(String(err)));
      } finally {
        sock.destroy();
      }
    });
    sock.once('error', reject);
    sock.setTimeout(10_000, () => {
      sock.destroy();
      reject(new Error(`TLS to ${host}:${port} (${servername}) timed out`));
    });
  });
}

/** The names the sandbox edge answers for (DESIGN §6): a browser must send them to its port. */
export const SANDBOX_NAMES = ['*.sandbox.test', 'sandbox.cloudflareaccess.com', 'login.cloudflareaccess.org'];

/** SANDBOX_NAMES → "127.0.0.1:PORT", a `hostMap` for the sandbox on `port`. */
export function sandboxHostMap(port: number): Record<string, string> {
  return Object.fromEntries(SANDBOX_NAMES.map((n) => [n, `127.0.0.1:${port}`]));
}

/**
 * The Chromium switches that reach the sandbox as if it were Cloudflare: its names mapped
 * to loopback (TLS name and Host stay the real ones), only its leaf trusted, by SPKI.
 * Chromium honours --ignore-certificate-errors-spki-list only with a --user-data-dir.
 */
export function routingFlags(opts: Pick<BrowserOptions, 'hostMap' | 'spkiHashes'>): string[] {
  const rules = Object.entries(opts.hostMap ?? {}).map(([name, to]) => `MAP ${name} ${to}`);
  const out: string[] = [];
  if (rules.length) out.push(`--host-resolver-rules=${rules.join(',')}`);
  if (opts.spkiHashes?.length) out.push(`--ignore-certificate-errors-spki-list=${opts.spkiHashes.join(',')}`);
  return out;
}

export function missingBrowser(): string | undefined {
  return existsSync(CHROMIUM) ? undefined : `${CHROMIUM} is missing: run "node scripts/setup.mjs ui" (Debian package chromium)`;
}

/**
 * The switches of every Chromium the UI suite starts (this file's `launchBrowser` and
 * `remote-handoff.test.ts`, which adds its SOCKS proxy): no sandbox or GPU (a container),
 * none of Chromium's own background traffic (updates, sync, translation, cast, hints), no
 * first-run or keychain prompt, English.
 */
export const CHROMIUM_FLAGS: readonly string[] = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
  '--no-first-run',
  '--no-default-browser-check',
  '--disable-features=Translate,MediaRouter,OptimizationHints',
  '--password-store=basic',
  '--use-mock-keychain',
  '--lang=en-US',
];

export async function launchBrowser(opts: BrowserOptions = {}): Promise<BrowserSession> {
  const missing = missingBrowser();
  if (missing) throw new Error(missing);
  const args = [...CHROMIUM_FLAGS];
  args.push(...routingFlags(opts));
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: !opts.headed,
    args,
    timeout: 60_000,
  });
  const context = await browser.newContext({
    viewport: opts.viewport ?? { width: 1280, height: 800 },
    deviceScaleFactor: 1,
    locale: 'en-US',
    colorScheme: 'dark',
    // Clipboard access for "Copy ssh Command".
    permissions: ['clipboard-read', 'clipboard-write'],
  });
  const page = await context.newPage();
  return {
    browser,
    context,
    page,
    async close() {
      await context.close().catch(() => undefined);
      await browser.close().catch(() => undefined);
    },
  };
}
