// The SSH user CA the sandbox's Access "cert_sign" endpoint signs with: an Ed25519
// key, and OpenSSH user certificates (PROTOCOL.certkeys) built and signed in process
// with Node's crypto, the way `ssh-keygen -s` makes them (same fields, the same
// default extensions). The sandbox's real sshd trusts this CA (TrustedUserCAKeys),
// so every e2e login proves that sshd accepts what is made here; the unit test
// test/integration/sandbox/ssh-ca.test.ts also has `ssh-keygen -L` read it.
//
// In process rather than by running `ssh-keygen -s` per request: the edge stands in
// for Cloudflare's in the measured path of a renewal (docs/BENCHMARKS.md), and a
// process start per certificate (a temp dir, a key file, ssh-keygen, ~25-30 ms
// here) was most of what a renewal added over one HTTPS round trip; Access signs
// without one.
import { createPublicKey, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';

export interface SignRequest {
  /** authorized_keys line of the key to certify. */
  publicKey: string;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  serial: number;
  /** Critical options (name → value), e.g. force-command; Access sets none. */
  criticalOptions?: Record<string, string>;
  /** valid_before = 2^64-1 ("forever", ssh-keygen -V always:forever). */
  forever?: boolean;
  /** Extensions to grant (default: ssh-keygen's, USER_EXTENSIONS). */
  extensions?: readonly string[];
}

export interface SshCa {
  /** Path of the CA's public key (sshd's TrustedUserCAKeys). */
  publicKeyFile: string;
  publicKey: string;
  /** Signs; resolves with the certificate line (`...-cert-v01@openssh.com AAAA...`). */
  sign(req: SignRequest): Promise<string>;
}

/** Plain key type → certificate type and the number of wire strings after the type name. */
const CERT_TYPES: Readonly<Record<string, readonly [string, number]>> = {
  'ssh-ed25519': ['ssh-ed25519-cert-v01@openssh.com', 1],
  'ecdsa-sha2-nistp256': ['ecdsa-sha2-nistp256-cert-v01@openssh.com', 2],
  'ecdsa-sha2-nistp384': ['ecdsa-sha2-nistp384-cert-v01@openssh.com', 2],
  'ecdsa-sha2-nistp521': ['ecdsa-sha2-nistp521-cert-v01@openssh.com', 2],
  'ssh-rsa': ['ssh-rsa-cert-v01@openssh.com', 2],
  'sk-ecdsa-sha2-nistp256@openssh.com': ['sk-ecdsa-sha2-nistp256-cert-v01@openssh.com', 3],
  'sk-ssh-ed25519@openssh.com': ['sk-ssh-ed25519-cert-v01@openssh.com', 2],
};

/** ssh-keygen's default extensions for a user certificate, in its (sorted) order. */
export const USER_EXTENSIONS = [
  'permit-X11-forwarding',
  'permit-agent-forwarding',
  'permit-port-forwarding',
  'permit-pty',
  'permit-user-rc',
];

function u32(n: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
}

function u64(n: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64BE(n);
  return b;
}

function str(v: Buffer | string): Buffer {
  const b = typeof v === 'string' ? Buffer.from(v, 'utf8') : v;
  return Buffer.concat([u32(b.length), b]);
}

/**
 * The key fields of one authorized_keys line, checked as ssh-keygen would before
 * signing: known type, the type inside the blob is the one outside, the right number
 * of fields and nothing after them. Throws with the reason.
 */
function parseKeyLine(line: string): { type: string; fields: Buffer } {
  const trimmed = line.trim();
  if (!/^[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\r\n]*)?$/.test(trimmed)) throw new Error('public_key is not an OpenSSH public key line');
  const [type, b64] = trimmed.split(' ') as [string, string];
  const known = CERT_TYPES[type];
  if (!known) throw new Error(`unsupported key type ${JSON.stringify(type.slice(0, 60))}`);
  const blob = Buffer.from(b64, 'base64');
  let off = 0;
  const next = (): Buffer => {
    if (off + 4 > blob.length) throw new Error('public_key is truncated');
    const n = blob.readUInt32BE(off);
    if (off + 4 + n > blob.length) throw new Error('public_key is truncated');
    const v = blob.subarray(off + 4, off + 4 + n);
    off += 4 + n;
    return v;
  };
  if (next().toString('latin1') !== type) throw new Error('public_key: the type inside differs from the type outside');
  const start = off;
  for (let i = 0; i < known[1]; i++) {
    if (next().length === 0) throw new Error('public_key has an empty key field');
  }
  if (off !== blob.length) throw new Error('public_key has trailing data');
  if (type.startsWith('ecdsa-sha2-')) {
    // The point must be on the curve (ssh-keygen refuses other keys).
    try {
      createPublicKey({ key: sshEcdsaJwk(type, blob.subarray(start)), format: 'jwk' });
    } catch {
      throw new Error('public_key is not a valid ECDSA key');
    }
  }
  return { type, fields: blob.subarray(start) };
}

function sshEcdsaJwk(type: string, fields: Buffer): { kty: 'EC'; crv: string; x: string; y: string } {
  const curveLen = fields.readUInt32BE(0);
  const pointAt = 4 + curveLen;
  const point = fields.subarray(pointAt + 4, pointAt + 4 + fields.readUInt32BE(pointAt));
  const crv = { 'ecdsa-sha2-nistp256': 'P-256', 'ecdsa-sha2-nistp384': 'P-384', 'ecdsa-sha2-nistp521': 'P-521' }[type] ?? '';
  const size = (point.length - 1) / 2;
  if (point[0] !== 4 || !Number.isInteger(size)) throw new Error('not an uncompressed point');
  return { kty: 'EC', crv, x: point.subarray(1, 1 + size).toString('base64url'), y: point.subarray(1 + size).toString('base64url') };
}

function seconds(d: Date): bigint {
  return BigInt(Math.floor(d.getTime() / 1000));
}

/** An OpenSSH user certificate for `req`, signed by the Ed25519 `caKey` whose wire blob is `caBlob`. */
export function signUserCertificate(caKey: KeyObject, caBlob: Buffer, req: SignRequest): string {
  const { type, fields } = parseKeyLine(req.publicKey);
  const certType = CERT_TYPES[type]![0];
  const extensions = Buffer.concat((req.extensions ?? USER_EXTENSIONS).map((e) => Buffer.concat([str(e), str('')])));
  const body = Buffer.concat([
    str(certType),
    str(randomBytes(32)), // nonce
    fields,
    u64(BigInt(req.serial)),
    u32(1), // SSH_CERT_TYPE_USER
    str(req.keyId),
    str(Buffer.concat(req.principals.map((p) => str(p)))),
    u64(seconds(req.validAfter)),
    u64(req.forever ? 0xffffffffffffffffn : seconds(req.validBefore)),
    str(
      Buffer.concat(
        Object.entries(req.criticalOptions ?? {})
          .sort(([a], [b]) => (a < b ? -1 : 1))
          .map(([k, v]) => Buffer.concat([str(k), str(str(v))])),
      ),
    ), // critical options
    str(extensions),
    str(''), // reserved
    str(caBlob),
  ]);
  const signature = str(Buffer.concat([str('ssh-ed25519'), str(sign(null, body, caKey))]));
  // Like Access, hand back "type base64" with no comment.
  return `${certType} ${Buffer.concat([body, signature]).toString('base64')}`;
}

export async function createSshCa(dir: string, name = 'sandbox-user-ca'): Promise<SshCa> {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url');
  const caBlob = Buffer.concat([str('ssh-ed25519'), str(raw)]);
  const publicLine = `ssh-ed25519 ${caBlob.toString('base64')} ${name}`;
  const keyFile = join(dir, name);
  writeFileSync(keyFile, privateKey.export({ type: 'pkcs8', format: 'pem' }), { mode: 0o600 });
  const publicKeyFile = `${keyFile}.pub`;
  writeFileSync(publicKeyFile, publicLine + '\n');
  return {
    publicKeyFile,
    publicKey: publicLine,
    sign(req) {
      return Promise.resolve().then(() => signUserCertificate(privateKey, caBlob, req));
    },
  };
}
