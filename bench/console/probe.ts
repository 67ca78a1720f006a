/**
 * Where the console section's time goes (a diagnostic beside section.ts, not part of the bench's table):
 * the lab as the e2e tests start it, `--services` bench services, then
 *  - ipvsadm → page: per change, when the change event's WebSocket frame reached the browser (CDP) and
 *    when the page showed the weight;
 *  - the overview and the connections page cold, with a CPU profile of each: long tasks and the
 *    functions with the most self time, and screenshots.
 *
 *   npx tsx bench/console/probe.ts [--services 10000] [--changes 10] [--conns 100000] [--out /tmp/probe]
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import type { Browser, CDPSession, Page } from 'playwright-core';
import globalSetup from '../../e2e/global-setup';
import globalTeardown from '../../e2e/global-teardown';
import { agent, ipvsadm, labInfo, until } from '../../e2e/lab';
import { LoginPage, ServicePage } from '../../e2e/pages/console';
import { launchBenchBrowser } from './browser';
import { benchRules, flood } from './section';
import { longTasksOf, type TraceEvent } from './trace-tasks';

const { values: a } = parseArgs({ options: {
  services: { type: 'string', default: '10000' }, changes: { type: 'string', default: '10' }, out: { type: 'string', default: '/tmp/probe' },
  live: { type: 'string', default: '10' }, conns: { type: 'string', default: '0' }, skipChanges: { type: 'boolean', default: false },
  // then this many more cold loads of the sign-in page and of the connections page, alternating, traced
  // without the CPU profiler (which slows scripts): each load's long tasks, what they hold
  loads: { type: 'string', default: '0' }, skipOverview: { type: 'boolean', default: false },
  // the page those loads alternate with the sign-in page
  page: { type: 'string', default: 'connections' },
} });
const OUT = a.out!;
mkdirSync(OUT, { recursive: true });
const t0 = performance.now();
const say = (s: string) => console.log(`[${((performance.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);

const INIT = `window.__lt = []; try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push([Math.round(e.startTime), Math.round(e.duration)]); }).observe({ type: 'longtask', buffered: true }); } catch {}`;

interface Node { id: number; callFrame: { functionName: string; url: string; lineNumber: number }; children?: number[] }
interface Profile { nodes: Node[]; startTime: number; endTime: number; samples: number[]; timeDeltas: number[] }

function topSelf(p: Profile, n = 25): string[] {
  const byId = new Map(p.nodes.map((x) => [x.id, x]));
  const self = new Map<number, number>();
  for (let i = 0; i < p.samples.length; i++) self.set(p.samples[i]!, (self.get(p.samples[i]!) ?? 0) + (p.timeDeltas[i + 1] ?? 0));
  const byFn = new Map<string, number>();
  for (const [id, us] of self) {
    const f = byId.get(id)!.callFrame;
    const k = `${f.functionName || '(anon)'} ${f.url.split('/').pop()}:${f.lineNumber}`;
    byFn.set(k, (byFn.get(k) ?? 0) + us);
  }
  return [...byFn].sort((x, y) => y[1] - x[1]).slice(0, n).map(([k, us]) => `${(us / 1000).toFixed(1).padStart(8)} ms  ${k}`);
}

async function coldProfiled(browser: Browser, storageState: Parameters<Browser['newContext']>[0] extends infer O ? O extends { storageState?: infer S } ? S : never : never,
  name: string, url: string, ready: (p: Page) => Promise<unknown>, profiled = true): Promise<number[]> {
  const ctx = await browser.newContext({ baseURL: labInfo().consoleUrl, viewport: { width: 1440, height: 900 }, storageState });
  await ctx.addInitScript(INIT);
  const page = await ctx.newPage();
  const cdp: CDPSession = await ctx.newCDPSession(page);
  if (profiled) {
    await cdp.send('Profiler.enable');
    await cdp.send('Profiler.setSamplingInterval', { interval: 200 });
    await cdp.send('Profiler.start');
  }
  await browser.startTracing(page, { categories: ['devtools.timeline', 'disabled-by-default-devtools.timeline', 'v8', 'disabled-by-default-v8.gc', 'toplevel'] });
  const js = new Map<string, Promise<number>>();
  page.on('response', (r) => {
    if (r.request().resourceType() === 'script' && r.ok()) js.set(r.url(), r.body().then((b) => gzipSync(b).length, () => 0));
    // the document as served (before any script), for a look at what the first style and layout work on
    if (r.request().resourceType() === 'document') void r.text().then((h) => writeFileSync(path.join(OUT, `${name}.html`), h), () => undefined);
  });
  const t = performance.now();
  await page.goto(url);
  await ready(page);
  const readyMs = performance.now() - t;
  await page.waitForTimeout(Number(a.live) * 1000);
  const profile = profiled ? (await cdp.send('Profiler.stop') as { profile: Profile }).profile : undefined;
  const trace = await browser.stopTracing();
  writeFileSync(path.join(OUT, `${name}.trace.json`), trace);
  const lt = await page.evaluate(() => (window as unknown as { __lt: [number, number][] }).__lt);
  await page.screenshot({ path: path.join(OUT, `${name}.png`) });
  if (profile) writeFileSync(path.join(OUT, `${name}.cpuprofile`), JSON.stringify(profile));
  say(`${name}: ready ${readyMs.toFixed(0)} ms; long tasks [start, ms]: ${JSON.stringify(lt)}`);
  if (profile) console.log(topSelf(profile).join('\n'));
  console.log(longTasksOf(JSON.parse(trace.toString()) as { traceEvents: TraceEvent[] }, profile).join('\n'));
  const sizes = await Promise.all([...js].map(async ([u, p]) => [u.split('/').pop(), await p] as const));
  say(`${name}: scripts ${(sizes.reduce((x, y) => x + y[1], 0) / 1024).toFixed(1)} kB gzip: ${sizes.sort((x, y) => y[1] - x[1]).map(([u, b]) => `${u} ${(b / 1024).toFixed(1)}`).join(', ')}`);
  await ctx.close();
  return lt.map(([, ms]) => ms);
}

try {
  say('lab');
  await globalSetup();
  const api = agent();
  const r = await api.snapshot.restore.mutate({ format: 'ipvsadm', text: benchRules(Number(a.services)), prune: false });
  say(`${r.applied} operations; ${(await api.services.list.query()).length} services`);
  const browser = await launchBenchBrowser();
  const signIn = await browser.newContext({ baseURL: labInfo().consoleUrl });
  const login = await signIn.newPage();
  await new LoginPage(login).signIn(labInfo().signIn.username, labInfo().signIn.password);
  const storageState = await signIn.storageState();

  if (!a.skipChanges) {
    const svc = '10.200.0.1:80', rs = '192.168.150.13:80';
    const page = await login.context().newPage();
    const cdp = await login.context().newCDPSession(page);
    await cdp.send('Network.enable');
    let lastChangeFrame = 0;
    let lastTickFrame = 0;
    cdp.on('Network.webSocketFrameReceived', (e: { response: { payloadData: string } }) => {
      if (e.response.payloadData.includes('"changes"') && !e.response.payloadData.includes('"resync":true')) lastChangeFrame = performance.now();
      else lastTickFrame = performance.now();
    });
    await page.goto(`/d/lab/s/${encodeURIComponent(`tcp:${svc}`)}`);
    await new ServicePage(page).weightCell(rs).waitFor({ timeout: 120_000 });
    const table = await new ServicePage(page).realServers().elementHandle();
    for (let k = 0; k < Number(a.changes); k++) {
      const w = String(2 + (k % 50));
      const tc = performance.now();
      await ipvsadm('-e', '-t', svc, '-r', rs, '-g', '-w', w);
      const t = performance.now();
      lastChangeFrame = 0;
      await page.waitForFunction(([el, rs, want]) => [...(el as HTMLTableElement).rows]
        .some((row, _, rows) => row.textContent?.includes(rs as string)
          && row.cells[[...rows[0]!.cells].findIndex((c) => c.textContent?.trim() === 'Weight')]?.textContent?.trim() === want), [table, rs, w] as const, { polling: 'raf', timeout: 30_000 });
      const shown = performance.now();
      say(`change ${k}: ipvsadm call ${(t - tc).toFixed(0)} ms; frame +${lastChangeFrame ? (lastChangeFrame - t).toFixed(0) : '?'} ms; shown +${(shown - t).toFixed(0)} ms; last tick frame ${(lastTickFrame - t).toFixed(0)}`);
      await page.waitForTimeout(300 + Math.random() * 700);
    }
    await page.close();
  }
  if (!a.skipOverview) await coldProfiled(browser, storageState, 'overview', '/d/lab', (p) => p.locator('tbody a').first().waitFor({ timeout: 120_000 }));
  if (Number(a.conns) > 0) {
    flood(Number(a.conns), say);
    const api = agent();
    say(`${await until('the connection entries', async () => {
      const n = (await api.connections.list.query({ cursor: 0, limit: 1 })).total;
      return n >= Number(a.conns) * 0.95 ? n : null;
    }, 180_000, 3000)} connection entries`);
  }
  const connsReady = (p: Page) => p.getByRole('table', { name: 'Connection entries' }).waitFor({ timeout: 240_000 });
  await coldProfiled(browser, storageState, 'connections', '/d/lab/connections', connsReady);
  const longest: Record<string, number[]> = { signIn: [], [a.page!]: [] };
  const [url, ready] = a.page === 'overview' ? ['/d/lab', (p: Page) => p.locator('tbody a').first().waitFor({ timeout: 120_000 })] as const
    : ['/d/lab/connections', connsReady] as const;
  for (let k = 0; k < Number(a.loads); k++) {
    longest.signIn!.push(Math.max(0, ...await coldProfiled(browser, { cookies: [], origins: [] }, `signin-${k}`, '/login', (p) => new LoginPage(p).submit().waitFor({ timeout: 60_000 }), false)));
    longest[a.page!]!.push(Math.max(0, ...await coldProfiled(browser, storageState, `${a.page}-${k}`, url, ready, false)));
  }
  if (Number(a.loads) > 0) say(`longest task per load (ms): ${JSON.stringify(longest)}`);
  await browser.close();
} finally {
  await globalTeardown();
}
