// Shared by the ssh tests (unit and integration): the managed file's render options and
// host names. Temporary folders are test/support/tmp.ts's.
import fc from 'fast-check';
import type { RenderOptions } from '../../../src/ssh/entries.js';
import { hostname } from '../../support/hostname.js';

/** Render options of the managed-file tests: a helper and key dir with spaces. */
export const MANAGED_OPTS: RenderOptions = {
  helper: '/opt/access ssh/node',
  helperArgs: ['/opt/access ssh/access-ssh.js'],
  keyDir: '/home/other home/.cloudflared',
  platform: 'linux',
  nonInteractive: true,
};

export const hostArb = fc.constantFrom(
  ...['a.example.com', 'b.example.com', 'ssh.sandbox.test', 'x-1.corp.example', 'zz.example.org'].map(hostname),
);
