import { defineConfig } from 'vitest/config';
import path from 'node:path';

// `npm start -- --lab` end to end (server/lab/start.lab-test.ts): boots its
// own lab kernel, so it runs alone and slowly, outside the unit tests.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['server/lab/start.lab-test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 480_000,
  },
});
