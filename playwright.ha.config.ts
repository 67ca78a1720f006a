import { defineConfig } from '@playwright/test';
import base from './playwright.config';

// The HA panel's spec runs against the two-director lab (`npm start -- --ha`),
// which cannot run beside the single-director lab (one tap per machine):
//   flock /tmp/tap.lock /work/notes/labslot npx playwright test -c playwright.ha.config.ts
export default defineConfig({
  ...base,
  testMatch: ['**/ha.spec.ts', '**/fleet.spec.ts', '**/lab-ha.spec.ts', '**/rehearsal.spec.ts'],
  testIgnore: [],
  globalSetup: './e2e/ha-global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  outputDir: 'test-results/e2e-ha',
});
