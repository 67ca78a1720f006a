/**
 * The project's boundaries, kept by a tool (`npm run lint`, and the lint suite of `npm test`).
 * Structural rules only, not style:
 * - lib/ is pure: it imports nothing from server/, components/, app/ or console/;
 * - the browser (app/, components/) imports server code only as types;
 * - the console server (console/) imports nothing from server/ (its tests start a real agent);
 * - no dynamic import() outside bench/, save the lazy loads named below.
 * Import cycles, type imports included, are dependency-cruiser's (.dependency-cruiser.cjs):
 * import-x/no-cycle skips type imports.
 */
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';
import importX from 'eslint-plugin-import-x';
import tseslint from 'typescript-eslint';

const trees = (names) => names.map((n) => `./${n}`);

/** A value import of server code in the browser: `import type` and inline `type` specifiers pass. */
const browserNoServerValues = {
  patterns: [{
    regex: '^(@/|(\\.\\./)+)server(/|$)',
    allowTypeImports: true,
    message: 'The browser imports server code only as types (`import type`): move shared values to lib/.',
  }],
};

const noDynamicImport = {
  selector: 'ImportExpression',
  message: 'No dynamic import() outside bench/: import statically (a dynamic import hides cycles from the tools).',
};

export default tseslint.config(
  { ignores: ['node_modules/**', '.next/**', 'dist/**', 'test-results/**', 'playwright-report/**', 'next-env.d.ts'] },
  {
    files: ['**/*.{ts,tsx,mts,cts,mjs,cjs,js}'],
    languageOptions: { parser: tseslint.parser, ecmaVersion: 'latest', sourceType: 'module' },
    plugins: { '@typescript-eslint': tseslint.plugin, 'import-x': importX },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver({ project: 'tsconfig.json' })] },
    // the few disable comments left name core rules this config does not turn on
    linterOptions: { reportUnusedDisableDirectives: 'off' },
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [
          {
            target: './lib',
            from: trees(['server', 'components', 'app', 'console']),
            message: 'lib/ is pure and shared: it imports nothing from server/, components/, app/ or console/.',
          },
        ],
      }],
      'no-restricted-syntax': ['error', noDynamicImport],
    },
  },
  {
    files: ['app/**/*.{ts,tsx}', 'components/**/*.{ts,tsx}'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', browserNoServerValues] },
  },
  {
    files: ['console/**/*.{ts,tsx,mts}'],
    ignores: ['console/**/*.test.ts'],
    rules: {
      'import-x/no-restricted-paths': ['error', {
        zones: [
          {
            target: './console',
            from: trees(['server']),
            message: 'The console server talks to agents over tRPC only: it imports nothing from server/ (shared code goes to lib/).',
          },
        ],
      }],
    },
  },
  {
    // bench/ loads sections on demand; the exceptions below are lazy by design
    files: ['bench/**'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: [
      // loads the one command asked for, so `director list` does not load the agent
      'server/cli/main.ts',
      // the same for save and restore in ipvsadm syntax
      'server/cli/ipvsadm.ts',
      // runs the built CLI bundle when there is one (a file that may not exist)
      'bin/director.mjs',
      // the rate chart (uPlot) is loaded in the browser only, after the page
      'components/views/ServiceView.tsx',
      // the add-service form (react-hook-form, the zod rules) loads when its dialog opens
      'components/views/OverviewView.tsx',
    ],
    rules: { 'no-restricted-syntax': 'off' },
  },
);
