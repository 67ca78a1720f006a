/**
 * The agent on the lab kernel's real IPVS table, over real HTTP+WebSocket on
 * 127.0.0.1: a change made with ipvsadm appears as a table event within 2 s,
 * and HTTP traffic through a NAT service shows as rates on the destination
 * that served it (and not on the other one).
 *
 *   ac (client) 10.9.0.2/24 ── a-c ── root (director) 10.9.0.1/24
 *                                      a-n 172.19.0.1/24 ── n-eth0 172.19.0.2/24  an (NAT real server, :8080)
 *                                      lo: 207.175.45.110 (VIP)
 *   NAT: 207.175.45.110:8080 -> 172.19.0.2:8080 (weight 1), 172.19.0.3:8080 (weight 0: must see no traffic)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import type { TableChangeEvent } from '@/lib/agent/events';
import { LiveTable } from '@/lib/agent/live-wire';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, sh, svc, tcp } from '../ipvs/kernel-test-helpers';
import type { TableHub } from '../live/hub';
import { kernelAgent, type KernelAgent } from './kernel-agent-testing';
import type { AppRouter } from './router';
import type { AgentServer } from './server';

// async, so the agent (same process) keeps sampling while commands run
const run = promisify(execFile);
const log = pino({ level: 'warn' }, pino.destination(2));

const VIP = tcp('207.175.45.110', 8080);
const TOKENS = { viewer: 'viewer_' + 'k'.repeat(40), operator: 'operator_' + 'K'.repeat(40) };

const SETUP = `
set -e
ip netns add ac; ip netns add an
ip link add a-c type veth peer name c-eth0 netns ac
ip link add a-n type veth peer name n-eth0 netns an
ip addr add 10.9.0.1/24 dev a-c; ip link set a-c up
ip addr add 172.19.0.1/24 dev a-n; ip link set a-n up
ip link set lo up
ip addr add 207.175.45.110/32 dev lo
sysctl -qw net.ipv4.ip_forward=1
ip -n ac addr add 10.9.0.2/24 dev c-eth0; ip -n ac link set c-eth0 up; ip -n ac link set lo up
ip -n ac route add 207.175.45.0/24 via 10.9.0.1
ip -n an addr add 172.19.0.2/24 dev n-eth0; ip -n an link set n-eth0 up; ip -n an link set lo up
ip -n an route add default via 172.19.0.1
`;
const TEARDOWN = `
for n in ac an; do ip netns del $n 2>/dev/null || true; done
ip addr del 207.175.45.110/32 dev lo 2>/dev/null || true
`;
const SERVER = `require('http').createServer((q, r) => r.end('ok\\n')).listen(8080, '0.0.0.0', () => console.log('ready'));`;

let agent: KernelAgent | undefined;
let backend: IpvsBackend;
let hub: TableHub;
let srv: AgentServer;
let realServer: ChildProcess | null = null;

function wsClient() {
  const wsc = createWSClient({
    url: srv.wsUrl!,
    WebSocket: WebSocket as unknown as typeof globalThis.WebSocket,
    connectionParams: { token: TOKENS.viewer },
  });
  return { wsc, c: createTRPCClient<AppRouter>({ links: [wsLink({ client: wsc })] }) };
}

beforeAll(async () => {
  sh(TEARDOWN);
  sh(SETUP);
  // as `director agent` runs it (alternate reads, no counter reads while the totals stand still), at 4 ticks a second
  agent = await kernelAgent({ tokens: TOKENS, log, tickMs: 250 });
  ({ backend, hub, srv } = agent);
  realServer = spawn('ip', ['netns', 'exec', 'an', process.execPath, '-e', SERVER], { stdio: ['ignore', 'pipe', 'inherit'] });
  await new Promise<void>((resolve, reject) => {
    realServer!.stdout!.on('data', (d: Buffer) => { if (d.toString().includes('ready')) resolve(); });
    realServer!.once('exit', (code) => reject(new Error(`real server exited (${code}) before listening`)));
  });
});

afterAll(async () => {
  realServer?.kill();
  await agent?.close();
  sh(TEARDOWN);
});

describe('agent on the real kernel', () => {
  it('reports a service added with ipvsadm as a table event within 2 s', async () => {
    const { c, wsc } = wsClient();
    const events: { at: number; ev: TableChangeEvent }[] = [];
    let started = false;
    const sub = c.table.onChange.subscribe({}, {
      onStarted: () => { started = true; },
      onData: (e) => events.push({ at: Date.now(), ev: e.data }),
      onError: (err) => { throw err; },
    });
    const w0 = Date.now();
    while (!started && Date.now() - w0 < 30_000) await new Promise((r) => setTimeout(r, 25));
    expect(started, 'subscription did not start').toBe(true);
    await new Promise((r) => setTimeout(r, 500)); // past the sample that the subscription starts from
    const samplesBefore = hub.samples;
    await run('ipvsadm', ['-A', '-t', '207.175.45.200:81', '-s', 'rr']);
    // starting a process in the lab kernel takes a while: time from when the change is in the kernel
    const t0 = Date.now();
    while (Date.now() - t0 < 2000 && !events.some((e) => e.ev.changes.some((ch) => ch.type === 'service_added'))) {
      await new Promise((r) => setTimeout(r, 25));
    }
    sub.unsubscribe();
    wsc.close();
    const hit = events.find((e) => e.ev.changes.some((ch) => ch.type === 'service_added'));
    expect(hit, `no service_added event within 2 s (samples taken meanwhile: ${hub.samples - samplesBefore}; events: ${JSON.stringify(events)})`).toBeDefined();
    expect(hit!.at - t0).toBeLessThan(2000);
    const added = hit!.ev.changes.find((ch) => ch.type === 'service_added')!;
    expect(added).toMatchObject({ service: { key: { address: '207.175.45.200', port: 81 }, scheduler: 'rr' } });
    // the event carries the service as served, so a console patches its list without reading the table
    expect(hit!.ev.services.find((x) => x.key.kind === 'addr' && x.key.port === 81)).toMatchObject({ scheduler: 'rr', destinations: [], readAt: { config: hit!.ev.at } });
    ipvsadm('-D', '-t', '207.175.45.200:81');
    expect(ipvsadm('-Ln')).not.toContain('207.175.45.200');
  });

  it('a mutation replies with the object a following fresh read returns; a plain read serves the same from the hub', async () => {
    const op = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${srv.url}/trpc`, headers: { authorization: `Bearer ${TOKENS.operator}` } })] });
    const key = tcp('207.175.45.201', 82);
    const strip = <T extends { readAt: unknown }>(x: T) => ({ ...x, readAt: null });
    try {
      const created = await op.services.create.mutate({ service: { key, scheduler: 'sh' }, destinations: [dst('172.19.0.7', 82, { weight: 3 })] });
      expect(strip(created.service)).toEqual(strip(await op.services.get.query({ key, fresh: true })));
      const changed = await op.destinations.update.mutate({ service: key, destination: { family: 'inet', address: '172.19.0.7', port: 82 }, patch: { weight: 5, upperThreshold: 9 } });
      expect(changed.destination).toMatchObject({ weight: 5, upperThreshold: 9 });
      const asked = Date.now();
      const fresh = await op.services.list.query({ fresh: true });
      const mine = fresh.find((x) => x.key.kind === 'addr' && x.key.address === '207.175.45.201')!;
      expect(strip(changed.service)).toEqual(strip(mine));
      // every real server's counters were read by this call
      expect(mine.readAt.stats).toBeGreaterThanOrEqual(asked);
      expect(mine.readAt.stats).toBeLessThanOrEqual(mine.readAt.config);
      // served from the hub: the same table, read no earlier than the fresh one
      const plain = await op.services.list.query();
      expect(plain.map(strip)).toEqual(fresh.map(strip));
      expect(plain[0]!.readAt.config).toBeGreaterThanOrEqual(fresh[0]!.readAt.config);
    } finally {
      ipvsadm('-D', '-t', '207.175.45.201:82');
    }
  });

  it('shows rates on the destination that served the traffic, within 3 s', async () => {
    await backend.addService(svc(VIP, { scheduler: 'rr' }));
    await backend.addDestination(VIP, dst('172.19.0.2', 8080, { forward: 'nat', weight: 1 }));
    await backend.addDestination(VIP, dst('172.19.0.3', 8080, { forward: 'nat', weight: 0 }));
    const { c, wsc } = wsClient();
    const table = new LiveTable();
    let sawRate = false;
    let ticks = 0;
    const sub = c.stats.onTick.subscribe({}, {
      onError: (err) => { throw err; },
      onData: (e) => {
        ticks++;
        if (!table.apply(e.data)) throw new Error(`tick ${e.data.seq} did not follow the one before`);
        const d = table.services.get('tcp:207.175.45.110:8080')?.dests.get('172.19.0.2:8080');
        // the agent's rates, connections and packets both
        if (d && d.v.inPps > 0 && d.v.cps > 0) sawRate = true;
      },
    });
    const w0 = Date.now();
    while (ticks === 0 && Date.now() - w0 < 30_000) await new Promise((r) => setTimeout(r, 25));
    expect(ticks, 'no stats tick arrived').toBeGreaterThan(0);
    const t0 = Date.now();
    for (let i = 0; i < 10; i++) await run('ip', ['netns', 'exec', 'ac', 'curl', '-sS', '--max-time', '5', '-o', '/dev/null', 'http://207.175.45.110:8080/']);
    const curlMs = Date.now() - t0;
    const t1 = Date.now();
    while (!sawRate && Date.now() - t1 < 3000) await new Promise((r) => setTimeout(r, 25));
    sub.unsubscribe();
    wsc.close();
    expect(sawRate, `no packet rate on 172.19.0.2:8080 within 3 s of the traffic (curls took ${curlMs} ms; ticks ${ticks}; state ${JSON.stringify([...table.services].map(([k, v]) => [k, v.v, [...v.dests].map(([d, x]) => [d, x.v])]))})`).toBe(true);
    const svcState = table.services.get('tcp:207.175.45.110:8080')!;
    const served = svcState.dests.get('172.19.0.2:8080')!.v;
    const idle = svcState.dests.get('172.19.0.3:8080')!.v;
    expect(served.inBps).toBeGreaterThan(0);
    expect(svcState.v.cps).toBeGreaterThan(0);
    expect(idle.cps).toBe(0);
    expect(idle.inPps).toBe(0);
  });
});
