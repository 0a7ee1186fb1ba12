// The subcommands and flags of access-ssh: `cloudflared access`'s, plus
// --non-interactive. Plain data, loaded on every start.

import type { CommandSpec, FlagSpec } from './args.js';
import { CONFIG_COMMAND } from './specs/config.js';
import { DOCTOR_COMMAND } from './specs/doctor.js';
import { SERVER_CONFIG_COMMAND } from './specs/server-config.js';

const hostname: FlagSpec = {
  name: 'hostname',
  aliases: ['tunnel-host', 'T'],
  type: 'string',
  valueName: 'host',
  env: ['TUNNEL_SERVICE_HOSTNAME'],
  description: 'the hostname of the Access application',
};
const nonInteractive: FlagSpec = {
  name: 'non-interactive',
  type: 'boolean',
  description: 'never open a browser: fail at once when a login would be needed (for Remote-SSH)',
};
const fedramp: FlagSpec = {
  name: 'fedramp',
  type: 'boolean',
  description:
    'a FedRAMP account: log in through login.fed.cloudflareaccess.org (also before the command, as cloudflared access --fedramp)',
};
const app: FlagSpec = {
  name: 'app',
  type: 'string',
  valueName: 'url',
  description: 'the URL of the Access application (instead of the argument)',
};

export const COMMANDS: readonly CommandSpec[] = [
  {
    name: 'login',
    usage: 'login <url>',
    summary: 'sign in to an Access application in the browser and store its token',
    description:
      'Opens the Access login page ($BROWSER, else the system browser) and prints its URL on stderr.\n' +
      'The token is stored in ~/.cloudflared, where cloudflared finds it too.',
    maxPositionals: 1,
    flags: [
      app,
      { name: 'quiet', aliases: ['q'], type: 'boolean', description: 'print nothing on success' },
      { name: 'no-verbose', type: 'boolean', description: 'print only the token on stdout (as cloudflared does with --app)' },
      { name: 'auto-close', type: 'boolean', description: 'accepted for cloudflared compatibility', hidden: true },
      fedramp,
    ],
  },
  {
    name: 'token',
    usage: 'token <url>',
    summary: 'print the stored token of an Access application',
    maxPositionals: 1,
    flags: [app, fedramp],
  },
  {
    name: 'ssh',
    aliases: ['tcp', 'rdp', 'smb'],
    usage: 'ssh --hostname <host> [--url <host:port>]',
    summary: 'carry stdin/stdout (ProxyCommand), or each connection to --url, over Access; also tcp, rdp, smb',
    description:
      'Also named tcp, rdp and smb, as in cloudflared.\n' +
      'Without --url: stdin/stdout carry the stream (stdout only the stream; messages go to stderr).\n' +
      'With --url 127.0.0.1:PORT (or the address as the argument): listen there and carry each accepted TCP\n' +
      'connection over its own websocket, as "cloudflared access tcp" does (databases, RDP, SMB behind Access).\n' +
      'Ctrl-C (SIGINT) or SIGTERM stops the listener and closes its connections.',
    maxPositionals: 1,
    flags: [
      hostname,
      {
        name: 'destination',
        type: 'string',
        valueName: 'host:port',
        env: ['TUNNEL_SERVICE_DESTINATION'],
        description: 'the destination behind an Access bastion (sent as Cf-Access-Jump-Destination)',
      },
      {
        name: 'url',
        aliases: ['listener', 'L'],
        type: 'string',
        valueName: 'host:port',
        env: ['TUNNEL_SERVICE_URL'],
        description: 'listen on this local address and carry each connection over Access',
      },
      {
        name: 'header',
        aliases: ['H'],
        type: 'string',
        repeatable: true,
        valueName: 'Name: value',
        description: 'an extra header on the carrier websocket (repeatable)',
      },
      {
        name: 'service-token-id',
        aliases: ['id'],
        type: 'string',
        valueName: 'id',
        env: ['TUNNEL_SERVICE_TOKEN_ID'],
        description: 'an Access service token ID',
      },
      {
        name: 'service-token-secret',
        aliases: ['secret'],
        type: 'string',
        valueName: 'secret',
        env: ['TUNNEL_SERVICE_TOKEN_SECRET'],
        description: 'an Access service token secret',
      },
      {
        name: 'max-connections',
        type: 'string',
        valueName: 'n',
        description: 'with --url: connections carried at once; more are refused (default 256)',
      },
      nonInteractive,
      fedramp,
      {
        name: 'connect-to',
        type: 'string',
        hidden: true,
        description: '',
        unsupported: "use ACCESS_SSH_CONNECT_TO=HOST:PORT:TO_HOST:TO_PORT (curl's --connect-to form; TLS is still verified)",
      },
      {
        name: 'debug-stream',
        type: 'string',
        hidden: true,
        description: '',
        unsupported: "it writes the session's bytes to the log; use --loglevel debug for the connection's events",
      },
    ],
  },
  {
    name: 'ssh-gen',
    usage: 'ssh-gen --hostname <host>',
    summary: 'make sure a short-lived certificate for the host is valid (ssh_config Match exec)',
    description:
      'Does nothing when the cached certificate is valid for more than ACCESS_SSH_RENEW_MARGIN seconds (60);\n' +
      'otherwise makes a new key and has Access sign it: ~/.cloudflared/<host>-cf_key, -cf_key.pub, -cf_key-cert.pub.',
    maxPositionals: 0,
    flags: [
      hostname,
      nonInteractive,
      fedramp,
      {
        name: 'quiet-signed-out',
        type: 'boolean',
        hidden: true,
        description: 'when signed out, exit 1 without a message (ssh_config Match exec: the ProxyCommand says it, once)',
      },
    ],
  },
  {
    name: 'ssh-config',
    usage: 'ssh-config --hostname <host> [--short-lived-cert]',
    summary: 'print an example ~/.ssh/config entry',
    maxPositionals: 0,
    flags: [
      { ...hostname, env: [] },
      { name: 'short-lived-cert', type: 'boolean', description: 'use short-lived certificates (adds the Match exec ssh-gen entry)' },
      { ...fedramp, description: 'a FedRAMP account: the printed commands carry --fedramp' },
    ],
  },
  CONFIG_COMMAND,
  SERVER_CONFIG_COMMAND,
  DOCTOR_COMMAND,
  {
    name: 'curl',
    usage: 'curl <url>',
    summary: 'not supported',
    maxPositionals: 0,
    flags: [],
    unsupported:
      'run curl yourself with the token on stdin, never in its arguments:\n' +
      "  { printf 'cf-access-token: '; access-ssh token <url>; } | curl -H @- <url>\n" +
      '(after "access-ssh login <url>").',
  },
];

export const PROGRAM = 'access-ssh';
