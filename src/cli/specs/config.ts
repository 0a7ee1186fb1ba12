// `access-ssh config add|remove|list`: its flags (plain data, loaded on every start).
import type { CommandSpec } from '../args.js';

export const CONFIG_COMMAND: CommandSpec = {
  name: 'config',
  usage: 'config add|remove|list|import [--hostname <host>] [--config <file>] [--user <name>]',
  summary: 'add or remove a host in the ssh config that every OpenSSH client reads',
  description:
    'Writes the same file and Include line as the VS Code extension: the entries live in\n' +
    '~/.ssh/access-ssh/config, whose host list is shared with the extension (neither drops the\n' +
    "other's hosts), behind one marked Include line at the top of --config (default: the\n" +
    '~/.ssh/config of your passwd entry, the one ssh reads). Then `ssh cfpipe-<host>` (or any\n' +
    'OpenSSH client: JetBrains Gateway, rsync, git) renews the certificate and connects.\n' +
    'The entries never open a browser: sign in first with `access-ssh login https://<host>`.\n' +
    '`config import` lists the hosts of --config already set up for cloudflared (following Include);\n' +
    'with --yes it adds them. Your own lines are never changed.',
  maxPositionals: 1,
  flags: [
    {
      name: 'hostname',
      aliases: ['T'],
      type: 'string',
      valueName: 'host',
      description: 'the hostname of the Access application (add, remove)',
    },
    {
      name: 'config',
      aliases: ['F'],
      type: 'string',
      valueName: 'file',
      description: 'the ssh config that gets the Include line (default ~/.ssh/config)',
    },
    {
      name: 'user',
      type: 'string',
      valueName: 'name',
      description: "the account to log in as on that host (add; default: your certificate's principal)",
    },
    { name: 'no-check', type: 'boolean', description: 'skip the `ssh -G` check of the result (add)' },
    { name: 'json', type: 'boolean', description: 'list (or import) as JSON' },
    { name: 'yes', aliases: ['y'], type: 'boolean', description: 'import: add the hosts found, without asking' },
  ],
};
