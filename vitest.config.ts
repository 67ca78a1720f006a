import { defineConfig } from 'vitest/config';
import path from 'node:path';

// Fast tests on the host: pure lib/ code, routers on the in-memory fake, UI logic.
// Tests that need a real IPVS kernel are named *.kernel.test.ts and run inside
// the lab kernel through vitest.kernel.config.ts.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['lib/**/*.test.ts', 'server/**/*.test.ts', 'components/**/*.test.ts', 'components/**/*.test.tsx', 'console/**/*.test.ts', 'deploy/examples.test.ts', 'deploy/units.test.ts', 'deploy/grafana/*.test.ts', 'scripts/**/*.test.ts', 'bench/**/*.test.ts'],
    exclude: ['**/*.kernel.test.ts', 'node_modules/**'],
    testTimeout: 20_000,
  },
});
