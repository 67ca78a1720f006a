import { defineConfig } from 'vitest/config';
import path from 'node:path';

// `npm start -- --lab` end to end (server/lab/start.lab-test.ts) and the HA lab
// (server/lab/ha.lab-test.ts): each boots its own lab kernel on the one tap
// link, so they run one after the other and slowly, outside the unit tests.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  test: {
    include: ['server/lab/start.lab-test.ts', 'server/lab/ha.lab-test.ts', 'server/lab/mm.lab-test.ts', 'server/lab/enroll.lab-test.ts', 'server/lab/prometheus.lab-test.ts', 'server/lab/rehearsal.lab-test.ts'],
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 480_000,
    // a test that fails once is run again, and named as flaky in npm test's closing lines: timing in an
    // emulated kernel on a loaded host is not the code under test, but a flake is still seen
    retry: 1,
    reporters: ['default', './scripts/vitest-flaky-reporter.mjs'],
  },
});
