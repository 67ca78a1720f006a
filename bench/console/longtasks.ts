/**
 * Console main-thread benchmark against the real lab kernel: with ~1,000
 * virtual services and ~100,000 connection entries, how long are the browser's
 * longest tasks while live updates flow (goal: none over 100 ms)?
 *
 *   flock /tmp/tap.lock /work/notes/labslot npx tsx bench/console/longtasks.ts [--label NAME] [--seconds 30]
 *       [--services 1000] [--conns 100000] [--port 3230] [--root OTHER_CHECKOUT]
 *
 * It boots the lab as `npm start -- --lab` does, adds the bench services with
 * the agent's snapshot restore (the same netlink path as `ipvsadm -R`), makes
 * the connection entries with UDP datagrams from the host end of the tap link
 * (udp-flood.py; IPVS keeps each UDP entry 300 s), then drives Debian's
 * Chromium over the overview, one service page and the connections page,
 * recording every 'longtask' with a PerformanceObserver. Also sums the gzip
 * size of the overview's first-load scripts. Writes bench/console/results-<label>.json.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync } from 'node:zlib';
import { createTRPCClient, httpBatchLink } from '@trpc/client';
import { chromium, type Page } from 'playwright-core';
import type { AppRouter } from '../../server/api/router';
import { serviceId } from '../../lib/ipvs/ids';
import { LoginPage } from '../../e2e/pages/console';

const root = path.resolve(import.meta.dirname, '../..');
const { values: args } = parseArgs({
  options: {
    label: { type: 'string', default: 'run' },
    seconds: { type: 'string', default: '30' },
    services: { type: 'string', default: '1000' },
    conns: { type: 'string', default: '100000' },
    port: { type: 'string', default: '3230' },
    /** another checkout whose `npm start` to measure (e.g. an older commit, for a before/after comparison) */
    root: { type: 'string' },
  },
});
const labRoot = path.resolve(args.root ?? root);
const SECONDS = Number(args.seconds);
const SERVICES = Number(args.services);
const CONNS = Number(args.conns);
const TAP_HOST = '169.254.150.1';
const TAP_GUEST = '169.254.150.2';
const UDP_PORTS = [5001, 5002];
const t0 = Date.now();
const say = (s: string) => console.log(`[${((Date.now() - t0) / 1000).toFixed(1).padStart(6)} s] ${s}`);

interface LabState { consoleUrl: string; agentUrl: string; operatorToken: string; signIn: { username: string; password: string } }

let lab: ChildProcess | null = null;
async function stopLab(): Promise<void> {
  const c = lab;
  if (!c || c.exitCode !== null || c.pid === undefined) return;
  const gone = new Promise((r) => c.once('exit', r));
  process.kill(c.pid, 'SIGINT'); // start.ts cleans up the guest, the tap and its folders on SIGINT
  await Promise.race([gone, new Promise((r) => setTimeout(r, 60_000))]);
}

async function startLab(port: number): Promise<LabState> {
  // The lab stores only password hashes: choose the operator's password and hand it over.
  const password = randomBytes(12).toString('base64url');
  const child = spawn(process.execPath, ['--import', 'tsx', 'server/lab/start.ts', '--lab', '--port', String(port), '--rate', '5'], {
    cwd: labRoot, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, DIRECTOR_LAB_PASSWORD: password, NEXT_TELEMETRY_DISABLED: '1' },
  });
  lab = child;
  let out = '';
  child.stderr!.on('data', (b: Buffer) => { out += b.toString(); });
  const ready = await new Promise<{ stateFile: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`lab not ready in 600 s:\n${out.slice(-3000)}`)), 600_000);
    child.stdout!.on('data', (b: Buffer) => {
      out += b.toString();
      const m = /^DIRECTOR_READY (.*)$/m.exec(out);
      if (m) { clearTimeout(timer); resolve(JSON.parse(m[1]!) as { stateFile: string }); }
    });
    child.once('exit', (code) => { clearTimeout(timer); reject(new Error(`npm start exited (${code}):\n${out.slice(-3000)}`)); });
  });
  const st = JSON.parse(readFileSync(ready.stateFile, 'utf8')) as LabState;
  return { ...st, signIn: { username: st.signIn.username, password } };
}

/** ipvsadm -S text for the bench services: TCP DR services on 10.200.x.y:80, plus the UDP ones that hold the entries. */
function benchRules(n: number): string {
  const lines: string[] = [];
  for (const p of UDP_PORTS) {
    lines.push(`-A -u ${TAP_GUEST}:${p} -s rr`);
    lines.push(`-a -u ${TAP_GUEST}:${p} -r 192.168.150.12:${p} -g -w 1`, `-a -u ${TAP_GUEST}:${p} -r 192.168.150.13:${p} -g -w 1`);
  }
  for (let i = 0; i < n - UDP_PORTS.length; i++) {
    const vip = `10.200.${Math.floor(i / 250)}.${(i % 250) + 1}`;
    lines.push(`-A -t ${vip}:80 -s ${i % 3 === 0 ? 'wlc' : 'rr'}`);
    lines.push(`-a -t ${vip}:80 -r 192.168.150.12:80 -g -w 1`, `-a -t ${vip}:80 -r 192.168.150.13:80 -g -w ${1 + (i % 4)}`);
  }
  return `${lines.join('\n')}\n`;
}

function flood(perPort: number): void {
  const r = spawnSync('python3', [path.join(import.meta.dirname, 'udp-flood.py'), TAP_HOST, TAP_GUEST, UDP_PORTS.join(','), String(perPort), '5000'],
    { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`udp-flood failed: ${r.stderr}`);
  say(r.stdout.trim());
}

interface PageResult { page: string; url: string; seconds: number; longestMs: number; over50: number; over100: number; tasks: number[]; loadLongestMs: number; mutations: number }

// long tasks, and DOM changes (text or nodes) as the proof that live updates reached the page while recording
const INIT = `window.__lt = []; window.__mut = 0; try { new PerformanceObserver((l) => { for (const e of l.getEntries()) window.__lt.push(Math.round(e.duration)); }).observe({ type: 'longtask', buffered: true }); } catch {}
addEventListener('DOMContentLoaded', () => new MutationObserver((m) => { window.__mut += m.length; }).observe(document.body, { subtree: true, childList: true, characterData: true }));`;

async function measure(page: Page, name: string, url: string, ready: (p: Page) => Promise<unknown>): Promise<PageResult> {
  await page.goto(url);
  await ready(page);
  await page.waitForTimeout(3000);
  const load = await page.evaluate(() => (window as unknown as { __lt: number[] }).__lt.splice(0));
  say(`${name}: loaded (longest task while loading ${Math.max(0, ...load)} ms); recording ${SECONDS} s of live updates`);
  const mutBefore = await page.evaluate(() => (window as unknown as { __mut: number }).__mut);
  await page.waitForTimeout(SECONDS * 1000);
  const tasks = await page.evaluate(() => (window as unknown as { __lt: number[] }).__lt.splice(0));
  const mutations = (await page.evaluate(() => (window as unknown as { __mut: number }).__mut)) - mutBefore;
  const r = {
    page: name, url, seconds: SECONDS, longestMs: Math.max(0, ...tasks), over50: tasks.filter((t) => t > 50).length,
    over100: tasks.filter((t) => t > 100).length, tasks, loadLongestMs: Math.max(0, ...load), mutations,
  };
  say(`${name}: longest ${r.longestMs} ms, ${r.over50} tasks > 50 ms, ${r.over100} > 100 ms; ${mutations} DOM changes while recording${mutations === 0 ? ' (NO live updates reached the page: the figures prove nothing)' : ''}`);
  return r;
}

async function main(): Promise<void> {
  say('booting the lab (npm start -- --lab)');
  const st = await startLab(Number(args.port));
  say(`lab ready: console ${st.consoleUrl}, agent ${st.agentUrl}`);
  const agent = createTRPCClient<AppRouter>({
    links: [httpBatchLink({
      url: `${st.agentUrl}/trpc`, headers: () => ({ authorization: `Bearer ${st.operatorToken}` }), maxItems: 16,
      // a lab kernel under load can take minutes; never wait forever on one call
      fetch: (url, init) => fetch(url, { ...(init as RequestInit), signal: AbortSignal.timeout(180_000) }),
    })],
  });
  const before = (await agent.services.list.query()).length;
  const restored = await agent.snapshot.restore.mutate({ format: 'ipvsadm', text: benchRules(SERVICES), prune: false });
  const services = await agent.services.list.query();
  say(`services: ${before} from the lab + ${restored.applied} operations applied -> ${services.length} services`);
  const perPort = Math.ceil(CONNS / UDP_PORTS.length);
  flood(perPort);
  // The lab kernel can be slow to answer while it takes in the datagrams: retry for a minute.
  const entries = async (): Promise<number> => {
    for (let i = 0; ; i++) {
      try {
        return (await agent.connections.list.query({ cursor: 0, limit: 1 })).total;
      } catch (e) {
        if (i >= 30) throw e;
        say(`connection count: ${(e as Error).message}; retrying`);
        await new Promise((r) => setTimeout(r, 2000));
      }
    }
  };
  let total = await entries();
  for (let i = 0; i < 20 && total < CONNS * 0.95; i++) {
    await new Promise((r) => setTimeout(r, 3000));
    total = await entries();
  }
  say(`connection entries in the lab kernel: ${total}`);

  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
  const results: PageResult[] = [];
  let overviewJs = 0;
  try {
    const ctx = await browser.newContext({ viewport: { width: 1440, height: 900 }, baseURL: st.consoleUrl });
    await ctx.addInitScript(INIT);
    const page = await ctx.newPage();
    await new LoginPage(page).signIn(st.signIn.username, st.signIn.password);
    const js = new Map<string, number>();
    page.on('response', async (r) => {
      if (r.request().resourceType() === 'script' && r.ok()) {
        try { js.set(r.url(), gzipSync(await r.body()).length); } catch { /* navigation raced */ }
      }
    });
    // A fresh page load of the overview: every script it needs, gzip as served over the wire.
    const fresh = await ctx.newPage();
    fresh.on('response', async (r) => {
      if (r.request().resourceType() === 'script' && r.ok()) {
        try { js.set(r.url(), gzipSync(await r.body()).length); } catch { /* navigation raced */ }
      }
    });
    js.clear();
    await fresh.goto('/d/lab');
    // with 1,000 rows virtualised the lab's own service may be far down the list: any service row will do
    await fresh.locator('tbody a').first().waitFor({ timeout: 120_000 });
    await fresh.waitForTimeout(1500);
    overviewJs = [...js.values()].reduce((a, b) => a + b, 0);
    await fresh.close();
    say(`overview first-load JS: ${(overviewJs / 1024).toFixed(1)} kB gzip in ${js.size} files`);

    flood(perPort); // refresh the entries' 300 s timers before each page
    results.push(await measure(page, 'overview', '/d/lab',
      (p) => p.locator('tbody a').first().waitFor({ timeout: 120_000 })));
    flood(perPort);
    const sid = serviceId(services.find((s) => s.key.kind !== 'fwmark' && s.key.address === '192.168.150.100' && s.key.port === 80)!.key);
    results.push(await measure(page, 'service', `/d/lab/s/${encodeURIComponent(sid)}`,
      (p) => p.locator('.uplot').first().waitFor({ timeout: 60_000 })));
    flood(perPort);
    results.push(await measure(page, 'connections', '/d/lab/connections',
      (p) => p.getByRole('table', { name: 'Connection entries' }).waitFor({ timeout: 180_000 })));
    total = await entries();
    say(`connection entries at the end: ${total}`);
  } finally {
    await browser.close();
  }
  const out = {
    label: args.label, root: labRoot, at: new Date().toISOString(), services: services.length, connectionEntries: total,
    overviewFirstLoadJsGzipKb: Math.round(overviewJs / 102.4) / 10, loadavg: readFileSync('/proc/loadavg', 'utf8').trim(), pages: results,
  };
  mkdirSync(path.join(root, 'bench/console'), { recursive: true });
  const file = path.join(root, 'bench/console', `results-${args.label}.json`);
  writeFileSync(file, `${JSON.stringify(out, null, 2)}\n`);
  say(`wrote ${path.relative(root, file)}`);
  console.log('page         longest  >50ms  >100ms');
  for (const r of results) console.log(`${r.page.padEnd(12)} ${String(r.longestMs).padStart(6)}  ${String(r.over50).padStart(5)}  ${String(r.over100).padStart(6)}`);
}

for (const sig of ['SIGINT', 'SIGTERM'] as const) process.on(sig, () => { void stopLab().then(() => process.exit(130)); });
try {
  await main();
} catch (e) {
  console.error(`bench/console: ${(e as Error).stack ?? e}`);
  process.exitCode = 1;
} finally {
  say('stopping the lab');
  await stopLab();
}
