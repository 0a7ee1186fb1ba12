// The SSH user CA the sandbox's Access "cert_sign" endpoint signs with: real OpenSSH
// (`ssh-keygen -s`), so the certificates are exactly what sshd will be asked to trust.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { requireTool, run } from './exec';

export interface SignRequest {
  /** authorized_keys line of the key to certify. */
  publicKey: string;
  keyId: string;
  principals: string[];
  validAfter: Date;
  validBefore: Date;
  serial: number;
}

export interface SshCa {
  /** Path of the CA's public key (sshd's TrustedUserCAKeys). */
  publicKeyFile: string;
  publicKey: string;
  /** Signs; resolves with the certificate line (`...-cert-v01@openssh.com AAAA...`). */
  sign(req: SignRequest): Promise<string>;
}

function utcStamp(d: Date): string {
  return d.toISOString().replace(/[-:T]/g, '').replace(/\.\d+Z$/, 'Z');
}

/** ssh-keygen reads only the first two fields; refuse anything that is not one key line. */
function checkKeyLine(line: string): string {
  const trimmed = line.trim();
  if (!/^[a-z0-9@.-]+ [A-Za-z0-9+/=]+( [^\r\n]*)?$/.test(trimmed)) throw new Error('public_key is not an OpenSSH public key line');
  return trimmed;
}

export async function createSshCa(dir: string, name = 'sandbox-user-ca'): Promise<SshCa> {
  const sshKeygen = requireTool('ssh-keygen');
  const keyFile = join(dir, name);
  await run(sshKeygen, ['-q', '-t', 'ed25519', '-N', '', '-C', name, '-f', keyFile]);
  const publicKeyFile = `${keyFile}.pub`;
  return {
    publicKeyFile,
    publicKey: readFileSync(publicKeyFile, 'utf8').trim(),
    async sign(req) {
      const work = mkdtempSync(join(dir, 'sign-'));
      try {
        const pub = join(work, 'key.pub');
        writeFileSync(pub, checkKeyLine(req.publicKey) + '\n');
        await run(sshKeygen, [
          '-q', '-s', keyFile,
          '-I', req.keyId,
          '-n', req.principals.join(','),
          '-z', String(req.serial),
          '-V', `${utcStamp(req.validAfter)}:${utcStamp(req.validBefore)}`,
          pub,
        ]);
        const cert = readFileSync(join(work, 'key-cert.pub'), 'utf8').trim();
        // Like Access, hand back "type base64" with no comment.
        return cert.split(/\s+/).slice(0, 2).join(' ');
      } finally {
        rmSync(work, { recursive: true, force: true });
      }
    },
  };
}
