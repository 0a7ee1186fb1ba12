// OpenSSH user certificates made in process (sshpk), as the Access edge issues them: a key
// pair and its certificate under a folder, with cloudflared's file names. No ssh-keygen, so
// unit tests can have real certificates without starting a process.
import { mkdirSync, writeFileSync } from 'node:fs';
import sshpk from 'sshpk';
import { certFile, certKeyFile, certPubFile } from '../../src/access/paths.js';
import { hostname } from './hostname.js';

let ca: sshpk.PrivateKey | undefined;

export interface CertificateOptions {
  /** The principal (default `jdoe`). */
  readonly principal?: string;
  /** Seconds from now (negative: in the past); default -60 and +600. */
  readonly validFromS?: number;
  readonly validUntilS?: number;
  readonly keyId?: string;
}

/** `<host>-cf_key`, `.pub` and `-cert.pub` under `dir` (0600), signed by one CA per process. */
export function writeUserCertificate(dir: string, host: string, opts: CertificateOptions = {}): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  ca ??= sshpk.generatePrivateKey('ed25519');
  const key = sshpk.generatePrivateKey('ed25519');
  const now = Date.now();
  const cert = sshpk.createCertificate(sshpk.identityForUser(opts.principal ?? 'jdoe'), key.toPublic(), sshpk.identityForUser('ca'), ca, {
    validFrom: new Date(now + (opts.validFromS ?? -60) * 1000),
    validUntil: new Date(now + (opts.validUntilS ?? 600) * 1000),
  });
  const comment = opts.keyId ?? 'jdoe@example.com';
  const name = hostname(host);
  writeFileSync(certKeyFile(dir, name), key.toString('openssh'), { mode: 0o600 });
  writeFileSync(certPubFile(dir, name), `${key.toPublic().toString('ssh')} ${comment}\n`, { mode: 0o600 });
  writeFileSync(certFile(dir, name), `${cert.toString('openssh')}\n`, { mode: 0o600 });
}
