// Lint rules of the project (npm run lint, part of npm test). The toolchain lives in
// tools/lint/ (typescript-eslint needs TypeScript's JavaScript API; the compiler the
// project builds with, TypeScript 7, has none), so its packages are loaded from there.
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const fromTools = createRequire(new URL('./tools/lint/package.json', import.meta.url));
const load = async (name) => (await import(pathToFileURL(fromTools.resolve(name)).href)).default;
const js = await load('@eslint/js');
const tseslint = await load('typescript-eslint');

// The architecture (docs/ARCHITECTURE.md): arrows point one way.
const OURS = ['access', 'ssh', 'cli', 'doctor', 'hosts', 'remote-ssh', 'vscode'];
/** Forbids importing `vscode` and every folder of ours but `allowed`, from a folder under src/. */
function layer(folder, allowed, vscodeAllowed = false) {
  const banned = OURS.filter((f) => f !== folder && !allowed.includes(f));
  return {
    files: [`src/${folder}/**/*.ts`],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          ...(vscodeAllowed ? {} : { paths: [{ name: 'vscode', message: 'Only src/vscode/ may import vscode.' }] }),
          patterns: banned.map((f) => ({
            regex: `^(\\.\\./)+${f}(/|$)`,
            message: `src/${folder} may not import src/${f} (docs/ARCHITECTURE.md: ${allowed.length ? `src/${folder} -> ${allowed.map((a) => `src/${a}`).join(', ')}` : `src/${folder} imports nothing of ours`}).`,
          })),
        },
      ],
    },
  };
}

export default tseslint.config(
  { ignores: ['out/**', 'dist/**', 'node_modules/**', '.cache/**', '.demo/**', 'tools/**', 'test-results/**', '**/*.mjs', '**/*.js'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports', disallowTypeAnnotations: false }],
      // node:test's test() and describe() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'],
            },
          ],
        },
      ],
      '@typescript-eslint/switch-exhaustiveness-check': ['error', { considerDefaultExhaustiveForUnions: true }],
      // Our validators and escapers match control characters on purpose.
      'no-control-regex': 'off',
      eqeqeq: ['error', 'always', { null: 'ignore' }],
      // A `let` assigned once after a closure that reads it is declared before its value exists.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      'no-console': 'off',
    },
  },
  layer('access', []),
  layer('ssh', []),
  layer('cli', ['access', 'ssh', 'doctor']),
  layer('doctor', ['access', 'ssh']),
  layer('hosts', ['access', 'ssh']),
  layer('remote-ssh', ['access', 'ssh', 'hosts']),
  layer('vscode', ['access', 'ssh', 'doctor', 'hosts', 'remote-ssh'], true),
  {
    // One place each registers commands and sets context keys (src/vscode/commands.ts,
    // src/vscode/context.ts), so every id and key is declared once, as in package.json.
    files: ['src/**/*.ts'],
    ignores: ['src/vscode/commands.ts', 'src/vscode/context.ts'],
    rules: {
      'no-restricted-syntax': [
        'error',
        {
          selector: "CallExpression[callee.property.name='registerCommand']",
          message: 'Register commands in src/vscode/commands.ts.',
        },
        {
          selector: "CallExpression[callee.property.name='executeCommand'][arguments.0.value='setContext']",
          message: 'Set context keys with setContext() from src/vscode/context.ts.',
        },
      ],
    },
  },
  {
    // Tests and the sandbox: the same type checks, fewer rules about style of use.
    files: ['test/**/*.ts'],
    rules: {
      '@typescript-eslint/no-non-null-assertion': 'off',
      '@typescript-eslint/require-await': 'off',
      // Test doubles patch methods of Node's internals and of ws in place.
      '@typescript-eslint/unbound-method': 'off',
    },
  },
);
