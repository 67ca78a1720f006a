/**
 * Screenshots of every console page, at 1280 and 1920 px, light and dark,
 * plus the first-load JS of the overview (gzip). Starts the console server
 * itself (production build required: npx next build).
 *
 *   npx tsx e2e/console-screens.ts [outDir]
 *
 * Pages under /demo render components with synthetic data: they show what the
 * views look like, not that the console works end to end. /d/<id> pages are
 * real: with no agent running they show the real "unreachable" state.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { chromium, type Page } from 'playwright-core';
import { LoginPage, Shell, SnapshotsPage } from './pages/console';

const root = path.resolve(import.meta.dirname, '..');
const out = path.resolve(process.argv[2] ?? path.join(root, 'test-results/console-screens'));
mkdirSync(out, { recursive: true });
const port = 3100 + Math.floor(Math.random() * 800);
const base = `http://127.0.0.1:${port}`;

const env: NodeJS.ProcessEnv = {
  ...process.env,
  NODE_ENV: 'production' as const,
  PORT: String(port),
  DIRECTOR_CONSOLE_DEMO: '1',
  DIRECTOR_CONSOLE_ALLOW_ROOT: '1',
  DIRECTOR_AGENTS: JSON.stringify([
    { id: 'lab', name: 'lab director', url: 'http://127.0.0.1:9', viewerToken: 'v'.repeat(24), operatorToken: 'o'.repeat(24) },
    { id: 'edge-2', name: 'edge-2 (standby)', url: 'http://127.0.0.1:9', viewerToken: 'v'.repeat(24) },
  ]),
  DIRECTOR_CONSOLE_USERS: JSON.stringify([
    { username: 'op', password: 'operator-pw', role: 'operator' },
    { username: 'view', password: 'viewer-pw', role: 'viewer' },
  ]),
};

const server = spawn(process.execPath, ['--import', 'tsx', 'console/server.ts'], { cwd: root, env, stdio: ['ignore', 'pipe', 'pipe'] });
let log = '';
server.stdout.on('data', (d) => (log += d));
server.stderr.on('data', (d) => (log += d));
const stop = () => { if (server.exitCode === null) server.kill('SIGTERM'); };
process.on('exit', stop);

async function waitUp(): Promise<void> {
  for (let i = 0; i < 120; i++) {
    if (log.includes('director console: http://')) return;
    if (server.exitCode !== null) throw new Error(`console exited:\n${log}`);
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`console did not start:\n${log}`);
}

const profile = mkdtempSync(path.join(os.tmpdir(), 'director-shots-'));
const shots: string[] = [];
async function shot(page: Page, name: string, full = true): Promise<void> {
  const file = path.join(out, `${name}.png`);
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: full });
  shots.push(file);
}

try {
  await waitUp();
  const ctx = await chromium.launchPersistentContext(profile, {
    executablePath: '/usr/bin/chromium',
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    viewport: { width: 1280, height: 860 },
    baseURL: base,
  });
  const page = ctx.pages()[0] ?? (await ctx.newPage());
  const jsBytes = new Map<string, number>();
  page.on('response', async (r) => {
    if (r.request().resourceType() === 'script' && r.ok()) {
      try { jsBytes.set(r.url(), gzipSync(await r.body()).length); } catch { /* navigation raced */ }
    }
  });

  await page.goto('/login');
  await page.evaluate(() => localStorage.setItem('director-theme', 'light'));
  await page.reload();
  await shot(page, '01-login');
  await new LoginPage(page).signIn('op', 'operator-pw');

  // Real page, no agent running: what an operator sees when the agent is down.
  jsBytes.clear();
  await page.goto('/d/lab');
  await page.waitForTimeout(3500);
  const overviewJs = [...jsBytes.values()].reduce((a, b) => a + b, 0);
  const overviewFiles = jsBytes.size;
  await shot(page, '02-overview-agent-unreachable');

  await page.goto('/demo');
  await page.waitForTimeout(2500);
  await shot(page, '03-demo-overview-1280');
  await page.setViewportSize({ width: 1920, height: 1000 });
  await page.waitForTimeout(500);
  await shot(page, '04-demo-overview-1920');
  await page.setViewportSize({ width: 1280, height: 860 });

  jsBytes.clear();
  await page.goto(`/demo/s/${encodeURIComponent('tcp:192.168.150.100:80')}`);
  await page.waitForTimeout(3000);
  const serviceJs = [...jsBytes.values()].reduce((a, b) => a + b, 0);
  await shot(page, '05-demo-service');
  await page.goto(`/demo/s/${encodeURIComponent('tcp:192.168.150.100:80')}`);
  await page.waitForTimeout(1500);
  await page.getByRole('row').filter({ hasText: '10.1.0.22:80' }).getByRole('button', { name: 'Remove' }).click();
  await page.waitForTimeout(300);
  await shot(page, '07-demo-confirm-remove', false);
  await page.keyboard.press('Escape');

  await page.goto('/demo/connections');
  await page.waitForTimeout(1500);
  await shot(page, '08-demo-connections');
  const scroller = page.getByRole('table', { name: 'Connection entries' }).locator('div[style*="overflow"]');
  await scroller.evaluate((el) => { el.scrollTop = 28 * 60_000; });
  await page.waitForTimeout(500);
  await shot(page, '09-demo-connections-scrolled', false);

  await page.goto('/demo/forms');
  await page.waitForTimeout(800);
  await page.getByLabel('Virtual address').fill('10.0.0.300');
  await page.getByLabel('Port', { exact: true }).first().fill('0');
  await page.getByRole('button', { name: 'Add service' }).click();
  await page.getByLabel('Real server address').fill('10.1.0.9');
  await page.getByRole('button', { name: 'Add real server' }).click();
  await page.waitForTimeout(400);
  await shot(page, '10-demo-forms-errors');

  const snaps = new SnapshotsPage(page);
  await page.goto('/demo/snapshots');
  await page.waitForTimeout(800);
  await snaps.importText().fill('-A -t 192.168.150.100:80 -s rr\n-a -t 192.168.150.100:80 -r 10.1.0.21:80 -g -w 3\n-a -t 192.168.150.100:80 -r 10.1.0.29 -q\n');
  await snaps.showPlan().click();
  await page.waitForTimeout(500);
  await shot(page, '11-demo-snapshots-bad-line');
  await snaps.importText().fill('-A -t 192.168.150.100:80 -s rr\n-a -t 192.168.150.100:80 -r 10.1.0.21:80 -g -w 3\n-a -t 192.168.150.100:80 -r 10.1.0.29:80 -g -w 1\n-A -u 192.168.150.54:53 -s rr\n');
  await page.getByLabel('Remove what the snapshot lacks').check();
  await snaps.showPlan().click();
  await page.waitForTimeout(500);
  await shot(page, '12-demo-snapshots-plan');

  await new Shell(page).themeToggle().click();
  await page.goto('/demo');
  await page.waitForTimeout(2000);
  await shot(page, '13-demo-overview-dark');
  await page.goto(`/demo/s/${encodeURIComponent('tcp:192.168.150.100:80')}`);
  await page.waitForTimeout(2500);
  await shot(page, '14-demo-service-dark');
  await page.goto('/demo/connections');
  await page.waitForTimeout(1200);
  await shot(page, '15-demo-connections-dark');

  // Viewer role: operator controls shown disabled with the reason.
  await new Shell(page).themeToggle().click();
  await new Shell(page).signOut().click();
  await page.waitForURL('**/login');
  await new LoginPage(page).signIn('view', 'viewer-pw');
  await page.goto(`/demo/s/${encodeURIComponent('tcp:192.168.150.100:443')}`);
  await page.waitForTimeout(2500);
  await shot(page, '06-demo-service-viewer');

  // Main-thread long tasks during live updates with 1,000 services (synthetic ticks, all rows updating each second).
  await page.goto('/demo?n=1000');
  await page.waitForTimeout(2000);
  const longTasks = await page.evaluate(() => new Promise<number[]>((resolve) => {
    const d: number[] = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) d.push(Math.round(e.duration)); }).observe({ type: 'longtask' });
    setTimeout(() => resolve(d), 6000);
  }));
  await shot(page, '16-demo-overview-1000-services', false);

  await ctx.close();
  const summary = { longTasksMsDuring6sOf1000ServiceTicks: longTasks, screenshots: shots, overviewFirstLoadJsGzip: overviewJs, overviewJsFiles: overviewFiles, serviceFirstLoadJsGzip: serviceJs };
  writeFileSync(path.join(out, 'summary.json'), JSON.stringify(summary, null, 2));
  console.log(JSON.stringify(summary, null, 2));
} finally {
  stop();
  rmSync(profile, { recursive: true, force: true });
}
