// `access-ssh server-config`: its flags (plain data, loaded on every start).
import type { CommandSpec } from '../args.js';

export const SERVER_CONFIG_COMMAND: CommandSpec = {
  name: 'server-config',
  usage: 'server-config --ca-file <ca.pub> [--map principal=account …]',
  summary: 'print the sshd side of Access short-lived certificates: a drop-in and the commands to install it',
  description:
    'Prints a shell script for the server (run it as root): it writes the Access CA key\n' +
    '(/etc/ssh/ca.pub), the drop-in /etc/ssh/sshd_config.d/50-cloudflare-access.conf\n' +
    '(PubkeyAuthentication yes, TrustedUserCAKeys, and for mapped accounts a Match User block\n' +
    'with AuthorizedPrincipalsFile), one principals file per mapped account, then runs sshd -t.\n' +
    'Without --map, the Unix account must equal the e-mail prefix (jdoe@example.com -> jdoe).\n' +
    '--map jdoe=deploy lets jdoe@example.com log in as deploy (repeat --map for more).',
  maxPositionals: 0,
  flags: [
    { name: 'ca-file', type: 'string', valueName: 'file', description: 'the Access SSH CA public key (from the dashboard or API)' },
    {
      name: 'map',
      type: 'string',
      valueName: 'principal=account',
      repeatable: true,
      description: 'let a principal (e-mail prefix) log in as another account; repeatable',
    },
    { name: 'ca-path', type: 'string', valueName: 'path', description: 'where the CA key goes on the server (/etc/ssh/ca.pub)' },
    {
      name: 'principals-dir',
      type: 'string',
      valueName: 'dir',
      description: 'the folder of the principals files (/etc/ssh/auth_principals)',
    },
    {
      name: 'drop-in',
      type: 'string',
      valueName: 'path',
      description: 'the drop-in file (/etc/ssh/sshd_config.d/50-cloudflare-access.conf)',
    },
    {
      name: 'sshd-config',
      type: 'string',
      valueName: 'path',
      description: 'the main sshd_config, checked by sshd -t (/etc/ssh/sshd_config)',
    },
    { name: 'json', type: 'boolean', description: 'print the files and the script as JSON' },
  ],
};
