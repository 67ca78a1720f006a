/**
 * Connection states through the agent's API (connections.summary and
 * connections.list over tRPC HTTP), with real traffic from a client namespace
 * inside the lab kernel:
 *   - a DR real server that drops SYNs (the VIP is missing on its loopback, so
 *     it neither accepts nor forwards them) piles up SYN_RECV entries;
 *   - healthy DR traffic shows ESTABLISHED (held connections) and FIN_WAIT
 *     (finished ones: the director sees only the client's side);
 *   - healthy NAT traffic shows TIME_WAIT (the director sees both sides).
 *
 *   kb0 (bridge, director: DIP 192.168.160.1/24, VIP 192.168.160.100/32)
 *     ├─ kc  client 192.168.160.200
 *     ├─ kr1 real server 192.168.160.12, VIP on lo, HTTP on :80 (/hold never answers)
 *     └─ kr2 real server 192.168.160.13, NO VIP on lo: drops what DR sends it
 *   DR  VIP:80   -> kr1:80
 *   DR  VIP:81   -> kr2:81 (SYNs dropped)
 *   NAT VIP:8080 -> kr1:80 (kr1 answers NAT clients through the DIP by policy routing)
 */
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { createTRPCClient, httpLink } from '@trpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ConnSummary } from '@/lib/conn/summary';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, svc, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { BridgeLab } from '../ipvs/bridge-lab';
import { Auth } from './auth';
import { procConnSource } from '../live/conn-source';
import { procIpvsFile } from '../live/sampler';
import { TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import type { AppRouter } from './router';
import { startAgentServer, type AgentServer } from './server';

const run = promisify(execFile);
const log = pino({ level: 'warn' }, pino.destination(2));
const TOKENS = { viewer: 'viewer_' + 'c'.repeat(40), operator: 'operator_' + 'C'.repeat(40) };

const VIP = '192.168.160.100';
const CLIENT = '192.168.160.200';
const RS1 = '192.168.160.12';
const RS2 = '192.168.160.13';
const DR_OK = tcp(VIP, 80);
const DR_DROP = tcp(VIP, 81);
const NAT = tcp(VIP, 8080);
const HELD = 4;
const FINISHED = 5;
const SYNS = 6;

const LAN = new BridgeLab({ bridge: 'kb0', net: '192.168.160', vip: VIP, hosts: { kc: CLIENT, kr1: RS1, kr2: RS2 } });
// NAT replies (from the RIP) go back through the director; DR replies (from the VIP) go straight to the client
const SETUP = `${LAN.drRealServer('kr1')}\n${LAN.natReplies('kr1', 160)}`;
// /hold is accepted and never answered, so its connection stays ESTABLISHED; anything else is
// answered and closed by the server first
const SERVER = `require('http').createServer((q, r) => {
  if (q.url === '/hold') return;
  r.setHeader('connection', 'close');
  r.end('ok\\n');
}).listen(80, '0.0.0.0', () => console.log('ready'));`;

let backend: IpvsBackend;
let hub: TableHub;
let srv: AgentServer;
let held: ChildProcess | null = null;

const client = () => createTRPCClient<AppRouter>({
  links: [httpLink({ url: `${srv.url}/trpc`, headers: { authorization: `Bearer ${TOKENS.viewer}` } })],
});

beforeAll(async () => {
  LAN.up(SETUP);
  backend = await openIpvs();
  await backend.flush();
  await backend.addService(svc(DR_OK, { scheduler: 'rr' }));
  await backend.addDestination(DR_OK, dst(RS1, 80, { forward: 'dr' }));
  await backend.addService(svc(DR_DROP, { scheduler: 'rr' }));
  await backend.addDestination(DR_DROP, dst(RS2, 81, { forward: 'dr' }));
  await backend.addService(svc(NAT, { scheduler: 'rr' }));
  await backend.addDestination(NAT, dst(RS1, 80, { forward: 'nat' }));
  hub = new TableHub({ backend, log, tickMs: 500, structure: procIpvsFile() });
  hub.start();
  srv = await startAgentServer({
    deps: {
      backend, hub, journal: await Journal.open(null), writeLock: new Mutex(), log, conns: procConnSource(),
      version: 'kernel-test', startedAt: Date.now(),
    },
    auth: Auth.fromTokens(TOKENS, log),
    listen: { host: '127.0.0.1', port: 0 },
    allowOrigins: [],
  });
  await LAN.spawnNode('kr1', SERVER);
});

afterAll(async () => {
  held?.kill('SIGKILL');
  await srv?.close();
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  LAN.down();
});

function byState(s: ConnSummary, label: string): Record<string, number> {
  return s.services.find((x) => x.label === label)?.byState ?? {};
}

describe('connection states through the agent API', () => {
  it('SYN_RECV piles up on a DR real server that drops SYNs; ESTABLISHED, FIN_WAIT and TIME_WAIT appear for healthy traffic', async () => {
    const c = client();
    const before = await c.connections.summary.query();
    // other kernel tests' entries may linger in the table; this test's VIP must have none yet
    expect(before.services.filter((x) => x.label.includes(VIP)), 'entries for the VIP before any traffic').toEqual([]);

    // held connections: the client waits for an answer that never comes
    held = spawn('ip', ['netns', 'exec', 'kc', 'bash', '-c',
      `for i in $(seq ${HELD}); do curl -s --max-time 120 -o /dev/null http://${VIP}/hold & done; wait`], { stdio: 'ignore' });
    // finished connections on DR and NAT; SYNs to the DR real server that drops them (each curl gives up after 2 s)
    const traffic = await run('ip', ['netns', 'exec', 'kc', 'bash', '-c', `
      ok=0
      for i in $(seq ${FINISHED}); do
        curl -sf --max-time 10 http://${VIP}/ >/dev/null && ok=$((ok+1))
        curl -sf --max-time 10 http://${VIP}:8080/ >/dev/null && ok=$((ok+1))
      done
      for i in $(seq ${SYNS}); do curl -s --connect-timeout 2 -o /dev/null http://${VIP}:81/ & done
      wait
      echo "ok=$ok"`], { timeout: 120_000 });
    expect(traffic.stdout.trim(), 'every healthy request should have been answered').toBe(`ok=${FINISHED * 2}`);

    // the held connections may still be finishing their handshake on a slow lab kernel
    let s = await c.connections.summary.query();
    const t0 = Date.now();
    while ((byState(s, `TCP ${VIP}:80`).ESTABLISHED ?? 0) < HELD && Date.now() - t0 < 20_000) {
      await new Promise((r) => setTimeout(r, 250));
      s = await c.connections.summary.query();
    }
    const drOk = byState(s, `TCP ${VIP}:80`);
    const drDrop = byState(s, `TCP ${VIP}:81`);
    const nat = byState(s, `TCP ${VIP}:8080`);
    const all = JSON.stringify({ drOk, drDrop, nat });
    expect(drDrop.SYN_RECV, all).toBe(SYNS);
    expect(drDrop.ESTABLISHED ?? 0, all).toBe(0);
    expect(drOk.ESTABLISHED, all).toBe(HELD);
    expect(drOk.FIN_WAIT, all).toBe(FINISHED);
    expect(drOk.SYN_RECV ?? 0, all).toBe(0);
    expect(nat.TIME_WAIT, all).toBe(FINISHED);
    // per destination: the SYN_RECV entries all point at the real server that drops them
    const rs2 = s.destinations.find((d) => d.label === `${RS2}:81`);
    expect(rs2?.byState.SYN_RECV, JSON.stringify(s.destinations)).toBe(SYNS);
    const rs1dr = s.destinations.find((d) => d.serviceLabel === `TCP ${VIP}:80` && d.label === `${RS1}:80`);
    expect(rs1dr?.byState.ESTABLISHED).toBe(HELD);

    // the same counts as ipvsadm's own listing of the table
    const listed = ipvsadm('-Lcn').split('\n');
    const count = (state: string, vport: number) => listed.filter((l) => l.includes(` ${state} `) && l.includes(`${VIP}:${vport} `)).length;
    expect(count('SYN_RECV', 81)).toBe(SYNS);
    expect(count('ESTABLISHED', 80)).toBe(HELD);
    expect(count('TIME_WAIT', 8080)).toBe(FINISHED);

    // connections.list filters on the agent: state, service, destination and client CIDR
    // the state filter, with this test's client (the doctor's lab faults leave SYN_RECV entries of their own for up to 60 s)
    const syn = await c.connections.list.query({ state: 'SYN_RECV', client: `${CLIENT}/32`, limit: 100 });
    expect(syn.total).toBe(SYNS);
    for (const e of syn.entries) {
      expect(e).toMatchObject({ protocol: 'tcp', clientAddr: CLIENT, vaddr: VIP, vport: 81, destAddr: RS2, destPort: 81, state: 'SYN_RECV' });
    }
    const est = await c.connections.list.query({ service: DR_OK, state: 'ESTABLISHED', client: `${CLIENT}/32` });
    expect(est.total).toBe(HELD);
    expect(new Set(est.entries.map((e) => e.destAddr))).toEqual(new Set([RS1]));
    const toRs2 = await c.connections.list.query({ destination: { family: 'inet', address: RS2, port: 81 } });
    expect(toRs2.total).toBe(SYNS);
    // a documentation range no lab namespace uses: other test files leave their own clients' entries (10.x) behind
    const elsewhere = await c.connections.list.query({ client: '203.0.113.0/24' });
    expect(elsewhere.total).toBe(0);
    const tw = await c.connections.list.query({ service: NAT, state: 'TIME_WAIT', limit: 2 });
    expect(tw.total).toBe(FINISHED);
    expect(tw.entries).toHaveLength(2);
    const tw2 = await c.connections.list.query({ service: NAT, state: 'TIME_WAIT', limit: 100, cursor: 2 });
    expect(tw2.entries).toHaveLength(FINISHED - 2);
  });
});
