// The team's JWT signing key (RS256, like Access) and the JWKS document served at
// https://<team>.cloudflareaccess.com/cdn-cgi/access/certs.
import { readFileSync, writeFileSync } from 'node:fs';
import { createHash, X509Certificate } from 'node:crypto';
import { join } from 'node:path';
import { exportJWK, importPKCS8, importSPKI, jwtVerify, SignJWT, type JWTPayload, type JWTVerifyResult } from 'jose';
import { requireTool, run } from './exec';

export interface Jwks {
  keys: Record<string, unknown>[];
  public_cert: { kid: string; cert: string };
  public_certs: { kid: string; cert: string }[];
}

export interface TeamKeys {
  kid: string;
  jwks: Jwks;
  sign(claims: JWTPayload): Promise<string>;
  verify(token: string): Promise<JWTVerifyResult>;
}

type KeyLike = Awaited<ReturnType<typeof importPKCS8>>;

export async function createTeamKeys(dir: string, name = 'team'): Promise<TeamKeys> {
  const openssl = requireTool('openssl');
  const keyFile = join(dir, `${name}-rsa.pem`);
  const certFile = join(dir, `${name}-rsa-cert.pem`);
  await run(openssl, ['genpkey', '-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048', '-out', keyFile]);
  await run(openssl, [
    'req',
    '-new',
    '-x509',
    '-key',
    keyFile,
    '-subj',
    '/CN=sandbox.cloudflareaccess.com',
    '-days',
    '30',
    '-sha256',
    '-out',
    certFile,
  ]);
  const keyPem = readFileSync(keyFile, 'utf8');
  const certPem = readFileSync(certFile, 'utf8');
  const x509 = new X509Certificate(certPem);
  const spki = x509.publicKey.export({ type: 'spki', format: 'pem' }).toString();
  const privateKey: KeyLike = await importPKCS8(keyPem, 'RS256');
  const publicKey = await importSPKI(spki, 'RS256', { extractable: true });
  const jwk = await exportJWK(publicKey);
  // Access's kids are hex digests; use the SHA-256 of the public key.
  const kid = createHash('sha256')
    .update(x509.publicKey.export({ type: 'spki', format: 'der' }))
    .digest('hex');
  const jwks: Jwks = {
    keys: [{ kid, kty: 'RSA', alg: 'RS256', use: 'sig', e: jwk.e, n: jwk.n }],
    public_cert: { kid, cert: certPem },
    public_certs: [{ kid, cert: certPem }],
  };
  writeFileSync(join(dir, `${name}-jwks.json`), JSON.stringify(jwks));
  return {
    kid,
    jwks,
    sign(claims) {
      return new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid, typ: 'JWT' }).sign(privateKey);
    },
    verify(token) {
      return jwtVerify(token, publicKey, { algorithms: ['RS256'] });
    },
  };
}
