// Bundles the extension and the access-ssh helper with esbuild.
// The extension host loads dist/extension.js; ssh runs dist/access-ssh.js. The
// third-party packages (sshpk, jose, ws, tweetnacl: two thirds of the code) are
// in files of their own, dist/vendor-<package>.js, that both load with require()
// only when a flow first needs that package. So the helper's `ssh-gen` with a
// valid certificate, `--version`, and the extension's activation read and compile
// only our own code, and the carrier (`access-ssh ssh` with a stored token) reads
// ws's 50 KB, not the 375 KB of all four: less to parse at every start and ~1.7 MB
// less resident in every session (docs/BENCHMARKS.md, fourth round).
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const production = process.argv.includes('--production');
const VENDOR = ['sshpk', 'jose', 'ws', 'tweetnacl'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
  // ws masks what a client sends byte by byte in JavaScript unless the native
  // `bufferutil` is there; ours XORs 32-bit words (src/access/ws-mask.ts, docs/BENCHMARKS.md).
  alias: { bufferutil: './src/access/ws-mask.ts' },
};

const vendorFile = (pkg) => `./vendor-${pkg}.js`;

/**
 * What each vendor file exports. ws: the client class alone (lib/websocket.js, reached by
 * path beside ws's entry: not in its package exports), without the server, the stream
 * helper and their modules; everything of ours uses `new WebSocket(…)` and its constants.
 */
const wsClient = join(dirname(createRequire(import.meta.url).resolve('ws')), 'lib', 'websocket.js');
const VENDOR_ENTRY = { ws: wsClient };
/** ws's zlib on first use (scripts/build/lazy-zlib.cjs): the carrier never compresses. */
const VENDOR_ALIAS = { ws: { zlib: './scripts/build/lazy-zlib.cjs' } };

/**
 * `import … from 'sshpk'` (etc.) becomes `require('./vendor-sshpk.js')`, a file beside the
 * bundle; `packages` are the ones to send there (a vendor file bundles its own package).
 */
const fromVendor = (packages = VENDOR) => ({
  name: 'vendor',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${packages.join('|')})$`) }, (args) => ({ path: vendorFile(args.path), external: true }));
  },
});

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/vscode/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    plugins: [fromVendor()],
  }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/access-ssh.js',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [fromVendor()],
  }),
  // One file per package; one package's use of another (sshpk's of tweetnacl) goes to its file.
  ...VENDOR.map((pkg) =>
    build({
      ...common,
      stdin: {
        contents: `module.exports = require(${JSON.stringify(VENDOR_ENTRY[pkg] ?? pkg)});`,
        resolveDir: '.',
        sourcefile: `vendor-${pkg}.js`,
        loader: 'js',
      },
      outfile: `dist/vendor-${pkg}.js`,
      alias: { ...common.alias, ...VENDOR_ALIAS[pkg] },
      plugins: [fromVendor(VENDOR.filter((p) => p !== pkg))],
    }),
  ),
]);
chmodSync('dist/access-ssh.js', 0o755);
// The single vendor file of earlier builds: nothing loads it any more.
rmSync('dist/vendor.js', { force: true });
rmSync('dist/vendor.js.map', { force: true });
