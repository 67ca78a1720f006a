/**
 * Health checks against real HTTP servers in namespaces, acting on the lab
 * kernel's IPVS table through netlink; ipvsadm and client requests through
 * the VIP are the witnesses. The director is the guest's root namespace
 * (where this test, its checks and IPVS run):
 *
 *   hcl (client) 10.7.0.2 ── hc-c ── root 10.7.0.1, VIP 10.7.0.100 on lo
 *                                    hc-1 172.17.1.1 ── eth0 172.17.1.2  hrs1 (HTTP :80, default via .1)
 *                                    hc-2 172.17.2.1 ── eth0 172.17.2.2  hrs2 (HTTP :80, default via .1)
 *
 * NAT service TCP 10.7.0.100:80 -> 172.17.{1,2}.2:80, rr, weights 1 and 2.
 * Each HTTP server answers "from hrsN", or 500 while /tmp/hc-<ns>-500 exists.
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import { existsSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ServiceKey } from '@/lib/ipvs/model';
import { healthServiceSchema } from '@/lib/schemas/health';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { silentLog } from '../api/testing';
import { dst, ipvsadm, sh, svc, tcp } from '../ipvs/kernel-test-helpers';
import type { NetlinkIpvs } from '../ipvs/netlink-client';
import { openIpvs } from '../ipvs/open';
import { HealthService } from './service';

const VIP = tcp('10.7.0.100', 80) as Extract<ServiceKey, { kind: 'addr' }>;
const RS1 = dst('172.17.1.2', 80, { forward: 'nat', weight: 1 });
const RS2 = dst('172.17.2.2', 80, { forward: 'nat', weight: 2 });
const DELAY_LOOP = 1, RETRY = 1;
const DETECT_MS = (DELAY_LOOP * (RETRY + 1) + 1) * 1000;

const SETUP = `
set -e
ip netns add hcl; ip netns add hrs1; ip netns add hrs2
ip link add hc-c type veth peer name eth0 netns hcl
ip link add hc-1 type veth peer name eth0 netns hrs1
ip link add hc-2 type veth peer name eth0 netns hrs2
ip addr add 10.7.0.1/24 dev hc-c; ip link set hc-c up
ip addr add 172.17.1.1/24 dev hc-1; ip link set hc-1 up
ip addr add 172.17.2.1/24 dev hc-2; ip link set hc-2 up
ip link set lo up; ip addr add 10.7.0.100/32 dev lo
sysctl -qw net.ipv4.ip_forward=1
ip -n hcl addr add 10.7.0.2/24 dev eth0; ip -n hcl link set eth0 up; ip -n hcl link set lo up
ip -n hcl route add 10.7.0.100/32 via 10.7.0.1
for i in 1 2; do
  ip -n hrs$i addr add 172.17.$i.2/24 dev eth0; ip -n hrs$i link set eth0 up; ip -n hrs$i link set lo up
  ip -n hrs$i route add default via 172.17.$i.1
done
`;
const TEARDOWN = `
for n in hcl hrs1 hrs2; do ip netns del $n 2>/dev/null || true; done
ip addr del 10.7.0.100/32 dev lo 2>/dev/null || true
rm -f /tmp/hc-hrs1-500 /tmp/hc-hrs2-500
`;

const SERVER = `
const fs = require('fs'), name = process.argv[1];
require('http').createServer((req, res) => {
  if (fs.existsSync('/tmp/hc-' + name + '-500')) { res.statusCode = 500; return res.end('broken\\n'); }
  res.end('from ' + name + '\\n');
}).listen(80, '0.0.0.0', () => console.log('ready'));
`;

const servers = new Map<string, ChildProcess>();

function startServer(ns: string): Promise<void> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', SERVER, ns], { stdio: ['ignore', 'pipe', 'inherit'] });
  servers.set(ns, child);
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    child.once('exit', (code) => reject(new Error(`HTTP server in ${ns} exited (${code}) before listening`)));
  });
}

async function stopServer(ns: string): Promise<void> {
  const c = servers.get(ns);
  if (!c || c.exitCode !== null) return;
  const gone = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await gone;
  servers.delete(ns);
}

const run = promisify(execFile);

/**
 * Weights as `ipvsadm -Ln` prints them: "172.17.1.2:80" -> weight. Asynchronous:
 * the checks run in this process, and a blocking exec would stall their timers.
 */
async function ipvsadmWeights(): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const line of (await run('ipvsadm', ['-Ln'])).stdout.split('\n')) {
    const m = /^ {2}-> (\S+)\s+\S+\s+(\d+)\s+\d+\s+\d+\s*$/.exec(line);
    if (m) out[m[1]!] = Number(m[2]);
  }
  return out;
}

async function waitFor(what: string, cond: () => boolean | Promise<boolean>, limitMs: number): Promise<number> {
  const t0 = Date.now();
  while (!(await cond())) {
    if (Date.now() - t0 > limitMs) throw new Error(`${what}: not within ${limitMs} ms; ipvsadm -Ln:\n${ipvsadm('-Ln')}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return Date.now() - t0;
}

async function clientGets(n: number): Promise<string[]> {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push((await run('ip', ['netns', 'exec', 'hcl', 'curl', '-sS', '--max-time', '3', 'http://10.7.0.100/'])).stdout.trim());
  return out;
}

const weightOf = async (a: string) => (await ipvsadmWeights())[`${a}:80`];

const config = () => healthServiceSchema.parse({
  service: VIP,
  timing: { delayLoop: DELAY_LOOP, retry: RETRY, delayBeforeRetry: DELAY_LOOP, connectTimeout: 1, warmup: 0 },
  onFailure: 'quiesce',
  realServers: [RS1, RS2].map((d) => ({ destination: d, checks: [{ type: 'http', urls: [{ path: '/', statusCodes: ['200'] }] }] })),
});

describe('health checks with real servers in the lab kernel', () => {
  let ipvs: NetlinkIpvs;
  let health: HealthService;
  let dir: string;
  const open = async () => {
    health = await HealthService.open({ backend: ipvs, writeLock: new Mutex(), journal: await Journal.open(dir), log: silentLog, stateDir: dir, reloadMs: 0 });
    await health.start();
  };
  /** Resolves with the time the agent finished acting on addr's next transition to `to` (the kernel write is acknowledged by then). */
  const acted = async (addr: string, to: string, limitMs: number): Promise<number> => {
    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(), limitMs);
    try {
      for await (const e of health.transitions(ac.signal)) if (e.destination.address === addr && e.to === to) return Date.now();
    } finally {
      clearTimeout(timer);
      ac.abort();
    }
    throw new Error(`no ${to} transition for ${addr} within ${limitMs} ms`);
  };
  const op = { role: 'operator' as const, tokenName: 'kernel-test', remote: 'test' };

  beforeAll(async () => {
    sh(TEARDOWN);
    sh(SETUP);
    dir = mkdtempSync('/tmp/health-state-');
    ipvs = (await openIpvs()) as NetlinkIpvs;
    await ipvs.flush();
    await ipvs.addService(svc(VIP, { scheduler: 'rr' }));
    await ipvs.addDestination(VIP, RS1);
    await ipvs.addDestination(VIP, RS2);
    await Promise.all([startServer('hrs1'), startServer('hrs2')]);
    await open();
    await health.setConfig(config());
    await waitFor('both up', async () => health.list().every((r) => r.state === 'up')
      && JSON.stringify(await ipvsadmWeights()) === JSON.stringify({ '172.17.1.2:80': 1, '172.17.2.2:80': 2 }), 20_000);
  });

  afterAll(async () => {
    health?.stop();
    for (const ns of [...servers.keys()]) await stopServer(ns);
    await ipvs?.flush().catch(() => {});
    ipvs?.close();
    sh(TEARDOWN);
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('traffic reaches both real servers while both are up', async () => {
    expect(await ipvsadmWeights()).toEqual({ '172.17.1.2:80': 1, '172.17.2.2:80': 2 });
    expect(new Set(await clientGets(6))).toEqual(new Set(['from hrs1', 'from hrs2']));
  });

  it(`rs2's HTTP server stopped: weight 0 within delay_loop x (retry+1) + 1 s (${DETECT_MS} ms), new requests all reach rs1`, async () => {
    const done = acted('172.17.2.2', 'down', DETECT_MS + 5000);
    const t0 = Date.now();
    await stopServer('hrs2');
    const took = (await done) - t0;
    // ipvsadm is a witness, not the clock: spawning it in user-mode Linux takes a good part of a second
    const seen = await waitFor('rs2 quiesced', async () => (await weightOf('172.17.2.2')) === 0, 5000);
    console.log(`health: rs2 killed -> weight 0 written in ${took} ms (bound ${DETECT_MS} ms); ipvsadm showed it ${seen} ms later`);
    expect(took).toBeLessThanOrEqual(DETECT_MS);
    expect(await weightOf('172.17.1.2')).toBe(1);
    expect(await clientGets(8)).toEqual(Array(8).fill('from hrs1'));
    const row = health.list().find((r) => r.destination.address === '172.17.2.2')!;
    expect(row.state).toBe('down');
    expect(row.message).toBe('connection refused');
  });

  it('rs2 started again: its configured weight is restored', async () => {
    const done = acted('172.17.2.2', 'up', 20_000);
    await startServer('hrs2');
    const t0 = Date.now();
    const took = (await done) - t0;
    await waitFor('rs2 restored', async () => (await weightOf('172.17.2.2')) === 2, 5000);
    // up on the first success: the next check (within a delay loop) plus one check's time, which in
    // user-mode Linux is most of a second (1.9 s measured), hence 2 s of slack
    const bound = (DELAY_LOOP + 2) * 1000;
    console.log(`health: rs2 listening -> weight 2 written in ${took} ms (bound ${bound} ms)`);
    expect(took).toBeLessThanOrEqual(bound);
    expect(new Set(await clientGets(6))).toEqual(new Set(['from hrs1', 'from hrs2']));
  });

  it('a server that accepts TCP but answers 500 is caught by HTTP GET, not by TCP connect', async () => {
    writeFileSync('/tmp/hc-hrs2-500', '');
    const tcpNow = await health.checkNow(VIP, RS2, { type: 'tcp', timing: {} });
    const httpNow = await health.checkNow(VIP, RS2);
    expect(tcpNow.ok).toBe(true);
    expect(httpNow).toMatchObject({ ok: false, results: [{ message: 'HTTP 500, expected 200' }] });
    // checkNow is a dry run: nothing moved yet
    expect(await weightOf('172.17.2.2')).toBe(2);
    await waitFor('rs2 quiesced on HTTP 500', async () => (await weightOf('172.17.2.2')) === 0, DETECT_MS + 5000);
    expect(health.list().find((r) => r.destination.address === '172.17.2.2')!.message).toBe('HTTP 500, expected 200');
    unlinkSync('/tmp/hc-hrs2-500');
    await waitFor('rs2 back after 500s stop', async () => (await weightOf('172.17.2.2')) === 2, (DELAY_LOOP + 1) * 1000 + 5000);
  });

  it('maintenance holds weight 0 through passing checks', async () => {
    await health.setMaintenance(VIP, RS1, true, op);
    expect(await weightOf('172.17.1.2')).toBe(0);
    await new Promise((r) => setTimeout(r, DELAY_LOOP * 3000));
    expect(await weightOf('172.17.1.2')).toBe(0);
    expect(health.list().find((r) => r.destination.address === '172.17.1.2')).toMatchObject({ state: 'maintenance', health: 'up' });
    expect(await clientGets(4)).toEqual(Array(4).fill('from hrs2'));
  });

  it('checks and maintenance survive a restart of the scheduler; the new one still detects failures', async () => {
    health.stop();
    await open();
    expect(health.getConfig().map((c) => c.realServers.map((r) => [r.destination.address, r.maintenance]))).toEqual([
      [['172.17.1.2', true], ['172.17.2.2', false]],
    ]);
    await waitFor('rs2 seen up again', () => health.list().find((r) => r.destination.address === '172.17.2.2')!.state === 'up', 5000);
    expect(await ipvsadmWeights()).toEqual({ '172.17.1.2:80': 0, '172.17.2.2:80': 2 });
    await stopServer('hrs2');
    await waitFor('rs2 quiesced after restart', async () => (await weightOf('172.17.2.2')) === 0, DETECT_MS + 5000);
    await startServer('hrs2');
    await waitFor('rs2 restored after restart', async () => (await weightOf('172.17.2.2')) === 2, (DELAY_LOOP + 1) * 1000 + 5000);
    await health.setMaintenance(VIP, RS1, false, op);
    expect(await ipvsadmWeights()).toEqual({ '172.17.1.2:80': 1, '172.17.2.2:80': 2 });
  });

  it('checks go only to real servers of the service', async () => {
    await expect(health.checkNow(VIP, { family: 'inet', address: '10.7.0.2', port: 80 })).rejects.toThrow(/not a real server of TCP 10\.7\.0\.100:80/);
    const bad = config();
    bad.realServers.push({ destination: dst('10.7.0.2', 80, { forward: 'nat' }), checks: [], maintenance: false });
    await expect(health.setConfig(bad)).rejects.toThrow(/10\.7\.0\.2:80 is not a real server/);
    expect(existsSync(`${dir}/health.json`)).toBe(true);
    expect(health.history({ limit: 100 }).length).toBeGreaterThanOrEqual(8);
  });
});
