/**
 * "Remove when drained" in the lab kernel: a real server of a persistent UDP
 * service, drained with removeWhenDrained after real client traffic, stays
 * in `ipvsadm -Ln` while its connection entries and its persistence template
 * are in `ipvsadm -Lcn`, and goes once they have expired, journaled as the
 * drain asked by the operator. Short kernel timeouts (UDP 4 s, persistence
 * 8 s) keep it brief; a bounded poll, no fixed sleeps.
 *
 *   kw0 (bridge, director: DIP 192.168.172.1/24, VIP 192.168.172.100/32)
 *     ├─ kwc  client 192.168.172.200
 *     └─ kwr  real server 192.168.172.12, UDP echo on :5353, replies through the DIP (policy routing)
 *   NAT UDP VIP:5353 -> kwr:5353, persistent 8 s; a second server kwr2 (no traffic) stays
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { dst, ipvsadm, persistent, svc, udp } from '../ipvs/kernel-test-helpers';
import { BridgeLab } from '../ipvs/bridge-lab';
import { openIpvs } from '../ipvs/open';
import { procConnSource } from '../live/conn-source';
import { procIpvsFile } from '../live/sampler';
import { TableHub } from '../live/hub';
import type { AgentDeps } from '../api/context';
import { callerFor, OPERATOR, VIEWER } from '../api/testing';
import { DrainRemovals } from './drain-removals';
import { Journal } from './journal';
import { Mutex } from './mutex';

const run = promisify(execFile);
const log = pino({ level: 'warn' }, pino.destination(2));
const VIP = '192.168.172.100';
const RS = '192.168.172.12';
const OTHER = '192.168.172.13';
const SVC = udp(VIP, 5353);
const PERSIST = 8;
const UDP_TIMEOUT = 4;

const LAN = new BridgeLab({ bridge: 'kw0', net: '192.168.172', vip: VIP, hosts: { kwc: '192.168.172.200', kwr: RS } });
const ECHO = `const u = require('dgram').createSocket('udp4'); u.on('message', (m, r) => u.send(m, r.port, r.address)); u.bind(5353, '0.0.0.0', () => console.log('ready'));`;
/** Three clients' ports, one datagram each, every one answered: prints how many came back. */
const CLIENT = `
const dgram = require('dgram');
let got = 0;
Promise.all([1, 2, 3].map(() => new Promise((res) => {
  const u = dgram.createSocket('udp4');
  const t = setTimeout(() => { u.close(); res(); }, 5000);
  u.on('message', () => { got++; clearTimeout(t); u.close(); res(); });
  u.send('ping', 5353, '${VIP}');
}))).then(() => console.log(got));
`;

let backend: IpvsBackend;
let hub: TableHub;
let deps: AgentDeps;
let timeoutsBefore: string[] = [];

/** Entries of `ipvsadm -Lcn` pointing at the real server (connections and its template). */
function entriesFor(address: string): string[] {
  return ipvsadm('-Lcn').split('\n').filter((l) => l.includes(` ${address}:5353`) || l.includes(` ${address}:0`));
}
const listed = (address: string) => new RegExp(`-> ${address.replace(/\./g, '\\.')}:5353\\s`).test(ipvsadm('-Ln'));

beforeAll(async () => {
  LAN.up(LAN.natReplies('kwr', 172));
  // "Timeout (tcp tcpfin udp): 900 120 300": put back after
  timeoutsBefore = /(\d+)\s+(\d+)\s+(\d+)\s*$/.exec(ipvsadm('-L', '--timeout').trim())!.slice(1);
  ipvsadm('--set', '0', '0', String(UDP_TIMEOUT));
  backend = await openIpvs();
  await backend.flush();
  await backend.addService(svc(SVC, { scheduler: 'rr', flags: persistent, timeout: PERSIST }));
  await backend.addDestination(SVC, dst(RS, 5353, { forward: 'nat', weight: 3 }));
  await backend.addDestination(SVC, dst(OTHER, 5353, { forward: 'nat', weight: 0 }));
  hub = new TableHub({ backend, log, tickMs: 500, structure: procIpvsFile() });
  hub.start();
  deps = {
    backend, hub, journal: await Journal.open(null), writeLock: new Mutex(), log, conns: procConnSource({ pageMaxAgeMs: 200 }),
    version: 'kernel-test', startedAt: Date.now(), drainRemovals: new DrainRemovals(250),
  };
  await LAN.spawnNode('kwr', ECHO);
});

afterAll(async () => {
  deps?.drainRemovals?.close();
  hub?.close();
  await backend?.flush().catch(() => undefined);
  backend?.close();
  if (timeoutsBefore.length === 3) ipvsadm('--set', ...timeoutsBefore);
  LAN.down();
});

describe('remove when drained, in the kernel', () => {
  it('keeps the drained server while its UDP entries and template live, removes it (journaled) once they expire', async () => {
    const clientStart = Date.now();
    const sent = await run('ip', ['netns', 'exec', 'kwc', process.execPath, '-e', CLIENT], { timeout: 30_000 });
    expect(sent.stdout.trim()).toBe('3');
    const op = callerFor(deps, OPERATOR);
    const drained = await op.destinations.drain({ service: SVC, destination: { family: 'inet', address: RS, port: 5353 }, removeWhenDrained: true });
    const drainedAt = Date.now();
    expect(drained.destination.weight).toBe(0);
    expect(drained.removal).toMatchObject({ by: 'operator' });
    // what the kernel holds for it right after the drain: the three flows and the template
    const atDrain = entriesFor(RS);
    expect(atDrain.length, ipvsadm('-Lcn')).toBeGreaterThanOrEqual(1);
    expect(atDrain.some((l) => l.includes('192.168.172.200:0 ')), ipvsadm('-Lcn')).toBe(true);

    // bounded poll: at every look, a server gone from -Ln has no entry left in -Lcn (read after)
    // counters: the kernel's active/inactive/persistent for it (netlink)
    const looks: { at: number; listed: boolean; entries: number; counters: string }[] = [];
    const deadline = Date.now() + 120_000;
    for (;;) {
      const at = Date.now() - drainedAt;
      const inTable = listed(RS);
      const entries = entriesFor(RS).length;
      const d = (await backend.listDestinations(SVC)).find((x) => x.address === RS);
      looks.push({ at, listed: inTable, entries, counters: d ? `${d.activeConns}/${d.inactiveConns}/${d.persistentConns}` : '-' });
      if (!inTable) {
        expect(entries, JSON.stringify(looks)).toBe(0);
        break;
      }
      if (Date.now() > deadline) throw new Error(`not removed within 120 s: ${JSON.stringify(looks.slice(-5))}\n${ipvsadm('-Lcn')}`);
      await new Promise((r) => setTimeout(r, 200));
    }
    // it was there, with entries, while they lived (the test saw that, not only the end)
    expect(looks.some((l) => l.listed && l.entries > 0), JSON.stringify(looks)).toBe(true);
    const removedAfter = looks.at(-1)!.at / 1000;
    // the template was made after the client started and lives PERSIST s (the kernel's timers tick in whole seconds)
    const sinceTraffic = (drainedAt + looks.at(-1)!.at - clientStart) / 1000;
    expect(sinceTraffic, JSON.stringify(looks)).toBeGreaterThanOrEqual(PERSIST - 1);
    expect(listed(OTHER)).toBe(true);
    expect(await callerFor(deps, VIEWER).destinations.pendingRemovals()).toEqual([]);
    const entries = await callerFor(deps, VIEWER).journal.list({ limit: 5 });
    expect(entries[0]).toMatchObject({ op: 'destinations.remove', actor: 'drain (asked by operator)', state: 'done' });
    console.log(`remove when drained: ${atDrain.length} kernel entries at the drain; removed ${removedAfter.toFixed(1)} s after it, ${sinceTraffic.toFixed(1)} s after the traffic began (udp timeout ${UDP_TIMEOUT} s, persistence ${PERSIST} s), ${looks.length} looks: ${looks.map((l) => `${(l.at / 1000).toFixed(1)}s:${l.listed ? l.entries : 'gone'}(${l.counters})`).join(' ')}`);
  }, 180_000);
});
