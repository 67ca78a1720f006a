/**
 * Hash skew in the lab kernel: an sh service whose every connection comes
 * from one client address lands on one real server, and skew.list says so,
 * with the shares the kernel's own counters give (`ipvsadm -Ln --stats
 * --exact`) and the flag that helps; with sh-port set the load spreads and
 * the alarm goes away.
 *
 *   ks0 (bridge, director: DIP 192.168.171.1/24, VIP 192.168.171.100/32)
 *     ├─ ksc  client 192.168.171.200
 *     ├─ ksr1 real server 192.168.171.12, HTTP on :80 (NAT: replies through the DIP)
 *     └─ ksr2 real server 192.168.171.13
 */
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, svc, tcp } from '../ipvs/kernel-test-helpers';
import { openIpvs } from '../ipvs/open';
import { BridgeLab, HTTP_OK_SERVER } from '../ipvs/bridge-lab';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import type { AgentDeps } from '../api/context';
import { callerFor, VIEWER } from '../api/testing';
import { TableHub } from './hub';
import { procIpvsFile } from './sampler';
import { SkewWatch } from './skew';

const log = pino({ level: 'warn' }, pino.destination(2));
const VIP = '192.168.171.100';
const RS = ['192.168.171.12', '192.168.171.13'];
const SVC = tcp(VIP, 80);
const FLAGS = { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false };

const LAN = new BridgeLab({ bridge: 'ks0', net: '192.168.171', vip: VIP, hosts: { ksc: '192.168.171.200', ksr1: RS[0]!, ksr2: RS[1]! } });
/** One client address, a new connection (and source port) for every request, about 20 a second. */
const CLIENT = `const http = require('http'); const go = () => { const q = http.get({ host: '${VIP}', port: 80, agent: false }, (r) => r.resume()); q.on('error', () => {}); q.setTimeout(2000, () => q.destroy()); }; setInterval(go, 50);`;

let backend: IpvsBackend;
let hub: TableHub;
let skew: SkewWatch;
let deps: AgentDeps;

/** Each real server's connection counter, from ipvsadm in the same kernel. */
function kernelConns(): number[] {
  const out = ipvsadm('-Ln', '--stats', '--exact');
  return RS.map((a) => Number(new RegExp(`->\\s+${a.replace(/\./g, '\\.')}:80\\s+(\\d+)`).exec(out)?.[1] ?? NaN));
}

async function until<T>(what: string, ms: number, f: () => Promise<T | null>): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== null) return v;
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 500));
  }
}

beforeAll(async () => {
  LAN.up('ip -n ksr1 route add default via 192.168.171.1\nip -n ksr2 route add default via 192.168.171.1');
  backend = await openIpvs();
  await backend.flush();
  await backend.addService(svc(SVC, { scheduler: 'sh' }));
  for (const a of RS) await backend.addDestination(SVC, dst(a, 80, { forward: 'nat', weight: 1 }));
  hub = new TableHub({ backend, log, tickMs: 500, structure: procIpvsFile() });
  hub.start();
  skew = new SkewWatch(hub, { windowMs: 6000, holdMs: 3000, minConns: 20, threshold: 0.2 }, 1000);
  skew.start();
  deps = { backend, hub, journal: await Journal.open(null), writeLock: new Mutex(), log, conns: null, version: 'kernel-test', startedAt: Date.now(), skew };
  await LAN.spawnNode('ksr1', HTTP_OK_SERVER);
  await LAN.spawnNode('ksr2', HTTP_OK_SERVER);
  await LAN.spawnNode('ksc', CLIENT, { ready: false });
}, 60_000);

afterAll(async () => {
  skew?.stop();
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  LAN.down();
});

describe('hash skew', () => {
  it('one client on an sh service: the alarm names the busy server, sh-port and the command; with sh-port the load spreads and it clears', async () => {
    const viewer = callerFor(deps, VIEWER);
    const alarm = await until('the skew alarm', 40_000, async () => (await viewer.skew.list())[0] ?? null);
    const k = kernelConns();
    expect(alarm).toMatchObject({ label: `TCP ${VIP}:80`, scheduler: 'sh', flag: 'sh-port', fix: `ipvsadm -E -t ${VIP}:80 -s sh -b sh-port` });
    // the kernel agrees: one real server has every connection
    const busy = k[0]! > k[1]! ? 0 : 1;
    expect(k[1 - busy], ipvsadm('-Ln', '--stats', '--exact')).toBe(0);
    expect(alarm.servers.find((s) => s.label === `${RS[busy]}:80`)).toMatchObject({ share: 1, expected: 0.5 });
    expect(alarm.conns).toBeGreaterThanOrEqual(20);

    // what the alarm advises: hash the port too
    await backend.updateService(svc(SVC, { scheduler: 'sh', flags: { ...FLAGS, sched2: true } }));
    expect(ipvsadm('-Ln')).toMatch(/TCP\s+192\.168\.171\.100:80 sh \(sh-port\)/);
    const before = kernelConns();
    await until('the alarm to clear', 40_000, async () => ((await viewer.skew.list()).length === 0 ? true : null));
    const after = kernelConns();
    // both real servers now take new connections
    expect(after[0]! - before[0]!, JSON.stringify({ before, after })).toBeGreaterThan(0);
    expect(after[1]! - before[1]!, JSON.stringify({ before, after })).toBeGreaterThan(0);
  }, 120_000);
});
