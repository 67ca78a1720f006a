/**
 * What the doctor reads on a director (server/doctor/collect.ts gathers it),
 * as plain data: the rules (./rules.ts) turn it into findings without I/O,
 * so every rule is tested with evidence written by hand.
 */
import { formatServiceKey } from '../ipvs/format';
import type { ForwardMethod, ServiceFlags, ServiceKey, SyncDaemon } from '../ipvs/model';

export interface EvidenceDestination {
  address: string;
  port: number;
  forward: ForwardMethod;
  weight: number;
}

export interface EvidenceService {
  key: ServiceKey;
  /** "TCP 192.168.150.100:80" */
  label: string;
  scheduler: string;
  flags: ServiceFlags;
  /** persistence timeout, seconds (0: not persistent) */
  timeout: number;
  destinations: EvidenceDestination[];
}

export interface EvidenceInterface {
  name: string;
  /** "aa:bb:cc:dd:ee:ff"; null for interfaces without one (lo, tunl0) */
  mac: string | null;
  up: boolean;
  /** IPv4 addresses with their prefix length */
  addresses: { address: string; prefix: number }[];
}

/** An IPv4 route of the main table. */
export interface EvidenceRoute {
  dst: string;
  prefix: number;
  /** outgoing interface name */
  dev: string | null;
  gateway: string | null;
}

/** Connection-table entries of one real server of one service, per state. */
export interface EvidenceDestConns {
  /** service label as /proc/net/ip_vs_conn gives it ("TCP 192.168.150.100:80") */
  service: string;
  address: string;
  port: number;
  connections: number;
  byState: Record<string, number>;
}

/** Who sends the connections of one service: the busiest clients and destinations. */
export interface EvidenceServiceClients {
  service: string;
  connections: number;
  /** distinct client addresses, counted up to a bound (`clientsCapped` says when it was reached) */
  clients: number;
  clientsCapped: boolean;
  /** connections per destination "address:port" */
  byDestination: Record<string, number>;
}

export interface EvidenceArpAnswer {
  /** the address the answer claims (the VIP) */
  ip: string;
  mac: string;
}

/** One ARP probe: who answers "who has VIP" on the interface towards a DR service's real servers. */
export interface EvidenceArpProbe {
  vip: string;
  interface: string;
  /** the director's own address the requests were sent from */
  source: string;
  answers: EvidenceArpAnswer[];
  /** why the probe did not run or failed (arping missing, no permission) */
  error: string | null;
}

export interface EvidenceHaGroup {
  name: string;
  vips: string[];
  vrrpState: string;
  vipsPresent: string[];
}

export interface DoctorEvidence {
  /** ms since epoch */
  at: number;
  /** uname -r, e.g. "6.1.0-28-amd64" */
  kernel: string;
  /**
   * sysctls by their dotted name ("net.ipv4.ip_forward", "net.ipv4.vs.conntrack",
   * "net.ipv4.conf.br0.rp_filter", "net.netfilter.nf_conntrack_max"); null when absent
   */
  sysctl: Record<string, number | null>;
  /** loaded (or built-in) kernel modules the rules ask about; act_ct: loaded and held by a tc action */
  modules: Record<string, boolean>;
  /** MemAvailable in pages (the unit of net.ipv4.vs.amemthresh); null when unknown */
  memAvailablePages: number | null;
  interfaces: EvidenceInterface[];
  routes: EvidenceRoute[];
  /** the director's neighbour table: who is at which MAC */
  neighbors: { address: string; mac: string; dev: string }[];
  services: EvidenceService[];
  /** IPVS connection table hash size (buckets) */
  connTableSize: number;
  /** null when /proc/net/ip_vs_conn could not be read */
  conns: {
    entries: number;
    templates: number;
    destinations: EvidenceDestConns[];
    services: EvidenceServiceClients[];
  } | null;
  syncDaemons: SyncDaemon[];
  /** HA groups when the agent runs HA; null without */
  ha: { director: string; groups: EvidenceHaGroup[] } | null;
  /** null: no probe was asked for */
  arp: EvidenceArpProbe[] | null;
}

/** The forwarding methods in use, each with the services using it. */
export function methodsInUse(services: readonly EvidenceService[]): Map<ForwardMethod, EvidenceService[]> {
  const out = new Map<ForwardMethod, EvidenceService[]>();
  for (const s of services) {
    for (const m of new Set(s.destinations.map((d) => d.forward))) {
      const list = out.get(m) ?? [];
      list.push(s);
      out.set(m, list);
    }
  }
  return out;
}

/** "6.1.0-28-amd64" -> [6, 1]; null when it does not start with a version. */
export function kernelVersion(release: string): [number, number] | null {
  const m = /^(\d+)\.(\d+)/.exec(release);
  return m ? [Number(m[1]), Number(m[2])] : null;
}

function v4(text: string): number | null {
  const p = text.split('.');
  if (p.length !== 4) return null;
  let n = 0;
  for (const x of p) {
    if (!/^\d{1,3}$/.test(x) || Number(x) > 255) return null;
    n = n * 256 + Number(x);
  }
  return n;
}

export function inPrefix(address: string, net: string, prefix: number): boolean {
  const a = v4(address), b = v4(net);
  if (a === null || b === null || prefix < 0 || prefix > 32) return false;
  if (prefix === 0) return true;
  const div = 2 ** (32 - prefix);
  return Math.floor(a / div) === Math.floor(b / div);
}

/** The route the director uses to reach `address` (longest prefix of the main table), or null. */
export function routeTo(routes: readonly EvidenceRoute[], address: string): EvidenceRoute | null {
  let best: EvidenceRoute | null = null;
  for (const r of routes) {
    if (r.dev && inPrefix(address, r.dst, r.prefix) && (!best || r.prefix > best.prefix)) best = r;
  }
  return best;
}

/** The director's own address on `dev` in the same subnet as `address` (its DIP towards it), else its first one. */
export function sourceOn(interfaces: readonly EvidenceInterface[], dev: string, address: string): string | null {
  const i = interfaces.find((x) => x.name === dev);
  if (!i) return null;
  const same = i.addresses.find((a) => a.prefix < 32 && inPrefix(address, a.address, a.prefix));
  return (same ?? i.addresses.find((a) => a.prefix < 32) ?? i.addresses[0])?.address ?? null;
}

/** Unique (VIP, interface, source) triples to probe: the VIP of each DR service on the way to each of its real servers. */
export function arpProbeTargets(ev: Pick<DoctorEvidence, 'services' | 'routes' | 'interfaces'>): { vip: string; interface: string; source: string }[] {
  const seen = new Map<string, { vip: string; interface: string; source: string }>();
  for (const s of ev.services) {
    if (s.key.kind !== 'addr' || s.key.family !== 'inet') continue;
    for (const d of s.destinations) {
      if (d.forward !== 'dr' || d.address.includes(':')) continue;
      const r = routeTo(ev.routes, d.address);
      if (!r?.dev) continue;
      const source = sourceOn(ev.interfaces, r.dev, d.address);
      if (!source) continue;
      const id = `${s.key.address}|${r.dev}`;
      if (!seen.has(id)) seen.set(id, { vip: s.key.address, interface: r.dev, source });
    }
  }
  return [...seen.values()];
}

/** The label /proc/net/ip_vs_conn summaries use (lib/conn/summary.ts), so services and their connections match: "TCP 10.0.0.1:80", "FWM 7". */
export const serviceLabel: (key: ServiceKey) => string = formatServiceKey;
