// The helper's words for an error's next step (src/base/app-error.ts): the CLI's
// rendering of the actions the layers below raise. The extension has its own
// (src/hosts/failure.ts). Sign-in names a command the user can run: the launcher the
// extension wrote (ACCESS_SSH_LAUNCHER, set by it), else this very program, rather
// than an `access-ssh` that is usually not on the PATH; and the editor's command,
// since the helper mostly runs under ssh started by VS Code.

import { nextStepText, type NextStep, type NextStepWords } from '../base/app-error.js';
import { shellWord } from '../ssh/quote.js';
import { PROGRAM } from './spec.js';

export interface NextStepIo {
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly self?: readonly string[];
  readonly platform?: NodeJS.Platform;
}

/** The command line that runs this helper (quoted for the platform's shell). */
function selfCommand(io: NextStepIo): string {
  const launcher = io.env['ACCESS_SSH_LAUNCHER'];
  const windows = (io.platform ?? process.platform) === 'win32';
  const quote = (a: string): string => (windows ? (/^[A-Za-z0-9@%+=:,./_-]+$/.test(a) ? a : `"${a}"`) : shellWord(a));
  const self = launcher ? [launcher] : io.self && io.self.length > 0 ? [...io.self] : [PROGRAM];
  return self.map(quote).join(' ');
}

/** The helper's words for each next step. */
export function cliWords(io: NextStepIo): NextStepWords {
  return {
    'sign-in': (host) => `Sign in with "Access: Sign In" in VS Code, or run: ${selfCommand(io)} login https://${host ?? '<host>'}`,
    retry: () => 'Try again in a moment.',
    'check-network': () => 'Check the network connection (and ACCESS_SSH_CONNECT_TO or the proxy, if set).',
    'check-proxy': () => 'Check HTTPS_PROXY / ALL_PROXY (and NO_PROXY) and the proxy credentials.',
    'check-ca-file': () =>
      'Point NODE_EXTRA_CA_CERTS at a readable PEM file with the CA\'s certificate ("-----BEGIN CERTIFICATE-----" blocks), or unset it.',
    'trust-network-ca': () =>
      "If your network inspects TLS, point NODE_EXTRA_CA_CERTS at its CA's certificate (PEM); otherwise do not go on: something is intercepting the connection.",
    'refresh-certificate': (host) => `Run: ${selfCommand(io)} ssh-gen --hostname ${host ?? '<host>'}, then try again.`,
    'write-entries': (host) => `Write the host's ssh entries: ${selfCommand(io)} config add --hostname ${host ?? '<host>'}`,
    'edit-host': (host) =>
      `Check the host name${host ? ` ${host}` : ''} given with --hostname: it must be a Cloudflare Access application.`,
    'free-space': () => 'Free some space on the disk, then try again.',
    'fix-permissions': () => 'Check the owner and permissions of the file and its folder.',
    'check-clock': () => "Set this computer's clock right (NTP), then try again.",
    'check-settings': () => 'Check the ACCESS_SSH_* and proxy environment variables.',
    'fix-input': () => `See "${PROGRAM} --help" for the accepted values.`,
  };
}

/** The next step of `err` as the helper prints it, if it has one. */
export function cliNextStep(
  err: { readonly action?: NextStep; readonly hint?: string; readonly host?: string },
  io: NextStepIo,
): string | undefined {
  return nextStepText(err, cliWords(io));
}
