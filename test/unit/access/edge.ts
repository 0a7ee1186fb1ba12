// A small fake Access edge for unit tests, served by the loopback HTTPS
// server of helpers.ts: metadata + JWKS, transfer service, org → app exchange.

import { parseAppToken, parseOrgToken } from '../../../src/access/jwt.js';
import type { AppToken, OrgToken } from '../../../src/access/types.js';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import nacl from 'tweetnacl';
import type { ServerResponse } from 'node:http';
import { goUrlBase64 } from '../../../src/access/transfer.js';
import { fakeJwt, nowSeconds, startServer, type SeenRequest, type TestServer } from './helpers.js';
import { hostname } from '../../support/hostname.js';

export const TEAM = 'team.cloudflareaccess.com';
export const AUD = 'a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2c3d4e5f6a1b2';
export const APP_HOST = hostname('ssh.sandbox.test');

export interface RsaKey {
  readonly privateKey: CryptoKey;
  readonly jwk: JWK;
}

export async function rsaKey(kid: string): Promise<RsaKey> {
  const { privateKey, publicKey } = await generateKeyPair('RS256', { extractable: true });
  return { privateKey, jwk: { ...(await exportJWK(publicKey)), kid, alg: 'RS256', use: 'sig' } };
}

export async function signMetadata(key: RsaKey, claims: Record<string, unknown>, alg = 'RS256'): Promise<string> {
  return await new SignJWT(claims).setProtectedHeader({ alg, kid: key.jwk.kid! }).sign(key.privateKey);
}

export function appToken(opts: { aud?: string | string[]; exp?: number; iss?: string; email?: string } = {}): AppToken {
  return parseAppToken(
    fakeJwt({
      aud: opts.aud ?? [AUD],
      exp: opts.exp ?? nowSeconds() + 3600,
      iss: opts.iss ?? `https://${TEAM}`,
      email: opts.email ?? 'jdoe@example.com',
      type: 'app',
    }),
  ).token;
}

export function orgToken(opts: { exp?: number; iss?: string } = {}): OrgToken {
  return parseOrgToken(
    fakeJwt({
      aud: [TEAM],
      exp: opts.exp ?? nowSeconds() + 86400,
      iss: opts.iss ?? `https://${TEAM}`,
      email: 'jdoe@example.com',
      type: 'org',
    }),
  ).token;
}

/** Seal `payload` to the client key `clientKeyB64` as the transfer service does. */
export function seal(payload: string, clientKeyB64: string, service = nacl.box.keyPair()): { body: string; serviceKey: string } {
  const clientPub = Buffer.from(clientKeyB64.replace(/-/g, '+').replace(/_/g, '/'), 'base64');
  const nonce = nacl.randomBytes(24);
  const box = nacl.box(Buffer.from(payload), nonce, clientPub, service.secretKey);
  return { body: Buffer.concat([nonce, box]).toString('base64'), serviceKey: goUrlBase64(service.publicKey) };
}

export interface FakeEdge {
  readonly server: TestServer;
  readonly key: RsaKey;
  /** Overrides for the next metadata JWT claims. */
  metadata: Record<string, unknown>;
  /** Tokens the transfer service hands out once a login URL was "visited". */
  transfer: { app: string; org?: string };
  /** Org token accepted by the exchange (undefined: refuse every one). */
  acceptOrg: string | undefined;
  /** The app token the exchange issues. */
  exchangeToken: string;
  /** Keys whose login page was visited (by openBrowser). */
  readonly visited: Set<string>;
  count(pred: (r: SeenRequest) => boolean): number;
  close(): Promise<void>;
}

export async function startEdge(): Promise<FakeEdge> {
  const key = await rsaKey('k1');
  const edge: { -readonly [K in keyof FakeEdge]: FakeEdge[K] } = {
    key,
    metadata: {},
    transfer: { app: appToken(), org: orgToken() },
    acceptOrg: undefined,
    exchangeToken: appToken({ email: 'exchanged@example.com' }),
    visited: new Set<string>(),
  } as unknown as FakeEdge; // server and helpers are filled in below
  const handler = async (req: SeenRequest, res: ServerResponse): Promise<void> => {
    const host = req.host.split(':')[0]!;
    const url = new URL(req.url, `https://${host}`);
    if (host === TEAM && url.pathname === '/cdn-cgi/access/certs') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ keys: [key.jwk] }));
      return;
    }
    if (host === TEAM && url.pathname.startsWith('/cdn-cgi/access/login')) {
      const cookie = req.headers.cookie ?? '';
      if (edge.acceptOrg && cookie.includes(`CF_Authorization=${edge.acceptOrg}`)) {
        res.writeHead(302, { location: `https://${url.searchParams.get('app') ?? APP_HOST}/cdn-cgi/access/authorized?nonce=1` });
      } else {
        res.writeHead(200, { 'content-type': 'text/html' });
      }
      res.end();
      return;
    }
    if ((host === 'login.cloudflareaccess.org' || host === 'login.fed.cloudflareaccess.org') && url.pathname.startsWith('/transfer/')) {
      const clientKey = decodeURIComponent(url.pathname.slice('/transfer/'.length));
      if (!edge.visited.has(clientKey)) {
        res.writeHead(404);
        res.end();
        return;
      }
      const sealed = seal(
        JSON.stringify(
          edge.transfer.org === undefined
            ? { app_token: edge.transfer.app }
            : { app_token: edge.transfer.app, org_token: edge.transfer.org },
        ),
        clientKey,
      );
      res.writeHead(200, { 'service-public-key': sealed.serviceKey });
      res.end(sealed.body);
      return;
    }
    if (host.endsWith('.sandbox.test')) {
      if (req.headers['cf-access-metadata-request'] === 'true') {
        const jwt = await signMetadata(key, {
          type: 'match',
          hostname: host,
          auth_domain: TEAM,
          aud: AUD,
          app_hostname: host,
          iat: nowSeconds(),
          ...edge.metadata,
        });
        res.writeHead(302, { 'cf-access-metadata': jwt, location: `https://${TEAM}/cdn-cgi/access/login/${host}` });
        res.end();
        return;
      }
      if (url.pathname === '/cdn-cgi/access/authorized') {
        const ok = (req.headers.cookie ?? '').includes('CF_AppSession=sess-1');
        res.writeHead(302, {
          location: '/',
          ...(ok
            ? {
                'set-cookie': [
                  `CF_Authorization=${edge.exchangeToken}; Expires=${new Date(Date.now() + 3600_000).toUTCString()}; Path=/; Secure; HttpOnly`,
                ],
              }
            : {}),
        });
        res.end();
        return;
      }
      res.writeHead(302, {
        location: `https://${TEAM}/cdn-cgi/access/login/${host}?app=${host}`,
        'set-cookie': ['CF_AppSession=sess-1; Path=/; Secure; HttpOnly'],
      });
      res.end();
      return;
    }
    res.writeHead(404);
    res.end();
  };
  edge.server = await startServer(handler);
  edge.count = (pred) => edge.server.seen.filter(pred).length;
  edge.close = () => edge.server.close();
  return edge;
}

/** An openBrowser that "logs in": marks the login URL's key as done. */
export function visitor(edge: FakeEdge, calls: string[] = []): (url: string) => Promise<void> {
  return async (url: string) => {
    calls.push(url);
    const key = new URL(url).searchParams.get('token');
    if (key) edge.visited.add(key);
  };
}
