import { defineConfig } from 'vitest/config';
import path from 'node:path';

// Kernel tests run inside the lab kernel (server/lab/cli.ts test). They share
// one IPVS table, so files run one after another in a single worker; the
// guest's root is read-only, so every cache lives on its tmpfs.
export default defineConfig({
  resolve: { alias: { '@': path.resolve(import.meta.dirname) } },
  cacheDir: '/tmp/vitest-cache',
  test: {
    include: ['**/*.kernel.test.ts'],
    exclude: ['node_modules/**'],
    pool: 'forks',
    fileParallelism: false,
    maxWorkers: 1,
    testTimeout: 120_000,
    hookTimeout: 120_000,
    setupFiles: ['server/lab/kernel-test-reset.ts'],
    // a test that fails once is run again, and named as flaky in npm test's closing lines: timing in an
    // emulated kernel on a loaded host is not the code under test, but a flake is still seen
    retry: 1,
    reporters: ['default', './scripts/vitest-flaky-reporter.mjs'],
  },
});
