// Bundles the extension and the access-ssh helper with esbuild.
// Two bundles: the extension host loads dist/extension.js; ssh runs dist/access-ssh.js.
import { build } from 'esbuild';
import { chmodSync } from 'node:fs';

const production = process.argv.includes('--production');
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

await Promise.all([
  build({
    ...common,
    entryPoints: ['src/vscode/extension.ts'],
    outfile: 'dist/extension.js',
    external: ['vscode'],
  }),
  build({
    ...common,
    entryPoints: ['src/cli/main.ts'],
    outfile: 'dist/access-ssh.js',
    banner: { js: '#!/usr/bin/env node' },
  }),
]);
chmodSync('dist/access-ssh.js', 0o755);
