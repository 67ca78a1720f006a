/**
 * Debian's Prometheus against the agents of the HA lab, and every query of
 * the Grafana dashboard (deploy/grafana/director.json) evaluated on what it
 * scraped (issue #25 item 1):
 *
 *   host: prometheus 127.0.0.1:<free port>, storage in a temp folder
 *     │ scrapes every 1 s with the lab's viewer token (Authorization: Bearer)
 *     └── tap dlabprom0 169.254.153.1/30 ── 169.254.153.2 guest port proxy
 *            ├── :9581 → lvs1's agent
 *            └── :9582 → lvs2's agent
 *   whichever takes the VIP group's lease first is MASTER and carries the traffic
 *
 * The lab's client sends RATE requests/s to each service; the test adds a TCP
 * check of the DR service's real servers on the master (health series), waits for
 * scrapes, then asks Prometheus's HTTP API for each panel's expression with
 * the dashboard's variables filled in (every director, the DR service) and
 * requires data from each. It also holds Prometheus's rate of the DR
 * service's connections on the master against the rate the console shows for it
 * (the agent's stats ticks, decoded as the console does) over the same window.
 *
 *   npx vitest run --config vitest.lab-start.config.ts server/lab/prometheus.lab-test.ts
 * Needs root (tap link), user-mode-linux, keepalived, zookeeper (the HA lab)
 * and prometheus (scripts/install.mjs installs them all for the lab-start
 * suite). Prometheus scrapes only the tap's guest address and listens on
 * 127.0.0.1; the test talks to nothing else.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { createTRPCClient, createWSClient, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { LiveTable } from '@/lib/agent/live-wire';
import type { ServiceKey } from '@/lib/ipvs/model';
import { serviceId } from '@/lib/ipvs/ids';
import { HA_LAB } from '@/lib/lab/ha-topology';
import { LAB_TOPOLOGY } from '@/lib/lab/topology';
import type { AppRouter } from '../api/router';
import { client } from '../cli/commands/lab';
import { startHaLab, type HaLab } from './ha-lab';
import type { TapLink } from './uml';

const root = path.resolve(import.meta.dirname, '../..');
const PROMETHEUS = '/usr/bin/prometheus';
const PROMTOOL = '/usr/bin/promtool';
const labReady = process.getuid?.() === 0 && existsSync('/usr/bin/linux.uml') && existsSync('/usr/sbin/keepalived') && existsSync('/usr/share/java/zookeeper.jar');
const canRun = labReady && existsSync(PROMETHEUS);
if (!labReady) console.warn('prometheus lab test skipped: needs root, /usr/bin/linux.uml, keepalived and zookeeper (apt-get install -y user-mode-linux keepalived zookeeper)');
else if (!existsSync(PROMETHEUS)) console.warn(`prometheus lab test skipped: ${PROMETHEUS} is missing (apt-get install -y --no-install-recommends prometheus; node scripts/install.mjs does it)`);

/** its own tap link, so it need not wait for a running npm start or another lab test */
const TAP: TapLink = { name: 'dlabprom0', hostAddress: '169.254.153.1', guestAddress: '169.254.153.2', prefix: 30 };
/** requests per second per service from the lab's client */
const RATE = 10;
/** the window both rates are taken over (s) */
const WINDOW_S = 20;
/**
 * Prometheus's rate and the console's agree within this share (or 1 connection/s, whichever is larger): the
 * console's rate is the agent's per-tick rate averaged over the window, Prometheus's the counter's increase over
 * the same window from 1 s scrapes; both count the same kernel counter, so they differ only by where the window's
 * edges fall (a tick's worth of connections at each end).
 */
const TOLERANCE = 0.15;
const DR: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: HA_LAB.vip, port: LAB_TOPOLOGY.ports.dr };
const DR_ID = serviceId(DR);
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Target { expr: string; refId: string }
interface Panel { type: string; title: string; targets?: Target[] }
const dashboard = JSON.parse(readFileSync(path.join(root, 'deploy/grafana/director.json'), 'utf8')) as { panels: Panel[]; templating: { list: { name: string }[] } };

/** A panel's expression as Grafana sends it with these choices: every director, the DR service, a 15 s rate interval (4 scrapes). */
function substitute(expr: string): string {
  return expr.replaceAll('$__rate_interval', '15s').replaceAll('$instance', '.*').replaceAll('$service', DR_ID.replaceAll('.', '\\\\.'));
}

async function freePort(): Promise<number> {
  const s = net.createServer();
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  const port = (s.address() as net.AddressInfo).port;
  await new Promise((r) => s.close(r));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, timeoutMs: number, everyMs = 500): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown = null;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    await sleep(everyMs);
  }
  throw new Error(`${what}: not within ${timeoutMs / 1000} s${last ? ` (last error: ${(last as Error).message})` : ''}`);
}

interface PromVector { metric: Record<string, string>; value: [number, string] }

describe.skipIf(!canRun)('Prometheus scrapes the agents and every dashboard query returns data', () => {
  const abort = new AbortController();
  let lab: HaLab;
  let tmp = '';
  let prom: ChildProcess | null = null;
  let promLog = '';
  let promUrl = '';
  /** the director holding the VIP group (the lab starts without preempt: the first to take the lease keeps it) */
  let master: HaLab['agents'][number];

  async function query(expr: string, time?: number): Promise<PromVector[]> {
    const u = new URL(`${promUrl}/api/v1/query`);
    u.searchParams.set('query', expr);
    if (time !== undefined) u.searchParams.set('time', String(time));
    const r = await fetch(u, { signal: AbortSignal.timeout(10_000) });
    const body = await r.json() as { status: string; error?: string; data?: { resultType: string; result: PromVector[] } };
    if (body.status !== 'success') throw new Error(`${expr}: ${body.error ?? r.status}`);
    return body.data!.result;
  }

  beforeAll(async () => {
    lab = await startHaLab({ projectRoot: root, rate: RATE, tap: TAP, signal: abort.signal, onStep: (s) => console.log(`  lab: ${s}`) });
    console.log(`HA lab ready in ${(lab.startupMs / 1000).toFixed(1)} s`);
    master = await until('a director to be MASTER with the lease and the VIPs', async () => {
      for (const a of lab.agents) {
        const g = (await client(a.url, a.viewerToken).ha.status.query()).groups[0];
        if (g?.vrrpState === 'MASTER' && g.leaseHolder === a.id && g.vipsPresent.length > 0) return a;
      }
      return null;
    }, 180_000);
    console.log(`${master.id} is MASTER`);
    const api1 = client(master.url, master.operatorToken);
    // health series: a TCP check of the DR service's real servers, every second
    const svc = await api1.services.get.query({ key: DR });
    await api1.health.config.set.mutate({
      config: {
        service: DR, timing: { delayLoop: 1, connectTimeout: 1, warmup: 0 },
        realServers: svc.destinations.map((d) => ({ destination: d, checks: [{ type: 'tcp' as const }] })),
      },
    });

    tmp = await mkdtemp(path.join(os.tmpdir(), 'director-prometheus-'));
    const tokenFile = path.join(tmp, 'viewer.token');
    await writeFile(tokenFile, master.viewerToken, { mode: 0o600 });
    await chmod(tokenFile, 0o600);
    // the instance label carries the director's name, as an operator would set it
    const config = {
      global: { scrape_interval: '1s', scrape_timeout: '1s', evaluation_interval: '1s' },
      scrape_configs: [{
        job_name: 'director',
        authorization: { type: 'Bearer', credentials_file: tokenFile },
        static_configs: lab.agents.map((a) => ({ targets: [new URL(a.url).host], labels: { instance: a.id } })),
      }],
    };
    // JSON is YAML: no YAML writer needed
    await writeFile(path.join(tmp, 'prometheus.yml'), JSON.stringify(config, null, 2));
    const port = await freePort();
    promUrl = `http://127.0.0.1:${port}`;
    prom = spawn(PROMETHEUS, [
      `--config.file=${path.join(tmp, 'prometheus.yml')}`, `--storage.tsdb.path=${path.join(tmp, 'data')}`,
      `--web.listen-address=127.0.0.1:${port}`, '--log.level=warn',
    ], { stdio: ['ignore', 'pipe', 'pipe'] });
    prom.stdout!.on('data', (b: Buffer) => { promLog = (promLog + b.toString()).slice(-10_000); });
    prom.stderr!.on('data', (b: Buffer) => { promLog = (promLog + b.toString()).slice(-10_000); });
    await until('prometheus to be ready', async () => {
      if (prom!.exitCode !== null) throw new Error(`prometheus exited (${prom!.exitCode}):\n${promLog}`);
      return (await fetch(`${promUrl}/-/ready`, { signal: AbortSignal.timeout(2000) })).ok;
    }, 30_000);
    await until('both agents scraped (up == 1)', async () => (await query('up{job="director"} == 1')).length === 2, 30_000);
  }, 600_000);

  afterAll(async () => {
    if (prom && prom.exitCode === null) {
      prom.kill('SIGTERM');
      await Promise.race([new Promise((r) => prom!.once('exit', r)), sleep(5000)]);
      if (prom.exitCode === null) prom.kill('SIGKILL');
    }
    abort.abort();
    if (lab) await lab.done.catch(() => {});
    if (tmp) await rm(tmp, { recursive: true, force: true });
  }, 60_000);

  it(`every panel's query returns data, and the DR service's rate agrees with the console's within ${TOLERANCE * 100}%`, async () => {
    const t0 = Date.now();
    // the console's view: the master's stats ticks over the WebSocket, decoded as the console does
    // stamped with the host's clock on arrival: Prometheus stamps its scrapes with the host's clock, the agent its ticks with the guest's
    const ticks: { at: number; guestAt: number; cps: number }[] = [];
    const wsc = createWSClient({
      url: `${master.url.replace(/^http/, 'ws')}/trpc-ws`,
      WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
      connectionParams: { token: master.viewerToken },
    });
    const live = new LiveTable();
    const trpc = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsc })] });
    const sub = trpc.stats.onTick.subscribe({ watch: [] }, {
      onData: (e) => {
        if (!live.apply(e.data)) return;
        const s = live.services.get(DR_ID);
        if (s) ticks.push({ at: Date.now(), guestAt: live.at, cps: s.v.cps });
      },
    });
    try {
      // a window of steady traffic, plus time for a few scrapes after its end and for the health checks to run
      await sleep((WINDOW_S + 3) * 1000);
    } finally {
      sub.unsubscribe();
      wsc.close();
    }

    // each panel's every target, with the variables filled in
    const empty: string[] = [];
    let queries = 0;
    for (const p of dashboard.panels.filter((x) => x.type !== 'row')) {
      for (const t of p.targets ?? []) {
        queries++;
        const expr = substitute(t.expr);
        expect(expr, `${p.title}: a variable left unsubstituted`).not.toMatch(/\$/);
        const r = await query(expr);
        if (r.length === 0) empty.push(`${p.title} (${t.refId}): ${expr}`);
      }
    }
    console.log(`${queries} dashboard queries evaluated, ${queries - empty.length} returned data`);
    expect(empty, 'panels whose query returned no data').toEqual([]);

    // the rate over the last whole window the ticks cover, both ways; ending a second before the last tick, so
    // Prometheus has scraped past the window's end
    const end = ticks.at(-1)!.at - 1000;
    const start = end - WINDOW_S * 1000;
    const skewMs = Math.round(ticks.reduce((a, x) => a + (x.guestAt - x.at), 0) / ticks.length);
    const scrapes = await query(`count_over_time(up{instance="${master.id}"}[${WINDOW_S}s])`, end / 1000);
    const good = await query(`sum_over_time(up{instance="${master.id}"}[${WINDOW_S}s])`, end / 1000);
    const slowest = await query(`max_over_time(scrape_duration_seconds{instance="${master.id}"}[${WINDOW_S}s])`, end / 1000);
    const inWindow = ticks.filter((x) => x.at > start && x.at <= end);
    const consoleRate = inWindow.reduce((a, x) => a + x.cps, 0) / inWindow.length;
    const [v] = await query(`rate(director_ipvs_service_connections_total{instance="${master.id}",service="${DR_ID}"}[${WINDOW_S}s])`, end / 1000);
    const promRate = Number(v!.value[1]);
    const allowed = Math.max(TOLERANCE * consoleRate, 1);
    console.log(`DR service ${DR_ID} on ${master.id} over ${WINDOW_S} s: Prometheus ${promRate.toFixed(2)}/s, console ${consoleRate.toFixed(2)}/s `
      + `(${inWindow.length} ticks), generator ${RATE}/s; ${good[0]?.value[1] ?? 0} of ${scrapes[0]?.value[1] ?? 0} scrapes in the window answered (slowest ${Number(slowest[0]?.value[1] ?? 0).toFixed(2)} s), `
      + `guest clock ${skewMs} ms off the tick's arrival; differ by ${Math.abs(promRate - consoleRate).toFixed(2)} (allowed ${allowed.toFixed(2)}); test body ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    expect(inWindow.length).toBeGreaterThanOrEqual(WINDOW_S / 2);
    expect(consoleRate).toBeGreaterThan(RATE / 2);
    expect(Math.abs(promRate - consoleRate)).toBeLessThanOrEqual(allowed);
  });

  it.skipIf(!existsSync(PROMTOOL))('promtool check metrics finds no naming problem in a real scrape of the master (prom-client\'s own defaults aside)', async () => {
    const r = await fetch(`${master.url}/metrics`, { headers: { authorization: `Bearer ${master.viewerToken}` } });
    const text = await r.text();
    for (const f of ['director_health_state', 'director_ha_vrrp_state', 'director_ha_failovers_total', 'director_ipvs_conn_entries']) expect(text).toContain(`\n${f}{`);
    const out = spawnSync(PROMTOOL, ['check', 'metrics'], { input: text, encoding: 'utf8' });
    const ours = `${out.stdout}${out.stderr}`.split('\n').filter((l) => l && !/^director_agent_nodejs_active_(handles|requests|resources)_total non-counter/.test(l));
    expect(ours).toEqual([]);
  });
});
