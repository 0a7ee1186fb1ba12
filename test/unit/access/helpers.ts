// Test helpers: a loopback HTTPS server with a throwaway self-signed
// certificate for the sandbox's names (temporary folders: test/support/tmp.ts).

import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import * as https from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import * as net from 'node:net';
import type { AddressInfo } from 'node:net';
import * as path from 'node:path';
import { Writable } from 'node:stream';
import type { TLSSocket } from 'node:tls';
import * as sshpk from 'sshpk';
import { HttpClient } from '../../../src/access/http.js';
import { parseConnectTo } from '../../../src/access/connect-to.js';
import { tempDir } from '../../support/tmp.js';

export interface TestCert {
  readonly key: string;
  readonly cert: string;
  readonly certFile: string;
}

let cached: TestCert | undefined;

/** The names the loopback servers answer for (the sandbox's, and one outside it). */
const TEST_CERT_NAMES = [
  'sandbox.test',
  '*.sandbox.test',
  'sandbox.cloudflareaccess.com',
  '*.cloudflareaccess.com',
  'login.cloudflareaccess.org',
  'login.fed.cloudflareaccess.org',
  '*.fed.cloudflareaccess.com',
  'app.example.com',
];

/** A self-signed certificate for the sandbox names, made in process (sshpk) once per process. */
export function testCert(): TestCert {
  if (cached) return cached;
  const key = sshpk.generatePrivateKey('ecdsa', { curve: 'nistp256' });
  const cert = sshpk.createSelfSignedCertificate(
    TEST_CERT_NAMES.map((n) => sshpk.identityForHost(n)),
    key,
    {
      lifetime: 86_400,
      purposes: ['serverAuth', 'ca'],
    },
  );
  // Made once per process (the certificate is cached): removed when the process exits.
  const certFile = path.join(tempDir({ after: (fn) => process.once('exit', fn) }, 'access-cert-'), 'cert.pem');
  fs.writeFileSync(certFile, cert.toString('pem'));
  cached = { key: key.toString('pkcs8'), cert: cert.toString('pem'), certFile };
  return cached;
}

export interface SeenRequest {
  readonly method: string;
  readonly url: string;
  readonly host: string;
  readonly sni: string | false;
  readonly headers: IncomingMessage['headers'];
  readonly body: Buffer;
}

export type Handler = (req: SeenRequest, res: ServerResponse) => void | Promise<void>;

export interface TestServer {
  readonly port: number;
  readonly seen: SeenRequest[];
  readonly server: https.Server;
  /** An HttpClient that routes every host to this server and trusts its certificate. */
  client(opts?: { timeoutMs?: number }): HttpClient;
  close(): Promise<void>;
}

export async function startServer(handler: Handler): Promise<TestServer> {
  const { key, cert } = testCert();
  const seen: SeenRequest[] = [];
  const server = https.createServer({ key, cert }, (req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const seenReq: SeenRequest = {
        method: req.method ?? '',
        url: req.url ?? '',
        host: req.headers.host ?? '',
        sni: (req.socket as TLSSocket).servername ?? false,
        headers: req.headers,
        body: Buffer.concat(chunks),
      };
      seen.push(seenReq);
      Promise.resolve(handler(seenReq, res)).catch((err: unknown) => {
        res.statusCode = 599;
        res.end(String(err));
      });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    seen,
    server,
    client: (opts = {}) =>
      new HttpClient({
        connectTo: parseConnectTo(`::127.0.0.1:${port}`),
        extraCaPem: cert,
        ...(opts.timeoutMs !== undefined ? { timeoutMs: opts.timeoutMs } : {}),
      }),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An unsigned JWT-shaped string with the given claims (decodeClaims never verifies). */
export function fakeJwt(claims: Record<string, unknown>, header: Record<string, unknown> = { alg: 'RS256', typ: 'JWT' }): string {
  const enc = (v: unknown): string => Buffer.from(JSON.stringify(v)).toString('base64url');
  return `${enc(header)}.${enc(claims)}.${Buffer.from('signature').toString('base64url')}`;
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A TCP echo server on loopback: an origin for carrier tests that need no sshd. */
export async function startEchoServer(): Promise<{ server: net.Server; port: number }> {
  const server = net.createServer((s) => {
    s.on('error', () => {});
    s.pipe(s);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return { server, port: (server.address() as AddressInfo).port };
}

/** A Writable that keeps what it got and the most it ever had buffered; `delayMs` per write. */
export function sink(
  opts: { delayMs?: number; highWaterMark?: number } = {},
): Writable & { data: () => Buffer; maxBuffered: () => number } {
  const parts: Buffer[] = [];
  let maxBuffered = 0;
  const w = new Writable({
    highWaterMark: opts.highWaterMark ?? 16 * 1024,
    write(chunk: Buffer, _enc, cb) {
      parts.push(chunk);
      maxBuffered = Math.max(maxBuffered, w.writableLength);
      if (opts.delayMs) setTimeout(cb, opts.delayMs);
      else cb();
    },
  }) as Writable & { data: () => Buffer; maxBuffered: () => number };
  w.data = () => Buffer.concat(parts);
  w.maxBuffered = () => maxBuffered;
  return w;
}

export const sha = (b: Buffer): string => createHash('sha256').update(b).digest('hex');
