import { defineConfig } from '@playwright/test';

// End-to-end tests drive Debian's Chromium against the console, which
// manages the lab kernel started once for the whole run (e2e/global-setup.ts).
export default defineConfig({
  testDir: 'e2e',
  testMatch: '**/*.spec.ts',
  // the HA panel needs the two-director lab: it runs under playwright.ha.config.ts (npm test's e2e-ha step)
  testIgnore: ['**/ha.spec.ts', '**/fleet.spec.ts', '**/lab-ha.spec.ts', '**/rehearsal.spec.ts'],
  globalSetup: './e2e/global-setup.ts',
  globalTeardown: './e2e/global-teardown.ts',
  fullyParallel: false,
  workers: 1,
  // a failed test runs once more; npm test names it as flaky in its closing lines
  retries: 1,
  timeout: 120_000,
  expect: { timeout: 20_000 },
  outputDir: 'test-results/e2e',
  reporter: [['list']],
  use: {
    browserName: 'chromium',
    launchOptions: {
      executablePath: '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
        '--disable-component-update', '--disable-sync'],
    },
    headless: true,
    viewport: { width: 1440, height: 900 },
    screenshot: 'only-on-failure',
    trace: 'retain-on-failure',
  },
});
