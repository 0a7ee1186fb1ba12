/**
 * The server side of Cloudflare's short-lived certificate guide, as files and the
 * commands an admin runs (`access-ssh server-config`, "Access: Set Up a Server…"):
 *
 * - the Access CA's public key, `/etc/ssh/ca.pub`;
 * - a drop-in, `/etc/ssh/sshd_config.d/50-cloudflare-access.conf`:
 *   `PubkeyAuthentication yes`, `TrustedUserCAKeys /etc/ssh/ca.pub`, and, for the
 *   accounts whose name differs from the e-mail prefix (the guide's step 2), a
 *   `Match User <accounts>` block with `AuthorizedPrincipalsFile
 *   /etc/ssh/auth_principals/%u`;
 * - one principals file per mapped account, listing the principals (e-mail
 *   prefixes) that may log in as it.
 *
 * Why a `Match User` block and not a global `AuthorizedPrincipalsFile`: with one set,
 * sshd accepts a certificate only for principals listed in the account's file, so
 * every account without a file would lose its certificate logins. A `Match` in an
 * included file ends at the end of that file (checked with `sshd -T` in the tests),
 * so it does not swallow the main `sshd_config`.
 *
 * Pure: renders text. Every value is validated, so nothing can break out of a line
 * of the drop-in or of the shell script.
 */
import { showValue, SshConfigError } from './validate.js';

export interface PrincipalMap {
  /** The certificate principal (the Access e-mail's local part). */
  readonly principal: string;
  /** The Unix account it may log in as. */
  readonly account: string;
}

export interface ServerConfigOptions {
  /** The CA public key line (`ecdsa-sha2-nistp256 AAAA… [comment]`), as the Access dashboard or API gives it. */
  readonly caPublicKey: string;
  readonly maps?: readonly PrincipalMap[];
  /** Where the CA key goes on the server. */
  readonly caPath?: string;
  /** The folder of the principals files (`<dir>/<account>`). */
  readonly principalsDir?: string;
  /** The drop-in file. */
  readonly dropInPath?: string;
  /** The main sshd_config (checked for the Include of the drop-in folder). */
  readonly sshdConfig?: string;
}

export interface ServerFile {
  readonly path: string;
  readonly content: string;
  readonly mode: number;
}

export interface ServerConfig {
  readonly files: readonly ServerFile[];
  /** A POSIX shell script (run as root) that writes the files, checks with `sshd -t` and says how to reload. */
  readonly script: string;
  readonly dropIn: ServerFile;
}

export const DEFAULT_CA_PATH = '/etc/ssh/ca.pub';
export const DEFAULT_PRINCIPALS_DIR = '/etc/ssh/auth_principals';
export const DEFAULT_DROP_IN = '/etc/ssh/sshd_config.d/50-cloudflare-access.conf';
export const DEFAULT_SSHD_CONFIG = '/etc/ssh/sshd_config';

const KEY_TYPES = new Set([
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'ssh-ed25519',
  'ssh-rsa',
  'sk-ecdsa-sha2-nistp256@openssh.com',
  'sk-ssh-ed25519@openssh.com',
]);

function refuse(message: string, hint: string): never {
  throw new SshConfigError(message, hint, 'invalid-value');
}

/**
 * The CA key as one clean `type base64` line (a comment is dropped). A private key,
 * a certificate or anything else is refused without echoing the input (it may be a
 * secret).
 */
export function parseCaPublicKey(text: string): string {
  const hint =
    'Give the SSH CA public key of your Access account (Zero Trust > Access > Service credentials > SSH, or the API\'s short_lived_cert ca): one line "ecdsa-sha2-nistp256 AAAA…".';
  if (/PRIVATE KEY/.test(text)) refuse('That is a private key, not the CA public key; it was not used or shown.', hint);
  const lines = text
    .split(/\r?\n/)
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  if (lines.length !== 1) refuse(`Expected one public key line, found ${lines.length} lines.`, hint);
  const [type, blob] = lines[0]!.split(/\s+/);
  if (type === undefined || !KEY_TYPES.has(type)) {
    refuse(
      /-cert-v01@openssh\.com$/.test(type ?? '') ? 'That is a certificate, not the CA public key.' : 'That is not an SSH public key line.',
      hint,
    );
  }
  if (blob === undefined || !/^[A-Za-z0-9+/]+={0,2}$/.test(blob)) refuse("The key's base64 part is missing or damaged.", hint);
  const bytes = Buffer.from(blob, 'base64');
  const len = bytes.length >= 4 ? bytes.readUInt32BE(0) : -1;
  if (len <= 0 || 4 + len > bytes.length || bytes.subarray(4, 4 + len).toString('latin1') !== type) {
    refuse("The key's base64 part does not hold a key of the type it names.", hint);
  }
  return `${type} ${blob}`;
}

const PRINCIPAL_RE = /^[A-Za-z0-9_][A-Za-z0-9._+-]{0,63}$/;
const ACCOUNT_RE = /^[a-z_][a-z0-9_.-]{0,31}$/i;

/** `principal=account`, validated. */
export function parseMap(spec: string): PrincipalMap {
  const hint = 'Write --map principal=account, e.g. --map jdoe=deploy (jdoe@example.com may log in as deploy).';
  const eq = spec.indexOf('=');
  if (eq < 0) refuse(`${showValue(spec)} is not principal=account.`, hint);
  const principal = spec.slice(0, eq).trim();
  const account = spec.slice(eq + 1).trim();
  if (!PRINCIPAL_RE.test(principal))
    refuse(`The principal ${showValue(principal)} is not an e-mail prefix (letters, digits, . _ + -).`, hint);
  if (!ACCOUNT_RE.test(account)) refuse(`The account ${showValue(account)} is not a Unix user name.`, hint);
  return { principal, account };
}

function checkPath(what: string, p: string): string {
  if (!p.startsWith('/')) refuse(`The ${what} ${showValue(p)} is not an absolute path.`, 'Give an absolute path on the server.');
  if (!/^[A-Za-z0-9_./@+-]+$/.test(p)) {
    refuse(
      `The ${what} ${showValue(p)} has a character sshd_config or the shell would read specially (space, quote, %, $ …).`,
      'Use a path of letters, digits and . _ / @ + -.',
    );
  }
  return p;
}

function dirOf(p: string): string {
  return p.slice(0, p.lastIndexOf('/')) || '/';
}

/** The drop-in, principals files, CA file and the admin's script. */
export function renderServerConfig(opts: ServerConfigOptions): ServerConfig {
  const ca = parseCaPublicKey(opts.caPublicKey);
  const caPath = checkPath('CA key path', opts.caPath ?? DEFAULT_CA_PATH);
  const principalsDir = checkPath('principals folder', opts.principalsDir ?? DEFAULT_PRINCIPALS_DIR).replace(/\/+$/, '');
  const dropInPath = checkPath('drop-in path', opts.dropInPath ?? DEFAULT_DROP_IN);
  const sshdConfig = checkPath('sshd_config path', opts.sshdConfig ?? DEFAULT_SSHD_CONFIG);
  if (!dropInPath.endsWith('.conf'))
    refuse(
      `The drop-in ${showValue(dropInPath)} must end in .conf (sshd_config includes sshd_config.d/*.conf).`,
      'Name it …/sshd_config.d/50-cloudflare-access.conf.',
    );

  // account -> principals, in the order given.
  const byAccount = new Map<string, string[]>();
  for (const m of opts.maps ?? []) {
    const { principal, account } = parseMap(`${m.principal}=${m.account}`);
    const list = byAccount.get(account) ?? [];
    if (!list.includes(principal)) list.push(principal);
    byAccount.set(account, list);
  }
  const accounts = [...byAccount.keys()];

  const dropInLines = [
    '# Cloudflare Access short-lived SSH certificates (written by access-ssh server-config).',
    "# Users log in with a certificate signed by the Access CA; the certificate's principal is",
    '# the e-mail prefix (jdoe@example.com -> jdoe) and must equal the Unix account name,',
    '# except for the accounts mapped below.',
    'PubkeyAuthentication yes',
    `TrustedUserCAKeys ${caPath}`,
  ];
  if (accounts.length > 0) {
    dropInLines.push(
      '',
      '# Accounts whose name differs from the e-mail prefix: the principals that may log in',
      `# as each one are listed in ${principalsDir}/<account>. (This Match block ends with this file.)`,
      `Match User ${accounts.join(',')}`,
      `  AuthorizedPrincipalsFile ${principalsDir}/%u`,
    );
  }
  const dropIn: ServerFile = { path: dropInPath, content: dropInLines.join('\n') + '\n', mode: 0o644 };
  const files: ServerFile[] = [
    { path: caPath, content: `${ca}\n`, mode: 0o644 },
    ...accounts.map((a) => ({
      path: `${principalsDir}/${a}`,
      content: `# Access principals that may log in as ${a}\n${byAccount.get(a)!.join('\n')}\n`,
      mode: 0o644,
    })),
    dropIn,
  ];

  const dropInDir = dirOf(dropInPath);
  const script: string[] = [
    '#!/bin/sh',
    '# The sshd side of Cloudflare Access short-lived certificates. Run it as root on the',
    '# server (sudo sh this-file). It writes the files below, checks the whole',
    '# configuration with `sshd -t`, and tells you how to reload sshd.',
    'set -eu',
    '# sshd reads a principals file as the user logging in: every folder on the way must be readable.',
    'umask 022',
    '[ "$(id -u)" = 0 ] || { echo "Run this as root (sudo sh $0)." >&2; exit 1; }',
    `SSHD_CONFIG=${sshdConfig}`,
    '',
  ];
  for (const a of accounts) {
    script.push(`id -u ${a} >/dev/null 2>&1 || echo "note: there is no account ${a} on this machine yet (useradd -m ${a})." >&2`);
  }
  const dirs = [...new Set(files.map((f) => dirOf(f.path)))];
  script.push(`mkdir -p ${dirs.join(' ')}`);
  if (accounts.length > 0) script.push(`chmod 0755 ${principalsDir}`);
  // The drop-in's previous version, put back if sshd -t refuses the new configuration.
  script.push(`if [ -e ${dropInPath} ]; then cp -p ${dropInPath} ${dropInPath}.before; fi`);
  for (const f of files) {
    script.push(
      '',
      `cat > ${f.path}.tmp <<'ACCESS_SSH_EOF'`,
      f.content.replace(/\n$/, ''),
      'ACCESS_SSH_EOF',
      `chmod ${f.mode.toString(8).padStart(4, '0')} ${f.path}.tmp && mv -f ${f.path}.tmp ${f.path}`,
    );
  }
  script.push(
    '',
    '# The main sshd_config must include the drop-in folder (Debian, Ubuntu, Fedora do), at its top.',
    `if ! grep -Eq '^[[:space:]]*Include[[:space:]]+("?)${dropInDir.replace(/[.+]/g, '\\$&')}/\\*\\.conf' "$SSHD_CONFIG"; then`,
    `  echo "warning: $SSHD_CONFIG does not include ${dropInDir}/*.conf: add this line at its top:" >&2`,
    `  echo "  Include ${dropInDir}/*.conf" >&2`,
    'fi',
    '',
    'sshd_bin=$(command -v sshd || echo /usr/sbin/sshd)',
    'if ! "$sshd_bin" -t -f "$SSHD_CONFIG"; then',
    `  if [ -e ${dropInPath}.before ]; then mv -f ${dropInPath}.before ${dropInPath}; else rm -f ${dropInPath}; fi`,
    `  echo "sshd -t refused the configuration: the drop-in ${dropInPath} was taken back; sshd was not reloaded." >&2`,
    '  exit 1',
    'fi',
    `rm -f ${dropInPath}.before`,
    `echo "sshd -t: the configuration is valid. Now reload sshd: systemctl reload ssh (Debian, Ubuntu) or systemctl reload sshd (Fedora, RHEL)."`,
  );
  return { files, script: script.join('\n') + '\n', dropIn };
}
