// The sandbox's TLS PKI: a private CA and one leaf certificate for every host name the
// edge answers for, made with the real `openssl` CLI in a temporary directory.
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run } from './exec';

export const TLS_NAMES = [
  '*.sandbox.test',
  'ssh.sandbox.test',
  'sandbox.test',
  'sandbox.cloudflareaccess.com',
  'login.cloudflareaccess.org',
  'sandbox.fed.cloudflareaccess.com',
  'login.fed.cloudflareaccess.org',
  'localhost',
] as const;

export interface TlsPki {
  /** PEM file of the CA: give it to clients as NODE_EXTRA_CA_CERTS. */
  caFile: string;
  caPem: string;
  keyPem: string;
  certPem: string;
}

export async function createTlsPki(dir: string, extraNames: string[] = []): Promise<TlsPki> {
  const openssl = requireTool('openssl');
  const ca = (f: string) => join(dir, f);
  await run(openssl, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', ca('ca-key.pem')]);
  writeFileSync(
    ca('ca.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'x509_extensions = v3_ca',
      'prompt = no',
      '[dn]',
      'CN = Access SSH sandbox CA',
      'O = Access SSH sandbox',
      '[v3_ca]',
      'basicConstraints = critical, CA:true, pathlen:0',
      'keyUsage = critical, keyCertSign, cRLSign',
      'subjectKeyIdentifier = hash',
      '',
    ].join('\n'),
  );
  await run(openssl, [
    'req',
    '-new',
    '-x509',
    '-config',
    ca('ca.cnf'),
    '-key',
    ca('ca-key.pem'),
    '-days',
    '30',
    '-sha256',
    '-out',
    ca('ca.pem'),
  ]);

  const dns = [...TLS_NAMES, ...extraNames].map((n, i) => `DNS.${i + 1} = ${n}`);
  writeFileSync(
    ca('leaf.cnf'),
    [
      '[req]',
      'distinguished_name = dn',
      'prompt = no',
      '[dn]',
      'CN = ssh.sandbox.test',
      '[v3_leaf]',
      'basicConstraints = critical, CA:false',
      'keyUsage = critical, digitalSignature, keyEncipherment',
      'extendedKeyUsage = serverAuth',
      'subjectAltName = @alt',
      'authorityKeyIdentifier = keyid',
      '[alt]',
      ...dns,
      'IP.1 = 127.0.0.1',
      'IP.2 = ::1',
      '',
    ].join('\n'),
  );
  await run(openssl, ['ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', ca('leaf-key.pem')]);
  await run(openssl, ['req', '-new', '-config', ca('leaf.cnf'), '-key', ca('leaf-key.pem'), '-out', ca('leaf.csr')]);
  await run(openssl, [
    'x509',
    '-req',
    '-in',
    ca('leaf.csr'),
    '-CA',
    ca('ca.pem'),
    '-CAkey',
    ca('ca-key.pem'),
    '-CAcreateserial',
    '-days',
    '30',
    '-sha256',
    '-extfile',
    ca('leaf.cnf'),
    '-extensions',
    'v3_leaf',
    '-out',
    ca('leaf.pem'),
  ]);
  return {
    caFile: ca('ca.pem'),
    caPem: readFileSync(ca('ca.pem'), 'utf8'),
    keyPem: readFileSync(ca('leaf-key.pem'), 'utf8'),
    certPem: readFileSync(ca('leaf.pem'), 'utf8'),
  };
}
