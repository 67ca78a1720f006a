/**
 * Long tasks on the demo overview with N synthetic services (no lab needed):
 * a quick check of the browser side alone, the demo's own tick generation included.
 *   npx tsx bench/console/demo-longtasks.ts [N] [seconds]
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { chromium } from 'playwright-core';
import { LoginPage } from '../../e2e/pages/console';

const root = path.resolve(import.meta.dirname, '../..');
const n = Number(process.argv[2] ?? 1000);
const seconds = Number(process.argv[3] ?? 20);
const port = 3900 + Math.floor(Math.random() * 90);
const server = spawn(process.execPath, ['--import', 'tsx', 'console/server.ts'], {
  cwd: root, stdio: ['ignore', 'pipe', 'pipe'],
  env: {
    ...process.env, NODE_ENV: 'production', PORT: String(port), DIRECTOR_CONSOLE_DEMO: '1', DIRECTOR_CONSOLE_ALLOW_ROOT: '1',
    DIRECTOR_AGENTS: JSON.stringify([{ id: 'lab', name: 'lab', url: 'http://127.0.0.1:9', viewerToken: 'v'.repeat(24) }]),
    DIRECTOR_CONSOLE_USERS: JSON.stringify([{ username: 'op', password: 'operator-pw', role: 'operator' }]),
  },
});
let log = '';
server.stdout.on('data', (d) => (log += d));
server.stderr.on('data', (d) => (log += d));
try {
  for (let i = 0; i < 240 && !log.includes('director console: http://'); i++) await new Promise((r) => setTimeout(r, 250));
  const browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu'] });
  const page = await browser.newPage({ baseURL: `http://127.0.0.1:${port}`, viewport: { width: 1440, height: 900 } });
  await new LoginPage(page).signIn('op', 'operator-pw');
  await page.goto(`/demo?n=${n}`);
  await page.waitForTimeout(4000);
  const tasks = await page.evaluate((s) => new Promise<number[]>((resolve) => {
    const d: number[] = [];
    new PerformanceObserver((l) => { for (const e of l.getEntries()) d.push(Math.round(e.duration)); }).observe({ type: 'longtask' });
    setTimeout(() => resolve(d), s * 1000);
  }), seconds);
  console.log('rows in DOM:', await page.locator('tr').count(), 'svg:', await page.locator('svg').count(), 'elements:', await page.evaluate(() => document.getElementsByTagName('*').length));
  if (process.env.PROFILE) {
    const cdp = await page.context().newCDPSession(page);
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.start');
    await page.waitForTimeout(8000);
    const { profile } = await cdp.send('Profiler.stop') as { profile: { nodes: Array<{ id: number; callFrame: { functionName: string; url: string; lineNumber: number }; hitCount?: number }>; samples: number[]; timeDeltas: number[] } };
    const self = new Map<string, number>();
    const byId = new Map(profile.nodes.map((nd) => [nd.id, nd]));
    profile.samples.forEach((id, i) => {
      const nd = byId.get(id)!;
      const k = `${nd.callFrame.functionName || '(anon)'} ${nd.callFrame.url.split('/').pop()}:${nd.callFrame.lineNumber}`;
      self.set(k, (self.get(k) ?? 0) + (profile.timeDeltas[i] ?? 0) / 1000);
    });
    for (const [k, ms] of [...self].sort((a, b) => b[1] - a[1]).slice(0, 25)) console.log(ms.toFixed(0).padStart(6), 'ms', k);
  }
  console.log(JSON.stringify({ n, seconds, longest: Math.max(0, ...tasks), over50: tasks.filter((t) => t > 50).length, tasks, load: (await import('node:fs')).readFileSync('/proc/loadavg', 'utf8').trim() }));
  await browser.close();
} finally {
  server.kill('SIGTERM');
}
