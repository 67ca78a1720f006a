/**
 * Synthetic data for the dev-only /demo pages: lets the views be looked at
 * (and screenshotted) without an agent. Deterministic, so screenshots are
 * comparable. Never used by the real pages.
 */
import { EMPTY_SAMPLE, type StatSample, type StatsState } from '@/lib/agent/events';
import { TickEncoder, type WireTick } from '@/lib/agent/live-wire';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceEntry, type ServiceSpec } from '@/lib/ipvs/model';
import type { ConnRow } from '../conn/ConnTable';
import type { SummaryIndex } from '../conn/summary-index';

type D = Partial<DestinationState> & Pick<DestinationState, 'address' | 'port' | 'weight' | 'forward'>;

function dest(d: D): DestinationState {
  return {
    family: d.address.includes(':') ? 'inet6' : 'inet', upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL },
    activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: { ...ZERO_STATS }, ...d,
  };
}

function svc(spec: Omit<ServiceSpec, 'flags' | 'pe'> & { flags?: Partial<ServiceSpec['flags']>; pe?: string | null }, dests: D[]): ServiceEntry {
  return { ...spec, flags: { ...DEFAULT_FLAGS, ...spec.flags }, pe: spec.pe ?? null, stats: { ...ZERO_STATS }, destinations: dests.map(dest) };
}

export function demoServices(extra = 0): ServiceEntry[] {
  const list: ServiceEntry[] = [
    svc({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 80 }, scheduler: 'wlc', timeout: 0, netmask: '255.255.255.255' }, [
      { address: '10.1.0.21', port: 80, weight: 3, forward: 'dr', activeConns: 412, inactiveConns: 1880 },
      { address: '10.1.0.22', port: 80, weight: 3, forward: 'dr', activeConns: 398, inactiveConns: 1794 },
      { address: '10.1.0.23', port: 80, weight: 1, forward: 'dr', activeConns: 141, inactiveConns: 602 },
      { address: '10.1.0.24', port: 80, weight: 0, forward: 'dr', activeConns: 17, inactiveConns: 40 },
    ]),
    svc({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.100', port: 443 }, scheduler: 'sh', timeout: 300, netmask: '255.255.255.255', flags: { persistent: true, sched2: true } }, [
      { address: '10.1.0.31', port: 443, weight: 1, forward: 'nat', activeConns: 230, inactiveConns: 95, persistentConns: 610 },
      { address: '10.1.0.32', port: 443, weight: 1, forward: 'nat', activeConns: 251, inactiveConns: 88, persistentConns: 598 },
      { address: '10.1.0.33', port: 443, weight: 2, forward: 'nat', activeConns: 455, inactiveConns: 170, persistentConns: 1203, upperThreshold: 2000, lowerThreshold: 1500 },
    ]),
    svc({ key: { kind: 'addr', family: 'inet', protocol: 'udp', address: '192.168.150.53', port: 53 }, scheduler: 'rr', timeout: 0, netmask: '255.255.255.255', flags: { onePacket: true } }, [
      { address: '10.1.0.41', port: 53, weight: 1, forward: 'dr', inactiveConns: 3 },
      { address: '10.1.0.42', port: 53, weight: 1, forward: 'dr', inactiveConns: 2 },
    ]),
    svc({ key: { kind: 'fwmark', family: 'inet', fwmark: 7 }, scheduler: 'wrr', timeout: 1800, netmask: '255.255.255.0', flags: { persistent: true } }, [
      { address: '10.2.0.11', port: 0, weight: 5, forward: 'tun', tunnel: { type: 'gue', port: 6080, checksum: 'csum' }, activeConns: 88, inactiveConns: 12, persistentConns: 140 },
      { address: '10.2.0.12', port: 0, weight: 5, forward: 'tun', tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: 91, inactiveConns: 9, persistentConns: 133 },
    ]),
    svc({ key: { kind: 'addr', family: 'inet6', protocol: 'tcp', address: '2001:db8::10', port: 80 }, scheduler: 'mh', timeout: 0, netmask: '128', flags: { sched1: true } }, [
      { address: '2001:db8:1::21', port: 8080, weight: 1, forward: 'dr', activeConns: 33, inactiveConns: 120 },
      { address: '2001:db8:1::22', port: 8080, weight: 1, forward: 'dr', activeConns: 29, inactiveConns: 131 },
    ]),
    svc({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '192.168.150.101', port: 8080 }, scheduler: 'lc', timeout: 0, netmask: '255.255.255.255' }, [
      { address: '10.1.0.51', port: 8080, weight: 1, forward: 'dr', activeConns: 0, inactiveConns: 96 },
      { address: '10.1.0.52', port: 8080, weight: 1, forward: 'dr', activeConns: 57, inactiveConns: 44 },
    ]),
  ];
  for (let i = 0; i < extra; i++) {
    const o3 = 10 + Math.floor(i / 250);
    list.push(svc({ key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: `172.16.${o3}.${i % 250}`, port: 80 + (i % 3) }, scheduler: 'wlc', timeout: 0, netmask: '255.255.255.255' }, [
      { address: `10.9.${i % 250}.1`, port: 80, weight: 1, forward: 'nat', activeConns: i % 40, inactiveConns: i % 90 },
      { address: `10.9.${i % 250}.2`, port: 80, weight: 2, forward: 'nat', activeConns: i % 70, inactiveConns: i % 50 },
    ]));
  }
  return list;
}

/** Rates that wander smoothly and differ per server, with a visible weight effect. */
function rate(seed: number, t: number, base: number): number {
  const w = 0.7 + 0.2 * Math.sin(t / 47 + seed) + 0.1 * Math.sin(t / 7.3 + seed * 3);
  return Math.max(0, base * w);
}

const SVC_BASE = [180, 95, 1400, 40, 22, 9];

/** Ticks as an agent would send them, from synthetic samples: the first full, then deltas. */
export function demoFeed(services: readonly ServiceEntry[]): (seq: number, atMs: number) => WireTick {
  const enc = new TickEncoder();
  let prev: StatsState | null = null;
  return (seq, atMs) => {
    const state = demoState(services, atMs);
    const tick = enc.encode(prev, state, seq, atMs, 1000);
    prev = state;
    return tick;
  };
}

function demoState(services: readonly ServiceEntry[], atMs: number): StatsState {
  const t = atMs / 1000;
  return new Map(services.map((s, si) => {
      const wsum = s.destinations.reduce((a, d) => a + d.weight, 0) || 1;
      const base = SVC_BASE[si] ?? 3 + (si % 17);
      const dests = s.destinations.map((d, di) => {
        // sh ignores weights a little: skew the demo so the share bar has something to show
        const share = s.scheduler === 'rr' ? 1 / s.destinations.length : d.weight / wsum;
        const cps = rate(si * 10 + di, t, base * share * (s.scheduler === 'sh' && di === 0 ? 1.6 : 1));
        const bytes = cps * (s.key.kind === 'addr' && s.key.protocol === 'udp' ? 180 : 42_000);
        const v: StatSample = { ...EMPTY_SAMPLE, rCps: round(cps), rInPps: round(cps * 6), rOutPps: round(cps * 9), rInBps: round(bytes * 0.1), rOutBps: round(bytes), active: d.activeConns, inactive: d.inactiveConns, persistent: d.persistentConns };
        return [destinationId(d), v] as const;
      });
      const sum = (k: 'rCps' | 'rInPps' | 'rOutPps' | 'rInBps' | 'rOutBps' | 'active' | 'inactive' | 'persistent') => dests.reduce((a, [, v]) => a + v[k], 0);
      const v: StatSample = { ...EMPTY_SAMPLE, rCps: sum('rCps'), rInPps: sum('rInPps'), rOutPps: sum('rOutPps'), rInBps: sum('rInBps'), rOutBps: sum('rOutBps'), active: sum('active'), inactive: sum('inactive'), persistent: sum('persistent') };
      return [serviceId(s.key), { v, dests: new Map(dests) }] as const;
  }));
}

/** Rates with 3 significant digits, as the agent sends them. */
const round = (x: number): number => Number(x.toPrecision(3));

const STATE_MIX: Array<[string, number]> = [['ESTABLISHED', 0.55], ['TIME_WAIT', 0.25], ['FIN_WAIT', 0.1], ['SYN_RECV', 0.02], ['CLOSE', 0.05], ['CLOSE_WAIT', 0.03]];

export function demoSummary(services: readonly ServiceEntry[]): SummaryIndex {
  const byService = new Map<string, Record<string, number>>();
  const byDestination = new Map<string, Record<string, number>>();
  const byState: Record<string, number> = {};
  let total = 0;
  for (const s of services) {
    const sid = serviceId(s.key);
    const sAcc: Record<string, number> = {};
    for (const d of s.destinations) {
      const n = d.activeConns + d.inactiveConns;
      const acc: Record<string, number> = {};
      const udp = s.key.kind === 'addr' && s.key.protocol === 'udp';
      if (udp) acc.UDP = n;
      else if (d.address === '10.1.0.51') acc.SYN_RECV = n; // the broken DR server of the demo
      else for (const [st, f] of STATE_MIX) acc[st] = Math.round(n * f);
      byDestination.set(`${sid} ${destinationId(d)}`, acc);
      for (const [st, v] of Object.entries(acc)) {
        sAcc[st] = (sAcc[st] ?? 0) + v;
        byState[st] = (byState[st] ?? 0) + v;
        total += v;
      }
    }
    byService.set(sid, sAcc);
  }
  return { total, templates: 2674, byState, byService, byDestination };
}

/** Entry i of a synthetic 120,000-entry table (computed on demand, like a server page). */
export function demoConn(i: number, services: readonly ServiceEntry[]): ConnRow {
  const s = services[i % 2 === 0 ? 0 : 1]!;
  const d = s.destinations[(i >> 1) % s.destinations.length]!;
  const k = s.key.kind === 'addr' ? s.key : null;
  const state = i % 53 === 0 ? 'SYN_RECV' : i % 4 === 0 ? 'TIME_WAIT' : i % 9 === 0 ? 'FIN_WAIT' : 'ESTABLISHED';
  return {
    protocol: k?.protocol ?? 'ip', clientAddr: `198.51.${(i >> 8) & 255}.${i & 255}`, clientPort: 1024 + ((i * 7919) % 60000),
    vaddr: k?.address ?? null, fwmark: null, vport: k?.port ?? 0, destAddr: d.address, destPort: d.port,
    state, expires: state === 'ESTABLISHED' ? 900 - (i % 900) : 120 - (i % 120), template: false,
  };
}
