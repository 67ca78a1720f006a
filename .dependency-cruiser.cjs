/**
 * Import cycles, type imports included (ESLint's import-x/no-cycle skips those).
 * Run by `npm run lint` and the lint suite of `npm test`:
 *   npx depcruise --config .dependency-cruiser.cjs --output-type err server lib components app console
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment: 'A module must not depend on itself through others: move the shared part down (to lib/ or a leaf module).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '(^|/)(node_modules|\\.next|dist)/' },
    // type-only imports count: a cycle through types still ties the modules together
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    enhancedResolveOptions: { extensions: ['.ts', '.tsx', '.mts', '.js', '.mjs'] },
  },
};
