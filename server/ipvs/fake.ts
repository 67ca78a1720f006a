/**
 * A stateful in-memory IpvsBackend that answers like the kernel does
 * (reference ipvs-netlink.md §6), for fast router and UI tests. It never
 * stands in for the kernel in claims or e2e: the contract suite
 * (contract.ts) runs against both to keep them honest.
 */
import { PLAIN_SERVICE_COLS, type IpvsBackend, type PlainServices } from '@/lib/ipvs/backend';
import { protocolNumber } from '@/lib/ipvs/codec';
import { IpvsError } from '@/lib/ipvs/errors';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import { serviceId } from '@/lib/ipvs/ids';
import {
  SCHEDULERS, ZERO_STATS,
  type DestinationKey, type DestinationSpec, type DestinationState, type IpvsInfo, type ServiceEntry,
  type ServiceKey, type ServiceSpec, type ServiceState, type Stats, type SyncDaemon, type SyncDaemonConfig,
  type SyncState, type Timeouts,
} from '@/lib/ipvs/model';
import { canonicalAddress, parseIPv4, parseIPv6 } from '@/lib/net/ip';

const INT_MAX = 2147483647;
/** The lab kernel's CONFIG_HZ; SET_CONFIG refuses timeouts above INT_MAX / HZ. */
const HZ = 100;

interface FakeDest {
  spec: DestinationSpec;
  activeConns: number;
  inactiveConns: number;
  persistentConns: number;
  stats: Stats;
}

interface FakeService {
  spec: ServiceSpec;
  stats: Stats;
  /** newest first, as the kernel's list_add() keeps them */
  dests: FakeDest[];
}

export interface FakeOptions {
  /** Scheduler modules this "kernel" has; default: every mainline one plus "none". */
  schedulers?: readonly string[];
  /** Interfaces that exist, for the sync daemon; default: any name is accepted. */
  interfaces?: readonly string[];
}

export interface TrafficDelta {
  conns?: number;
  inPkts?: number;
  outPkts?: number;
  inBytes?: number;
  outBytes?: number;
}

/** serviceId of the key with its address canonical, as the kernel compares addresses by value. */
function svcId(k: ServiceKey): string {
  return serviceId(k.kind === 'fwmark' ? k : { ...k, address: canonicalAddress(k.address) ?? k.address });
}

function clone<T>(v: T): T {
  return structuredClone(v);
}

function isUnicastV4(b: Uint8Array): boolean {
  const a = b[0]!;
  if (b.every((x) => x === 0)) return false; // 0.0.0.0
  if (b.every((x) => x === 255)) return false; // broadcast
  return a < 224; // multicast 224/4 and reserved 240/4
}

function isAcceptableV6(b: Uint8Array): boolean {
  if (b[0] === 0xff) return false; // multicast
  if (b[0] === 0xfe && (b[1]! & 0xc0) === 0x80) return false; // link-local
  return !b.every((x) => x === 0);
}

export class FakeIpvs implements IpvsBackend {
  private services = new Map<string, FakeService>();
  private timeouts: Timeouts = { tcp: 900, tcpFin: 120, udp: 300 };
  private daemons: SyncDaemon[] = [];
  private closed = false;
  private readonly schedulers: ReadonlySet<string>;
  private readonly interfaces: ReadonlySet<string> | null;
  /** Called on every method (tests count calls, e.g. to prove one shared sampler). */
  calls = new Map<string, number>();

  constructor(opts: FakeOptions = {}) {
    this.schedulers = new Set(opts.schedulers ?? [...SCHEDULERS, 'none']);
    this.interfaces = opts.interfaces ? new Set(opts.interfaces) : null;
  }

  private enter(name: string): void {
    if (this.closed) throw new IpvsError('internal', 'the IPVS handle is closed');
    this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
  }

  private svc(key: ServiceKey): FakeService {
    const s = this.services.get(svcId(key));
    if (!s) throw new IpvsError('service_not_found', `virtual service ${formatServiceKey(key)} does not exist`, 'ESRCH');
    return s;
  }

  private checkServiceSpec(spec: ServiceSpec): void {
    if (!this.schedulers.has(spec.scheduler)) {
      throw new IpvsError('unknown_scheduler', `scheduler '${spec.scheduler}' is not available`, 'ENOENT');
    }
    if (spec.pe !== null && spec.pe !== 'sip') {
      throw new IpvsError('unknown_scheduler', `persistence engine '${spec.pe}' is not available`, 'ENOENT');
    }
    if (spec.key.family === 'inet6') {
      const n = Number(spec.netmask);
      if (!Number.isInteger(n) || n < 1 || n > 128) {
        throw new IpvsError('invalid', `IPv6 persistence netmask '${spec.netmask}' is not a prefix length 1..128`, 'EINVAL');
      }
    }
    if (spec.key.kind === 'addr' && canonicalAddress(spec.key.address) === null) {
      throw new IpvsError('invalid', `'${spec.key.address}' is not an address`, 'EINVAL');
    }
  }

  private checkUdest(service: ServiceKey, d: DestinationSpec): void {
    if (d.family !== service.family) {
      if (this.daemons.length > 0) {
        throw new IpvsError('invalid', 'a real server of another address family is refused while a sync daemon runs', 'EINVAL');
      }
      if (d.forward !== 'tun') {
        throw new IpvsError('invalid', 'a real server of another address family needs tunnel forwarding', 'EINVAL');
      }
    }
    if (!Number.isInteger(d.weight) || d.weight < 0 || d.weight > INT_MAX) {
      throw new IpvsError('out_of_range', `weight ${d.weight} is out of range`, 'ERANGE');
    }
    if (d.lowerThreshold > d.upperThreshold) {
      throw new IpvsError('out_of_range', `lower threshold ${d.lowerThreshold} is above upper threshold ${d.upperThreshold}`, 'ERANGE');
    }
    if (d.forward === 'tun' && d.tunnel.type === 'gue' && d.tunnel.port === 0) {
      throw new IpvsError('invalid', 'a GUE tunnel needs a port', 'EINVAL');
    }
  }

  private checkDestAddress(d: DestinationSpec): void {
    const b = d.family === 'inet' ? parseIPv4(d.address) : parseIPv6(d.address);
    if (!b || !(d.family === 'inet' ? isUnicastV4(b) : isAcceptableV6(b))) {
      throw new IpvsError('invalid', `real server address ${d.address} is not a unicast address`, 'EINVAL');
    }
  }

  private normDest(d: DestinationSpec): DestinationSpec {
    return { ...clone(d), address: canonicalAddress(d.address) ?? d.address };
  }

  private normSpec(s: ServiceSpec): ServiceSpec {
    const c = clone(s);
    if (c.key.kind === 'addr') c.key.address = canonicalAddress(c.key.address) ?? c.key.address;
    return c;
  }

  private findDest(s: FakeService, k: DestinationKey): FakeDest | undefined {
    const addr = canonicalAddress(k.address) ?? k.address;
    return s.dests.find((d) => d.spec.family === k.family && d.spec.address === addr && d.spec.port === k.port);
  }

  private destState(d: FakeDest): DestinationState {
    return {
      ...clone(d.spec), activeConns: d.activeConns, inactiveConns: d.inactiveConns,
      persistentConns: d.persistentConns, stats: { ...d.stats },
    };
  }

  private serviceState(s: FakeService): ServiceState {
    return { ...clone(s.spec), stats: { ...s.stats } };
  }

  async info(): Promise<IpvsInfo> {
    this.enter('info');
    return { version: '1.2.1', versionCode: 0x010201, connTableSize: 4096 };
  }

  async listServices(): Promise<ServiceState[]> {
    this.enter('listServices');
    return [...this.services.values()].map((s) => this.serviceState(s));
  }

  async listServiceSpecs(): Promise<ServiceSpec[]> {
    return (await this.listServices()).map(({ stats: _, ...spec }) => spec);
  }

  async listServiceSpecsBeyond(known: PlainServices): Promise<(ServiceSpec | undefined)[]> {
    return (await this.listServiceSpecs()).map((s, i) => {
      const c = i * PLAIN_SERVICE_COLS, k = s.key, f = s.flags;
      const ip = k.kind === 'addr' && k.family === 'inet' ? k.address.split('.').reduce((w, p) => w * 256 + Number(p), 0) | 0 : NaN;
      const plain = i < known.count && k.kind === 'addr' && known.cols[c] === protocolNumber(k.protocol) && known.cols[c + 1] === ip
        && known.cols[c + 2] === k.port && known.schedulers[known.cols[c + 3]!] === s.scheduler
        && !f.persistent && !f.onePacket && !f.sched1 && !f.sched2 && !f.sched3 && !s.pe && s.timeout === 0 && s.netmask === '255.255.255.255';
      return plain ? undefined : s;
    });
  }

  async getService(key: ServiceKey): Promise<ServiceState> {
    this.enter('getService');
    return this.serviceState(this.svc(key));
  }

  async listDestinations(key: ServiceKey): Promise<DestinationState[]> {
    this.enter('listDestinations');
    const s = this.services.get(svcId(key));
    return s ? s.dests.map((d) => this.destState(d)) : [];
  }

  async dump(each?: (entry: ServiceEntry) => void): Promise<ServiceEntry[]> {
    this.enter('dump');
    const all = [...this.services.values()].map((s) => ({ ...this.serviceState(s), destinations: s.dests.map((d) => this.destState(d)) }));
    if (!each) return all;
    all.forEach((e) => each(e));
    return [];
  }

  async addService(spec: ServiceSpec): Promise<void> {
    this.enter('addService');
    const id = svcId(spec.key);
    if (this.services.has(id)) throw new IpvsError('service_exists', `virtual service ${formatServiceKey(spec.key)} already exists`, 'EEXIST');
    this.checkServiceSpec(spec);
    this.services.set(id, { spec: this.normSpec(spec), stats: { ...ZERO_STATS }, dests: [] });
  }

  async updateService(spec: ServiceSpec): Promise<void> {
    this.enter('updateService');
    const s = this.svc(spec.key);
    this.checkServiceSpec(spec);
    s.spec = this.normSpec(spec);
  }

  async removeService(key: ServiceKey): Promise<void> {
    this.enter('removeService');
    this.svc(key);
    this.services.delete(svcId(key));
  }

  async addDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    this.enter('addDestination');
    const s = this.svc(service);
    this.checkUdest(service, dest);
    if (this.findDest(s, dest)) {
      throw new IpvsError('destination_exists', `real server ${formatDestination(dest)} already exists in ${formatServiceKey(service)}`, 'EEXIST');
    }
    this.checkDestAddress(dest);
    s.dests.unshift({ spec: this.normDest(dest), activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: { ...ZERO_STATS } });
  }

  async updateDestination(service: ServiceKey, dest: DestinationSpec): Promise<void> {
    this.enter('updateDestination');
    const s = this.svc(service);
    this.checkUdest(service, dest);
    const d = this.findDest(s, dest);
    if (!d) throw new IpvsError('destination_not_found', `real server ${formatDestination(dest)} is not in ${formatServiceKey(service)}`, 'ENOENT');
    d.spec = this.normDest(dest);
  }

  async removeDestination(service: ServiceKey, dest: DestinationKey): Promise<void> {
    this.enter('removeDestination');
    const s = this.svc(service);
    const d = this.findDest(s, dest);
    if (!d) throw new IpvsError('destination_not_found', `real server ${formatDestination(dest)} is not in ${formatServiceKey(service)}`, 'ENOENT');
    s.dests = s.dests.filter((x) => x !== d);
  }

  async flush(): Promise<void> {
    this.enter('flush');
    this.services.clear();
  }

  async zero(key?: ServiceKey): Promise<void> {
    this.enter('zero');
    const targets = key ? [this.svc(key)] : [...this.services.values()];
    if (!key) Object.assign(this.tot, ZERO_STATS);
    for (const s of targets) {
      s.stats = { ...ZERO_STATS };
      for (const d of s.dests) d.stats = { ...ZERO_STATS };
    }
  }

  async getTimeouts(): Promise<Timeouts> {
    this.enter('getTimeouts');
    return { ...this.timeouts };
  }

  async setTimeouts(t: Partial<Timeouts>): Promise<void> {
    this.enter('setTimeouts');
    for (const v of [t.tcp, t.tcpFin, t.udp]) {
      if (v !== undefined && (v < 0 || v > Math.floor(INT_MAX / HZ))) {
        throw new IpvsError('invalid', `timeout ${v} s is too large`, 'EINVAL');
      }
    }
    // 0 keeps the current value, as SET_CONFIG does
    if (t.tcp) this.timeouts.tcp = t.tcp;
    if (t.tcpFin) this.timeouts.tcpFin = t.tcpFin;
    if (t.udp) this.timeouts.udp = t.udp;
  }

  async listDaemons(): Promise<SyncDaemon[]> {
    this.enter('listDaemons');
    return this.daemons.map((d) => ({ ...d }));
  }

  async startDaemon(cfg: SyncDaemonConfig): Promise<void> {
    this.enter('startDaemon');
    if (this.interfaces && !this.interfaces.has(cfg.interface)) {
      throw new IpvsError('invalid', `interface ${cfg.interface} does not exist`, 'ENODEV');
    }
    const group = cfg.group ?? '224.0.0.81';
    const gb = parseIPv4(group) ?? parseIPv6(group);
    const multicast = gb !== null && (gb.length === 4 ? gb[0]! >= 224 && gb[0]! < 240 : gb[0] === 0xff);
    if (!multicast) throw new IpvsError('invalid', `sync group ${group} is not a multicast address`, 'EINVAL');
    const mixed = [...this.services.values()].some((s) => s.dests.some((d) => d.spec.family !== s.spec.key.family));
    if (mixed) throw new IpvsError('invalid', 'a sync daemon cannot run while real servers of another family exist', 'EINVAL');
    if (this.daemons.some((d) => d.state === cfg.state)) {
      throw new IpvsError('daemon_exists', `a ${cfg.state} sync daemon already runs`, 'EEXIST');
    }
    this.daemons.push({
      state: cfg.state, interface: cfg.interface, syncId: cfg.syncId, maxLen: cfg.maxLen ?? 1472,
      group, port: cfg.port ?? 8848, ttl: cfg.ttl ?? 1,
    });
  }

  async stopDaemon(state: SyncState): Promise<void> {
    this.enter('stopDaemon');
    if (!this.daemons.some((d) => d.state === state)) {
      throw new IpvsError('daemon_not_running', `no ${state} sync daemon runs`, 'ESRCH');
    }
    this.daemons = this.daemons.filter((d) => d.state !== state);
  }

  close(): void {
    this.closed = true;
  }

  // ---- test controls: what traffic would do in a real kernel -----------------

  private readonly tot: Stats = { ...ZERO_STATS };

  /**
   * What /proc/net/ip_vs_stats would show: counters of all traffic since
   * start (only a ZERO of everything resets them, as in the kernel), rates
   * the largest any service shows (0 exactly when every service's are).
   */
  async totals(): Promise<Stats> {
    const t = { ...this.tot };
    for (const s of this.services.values()) {
      for (const k of ['cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const) t[k] = Math.max(t[k], s.stats[k]);
    }
    return t;
  }

  /**
   * Count traffic on a destination; the service counts it too, as ip_vs_in_stats does. `rates` are the
   * destination's estimator rates; the service's become the sum of its destinations'.
   */
  traffic(service: ServiceKey, dest: DestinationKey, delta: TrafficDelta, rates?: Partial<Stats>): void {
    const s = this.svc(service);
    const d = this.findDest(s, dest);
    if (!d) throw new Error(`fake: no destination ${dest.address}:${dest.port}`);
    for (const k of ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const) {
      d.stats[k] += delta[k] ?? 0;
      s.stats[k] += delta[k] ?? 0;
      this.tot[k] += delta[k] ?? 0;
    }
    if (rates) {
      Object.assign(d.stats, rates);
      for (const k of Object.keys(rates) as (keyof Stats)[]) s.stats[k] = s.dests.reduce((sum, x) => sum + x.stats[k], 0);
    }
  }

  setConns(service: ServiceKey, dest: DestinationKey, c: { active?: number; inactive?: number; persistent?: number }): void {
    const d = this.findDest(this.svc(service), dest);
    if (!d) throw new Error(`fake: no destination ${dest.address}:${dest.port}`);
    if (c.active !== undefined) d.activeConns = c.active;
    if (c.inactive !== undefined) d.inactiveConns = c.inactive;
    if (c.persistent !== undefined) d.persistentConns = c.persistent;
  }
}
