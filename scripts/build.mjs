// Bundles the extension and the access-ssh helper with esbuild.
// The extension host loads dist/extension.js; ssh runs dist/access-ssh.js. The
// third-party packages (sshpk, jose, tweetnacl: two thirds of the code) are
// in files of their own, dist/vendor-<package>.js, that both load with require()
// only when a flow first needs that package. So the helper's `ssh-gen` with a
// valid certificate, `--version`, the extension's activation and the carrier
// (`access-ssh ssh` with a stored token) read and compile only our own code: less to
// parse at every start and less resident in every session (docs/BENCHMARKS.md,
// fourth round). The carrier's websocket client is our own (src/access/websocket.ts;
// sixth round): `ws` is only the sandbox's and the tests' server.
import { build } from 'esbuild';
import { chmodSync, rmSync } from 'node:fs';

const production = process.argv.includes('--production');
const VENDOR = ['sshpk', 'jose', 'tweetnacl'];
const common = {
  bundle: true,
  platform: 'node',
  target: 'node20',
  format: 'cjs',
  sourcemap: !production,
  minify: production,
  logLevel: 'warning',
  legalComments: 'none',
};

const vendorFile = (pkg) => `./vendor-${pkg}.js`;

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
        contents: `module.exports = require(${JSON.stringify(pkg)});`,
        resolveDir: '.',
        sourcefile: `vendor-${pkg}.js`,
        loader: 'js',
      },
      outfile: `dist/vendor-${pkg}.js`,
      plugins: [fromVendor(VENDOR.filter((p) => p !== pkg))],
    }),
  ),
]);
chmodSync('dist/access-ssh.js', 0o755);
// Vendor files of earlier builds: nothing loads them any more.
for (const old of ['dist/vendor.js', 'dist/vendor-ws.js']) {
  rmSync(old, { force: true });
  rmSync(`${old}.map`, { force: true });
}
