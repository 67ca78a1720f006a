import { defineConfig } from 'vitest/config';

// `npm run package` and what it builds (deploy/package.test.ts): slow (a Next build), so
// outside the unit tests; npm test runs it before the kernel tests, which use its .deb.
export default defineConfig({
  test: {
    include: ['deploy/package.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 600_000,
  },
});
