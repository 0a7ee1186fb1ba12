// Bundles the extension and the access-ssh helper with esbuild.
// The extension host loads dist/extension.js; ssh runs dist/access-ssh.js. The
// third-party packages (sshpk, jose, ws, tweetnacl: two thirds of the code) are
// in a third file, dist/vendor.js, that both load with require() only when a
// flow first needs one of them, each package initialised on first use. So the
// helper's `ssh-gen` with a valid certificate, `--version`, and the extension's
// activation read and compile only our own code (docs/BENCHMARKS.md).
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

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

/** In our bundles, `import … from 'sshpk'` (etc.) becomes a require of dist/vendor.js's getter. */
const fromVendor = {
  name: 'vendor',
  setup(b) {
    b.onResolve({ filter: new RegExp(`^(${VENDOR.join('|')})$`) }, (args) => ({ path: args.path, namespace: 'vendor' }));
    b.onLoad({ filter: /.*/, namespace: 'vendor' }, (args) => ({
      contents: `module.exports = require('./vendor.js')[${JSON.stringify(args.path)}];`,
      loader: 'js',
    }));
    b.onResolve({ filter: /^\.\/vendor\.js$/ }, () => ({ path: './vendor.js', external: true }));
  },
};

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/vscode/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
    plugins: [fromVendor],
  }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/access-ssh.js',
    banner: { js: '#!/usr/bin/env node' },
    plugins: [fromVendor],
  }),
  build({
    ...common,
    stdin: {
      // One getter per package: loading vendor.js initialises none of them.
      contents: VENDOR.map((p) => `Object.defineProperty(exports, ${JSON.stringify(p)}, { enumerable: true, get: () => require(${JSON.stringify(p)}) });`).join('\n'),
      resolveDir: '.',
      sourcefile: 'vendor.js',
      loader: 'js',
    },
    outfile: 'dist/vendor.js',
  }),
]);
chmodSync('dist/access-ssh.js', 0o755);
