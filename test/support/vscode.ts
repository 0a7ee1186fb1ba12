// Import this first in a unit test of src/vscode/: from then on `require('vscode')` in
// this process loads the stand-in (./vscode-stub.ts), and nothing else is redirected.
// It also gives the process a fresh, empty HOME (removed at exit), so that the modules
// under test, which find ~/.cloudflared and ~/.ssh from it (some at load time), never
// read or write the user's own.
import { mkdtempSync, rmSync } from 'node:fs';
import Module from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const home = mkdtempSync(join(tmpdir(), 'access-ssh-vscode-unit-'));
process.env['HOME'] = home;
process.on('exit', () => rmSync(home, { recursive: true, force: true }));

/** The HOME of this test process (a temporary folder). */
export const HOME = home;

const stub = require.resolve('./vscode-stub.js');
type Resolve = (request: string, parent: unknown, isMain: boolean, options: unknown) => string;
const internals = Module as unknown as { _resolveFilename: Resolve };
const original = internals._resolveFilename;
internals._resolveFilename = function (request, parent, isMain, options) {
  return request === 'vscode' ? stub : original.call(this, request, parent, isMain, options);
};
