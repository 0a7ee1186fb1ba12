// Which Remote-SSH extension to hand off to. Microsoft's Remote - SSH and the
// forks that editors built on VS Code ship instead of it. They share the
// `ssh-remote` authority and the `remote.SSH.configFile` setting; they differ in
// the ssh client they run, which decides whether our short-lived certificates
// (CertificateFile, Match exec) are used at all.

export interface RemoteSshFlavor {
  /** Extension id, as the marketplace spells it. */
  readonly id: string;
  readonly name: string;
  /** The remote authority prefix it resolves (`ssh-remote+<alias>`). */
  readonly authorityPrefix: string;
  /** Whether it runs OpenSSH (which reads CertificateFile and runs Match exec). */
  readonly supportsCertificates: boolean;
  /** Why not, for the user, when it does not. */
  readonly note?: string;
  /** Editors (by `env.appName`, lower case substring) whose own fork this is. */
  readonly preferredIn: readonly string[];
}

export const MS_REMOTE_SSH = 'ms-vscode-remote.remote-ssh';

export const REMOTE_SSH_FLAVORS: readonly RemoteSshFlavor[] = [
  {
    id: MS_REMOTE_SSH,
    name: 'Remote - SSH',
    authorityPrefix: 'ssh-remote',
    supportsCertificates: true,
    preferredIn: ['visual studio code'],
  },
  {
    id: 'anysphere.remote-ssh',
    name: 'Remote - SSH (Cursor)',
    authorityPrefix: 'ssh-remote',
    supportsCertificates: true,
    preferredIn: ['cursor'],
  },
  {
    id: 'codeium.windsurf-remote-openssh',
    name: 'Remote - SSH (Windsurf)',
    authorityPrefix: 'ssh-remote',
    supportsCertificates: true,
    preferredIn: ['windsurf'],
  },
  {
    id: 'jeanp413.open-remote-ssh',
    name: 'Open Remote - SSH',
    authorityPrefix: 'ssh-remote',
    // It connects with the ssh2 JavaScript client, which neither offers OpenSSH
    // user certificates nor runs `Match exec`: a certificate-only sshd refuses it.
    supportsCertificates: false,
    note: 'Open Remote - SSH connects with its own SSH client, which does not use OpenSSH certificates (CertificateFile) or run "Match exec"; a server that accepts only Access certificates will refuse it. Use "Access: Open in Terminal" (OpenSSH), or install Remote - SSH where your editor allows.',
    preferredIn: ['vscodium', 'code-server', 'code - oss'],
  },
];

export interface InstalledExtension {
  readonly id: string;
}

/**
 * The Remote-SSH to use among the installed extensions: the one the editor
 * ships (by app name) when installed, else the first of our list that is
 * installed, preferring those that can use certificates. Undefined when none is.
 */
export function detectRemoteSsh(installed: readonly InstalledExtension[], appName = ''): RemoteSshFlavor | undefined {
  const ids = new Set(installed.map((e) => e.id.toLowerCase()));
  const present = REMOTE_SSH_FLAVORS.filter((f) => ids.has(f.id.toLowerCase()));
  if (present.length === 0) return undefined;
  const app = appName.toLowerCase();
  const own = present.find((f) => f.preferredIn.some((p) => app.includes(p)));
  if (own) return own;
  return present.find((f) => f.supportsCertificates) ?? present[0];
}

/** The extension to offer for install when none is present, for this editor. */
export function recommendedRemoteSsh(appName = ''): RemoteSshFlavor {
  const app = appName.toLowerCase();
  return REMOTE_SSH_FLAVORS.find((f) => f.preferredIn.some((p) => app.includes(p))) ?? REMOTE_SSH_FLAVORS[0]!;
}

/** What to tell a user who has no Remote-SSH, and which one (if any) to offer to install. */
export interface MissingRemoteSshOffer {
  readonly message: string;
  /** Offered only when it can use Access certificates: installing one that cannot leads nowhere. */
  readonly install?: RemoteSshFlavor;
}

export function missingRemoteSshOffer(host: string, appName = ''): MissingRemoteSshOffer {
  const rec = recommendedRemoteSsh(appName);
  if (rec.supportsCertificates) {
    return {
      message: `Connecting opens ${host} with ${rec.name}, which is not installed. Install it, or open ssh in a terminal instead.`,
      install: rec,
    };
  }
  return {
    message:
      `No Remote-SSH that can use Access certificates is installed to open ${host} (this editor's ` +
      `${rec.name} has its own SSH client, which ignores them). Open ssh in a terminal instead.`,
  };
}
