// `access-ssh doctor`: its flags (plain data, loaded on every start).
import type { CommandSpec } from '../args.js';

export const DOCTOR_COMMAND: CommandSpec = {
  name: 'doctor',
  usage: 'doctor --hostname <host> [--json] [--non-interactive]',
  summary: 'diagnose the whole chain to the host, step by step (exit 1 when a step fails)',
  description:
    'Name resolution, proxy, TLS, app discovery, metadata and JWKS, clock, tokens, cert_sign, the certificate,\n' +
    'the carrier websocket, ssh -G and a real ssh -o BatchMode=yes. Each step: passed, failed or skipped, its time,\n' +
    'and for a failure the cause and the next step. Has a new certificate signed, as ssh-gen would.',
  maxPositionals: 0,
  flags: [
    {
      name: 'hostname',
      aliases: ['tunnel-host', 'T'],
      type: 'string',
      valueName: 'host',
      description: 'the hostname of the Access application',
    },
    { name: 'json', type: 'boolean', description: 'print the report as JSON' },
    { name: 'non-interactive', type: 'boolean', description: 'never open a browser: a missing login is then the step that fails' },
    {
      name: 'config',
      aliases: ['F'],
      type: 'string',
      valueName: 'file',
      description: "the ssh config to test (ssh -F); default ssh's own",
    },
    {
      name: 'alias',
      type: 'string',
      valueName: 'alias',
      description: 'the ssh host to try (default cfpipe-<host>, what Remote-SSH connects to)',
    },
  ],
};
