/**
 * Incremental aggregation and filtered paging over connection records, pure.
 *
 * Both consume the reused ConnRecord of lib/conn/parse.ts one line at a time
 * and keep only aggregates (or one page), so a 1,000,000-entry table costs
 * the same memory as a 10-entry one. IPv4 keys are packed into numbers
 * (protocol, address, port fit in 53 bits) to avoid a string per line.
 */
import { DomainError } from '../errors';
import { formatDestination, formatServiceKey } from '../ipvs/format';
import type { AddressFamily } from '../ipvs/model';
import { FWMARK, PORT, boundText, inBound } from '../ipvs/rules';
import { cidrContains, parseIPv4, parseIPv6, canonicalAddress } from '../net/ip';
import {
  type ConnEntry, type ConnProtocol, type ConnRecord, type ConnState, KNOWN_STATES, formatU32IPv4, recordToEntry, stateName,
} from './parse';

/** Which service a connection line belongs to: VIP:port/protocol, or the fwmark for fwmark templates. */
export type ConnServiceKey =
  | { kind: 'addr'; family: AddressFamily; protocol: ConnProtocol; address: string; port: number }
  | { kind: 'fwmark'; family: AddressFamily; fwmark: number };

export interface ConnCounts {
  /** Non-template entries. */
  connections: number;
  /** Persistence templates (PersistConn). */
  templates: number;
  /**
   * Non-template TCP/SCTP entries in ESTABLISHED (active) vs all others
   * (inactive), the rule of reference §7.7. This is what the table says, NOT
   * the kernel's ActiveConn/InActConn: the 6.1 lab kernel counts DR
   * SYN_RECV entries as active (server/conn/conn.kernel.test.ts logs the
   * split). Use /proc/net/ip_vs or netlink for the kernel's own counters;
   * only active + inactive is guaranteed to agree with them.
   */
  active: number;
  inactive: number;
  /** Non-template entries per state name. */
  byState: Record<string, number>;
  /** Templates per state name (NONE / ASSURED). */
  templatesByState: Record<string, number>;
}

export interface ServiceConnSummary extends ConnCounts {
  service: ConnServiceKey;
  /** "TCP 10.0.0.1:80", "TCP [2001:db8::1]:80", "FWM 7" */
  label: string;
}

export interface DestinationConnSummary extends ConnCounts {
  service: ConnServiceKey;
  serviceLabel: string;
  family: AddressFamily;
  address: string;
  port: number;
  /** "10.0.0.5:80", "[2001:db8::a]:80" */
  label: string;
}

export interface RealServerConnSummary extends ConnCounts {
  family: AddressFamily;
  address: string;
  port: number;
  label: string;
}

export interface ConnSummary extends ConnCounts {
  /** Lines that were not connection lines (and not the header). */
  malformed: number;
  services: ServiceConnSummary[];
  /** Per destination of each service (service × real server), as IPVS keeps them. */
  destinations: DestinationConnSummary[];
  /** Per real server address:port across all services. */
  realServers: RealServerConnSummary[];
}

// ---------------------------------------------------------------------------

class Acc {
  connections = 0;
  templates = 0;
  active = 0;
  /** counts indexed by state code: an array add instead of a string hash per line */
  states: number[] = [];
  tplStates: number[] = [];

  add(r: ConnRecord): void {
    const c = r.stateCode;
    if (r.template) {
      this.templates++;
      const t = this.tplStates;
      while (t.length <= c) t.push(0);
      t[c]!++;
      return;
    }
    this.connections++;
    if (c === ESTABLISHED_CODE && (r.protocol === 'tcp' || r.protocol === 'sctp')) this.active++;
    const t = this.states;
    while (t.length <= c) t.push(0);
    t[c]!++;
  }

  merge(o: Acc): void {
    this.connections += o.connections;
    this.templates += o.templates;
    this.active += o.active;
    const add = (into: number[], from: number[]) => {
      while (into.length < from.length) into.push(0);
      for (let i = 0; i < from.length; i++) into[i]! += from[i]!;
    };
    add(this.states, o.states);
    add(this.tplStates, o.tplStates);
  }

  counts(): ConnCounts {
    return {
      connections: this.connections,
      templates: this.templates,
      active: this.active,
      inactive: this.connections - this.active,
      byState: byName(this.states),
      templatesByState: byName(this.tplStates),
    };
  }
}

const ESTABLISHED_CODE = KNOWN_STATES.indexOf('ESTABLISHED');

function byName(counts: number[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (let i = 0; i < counts.length; i++) if (counts[i]! > 0) out[stateName(i)] = counts[i]!;
  return out;
}

class DestAcc extends Acc {
  constructor(readonly family: AddressFamily, readonly address: string, readonly port: number) {
    super();
  }
}

class ServiceAcc extends Acc {
  readonly dests = new Map<number | string, DestAcc>();
  constructor(readonly key: ConnServiceKey) {
    super();
  }
}

const PROTO_CODE: Record<string, number> = { tcp: 1, udp: 2, sctp: 3, ip: 4, icmp: 5, icmpv6: 6 };
const FWMARK_CODE = 31;
const P48 = 2 ** 48;

/** Packs an IPv4 service into one number; strings for everything else. */
function serviceMapKey(r: ConnRecord): number | string {
  if (r.fwmark >= 0) return r.family === 'inet' ? FWMARK_CODE * P48 + r.fwmark : `f6|${r.fwmark}`;
  const code = PROTO_CODE[r.protocol];
  if (r.family === 'inet' && code !== undefined) return code * P48 + r.vaddr4 * 65536 + r.vport;
  return `${r.protocol}|${r.family === 'inet' ? r.vaddr4 : r.vaddr6}|${r.vport}`;
}

function destMapKey(r: ConnRecord): number | string {
  return r.destFamily === 'inet' ? r.dest4 * 65536 + r.destPort : `${r.dest6}|${r.destPort}`;
}

export function serviceKeyOf(r: ConnRecord): ConnServiceKey {
  if (r.fwmark >= 0) return { kind: 'fwmark', family: r.family, fwmark: r.fwmark };
  return {
    kind: 'addr', family: r.family, protocol: r.protocol,
    address: r.family === 'inet' ? formatU32IPv4(r.vaddr4) : r.vaddr6, port: r.vport,
  };
}

const PAIR_BITS = 12;

/** Feeds records in with add(); result() can be called at any time. */
export class ConnSummarizer {
  private readonly total = new Acc();
  private readonly services = new Map<number | string, ServiceAcc>();
  /**
   * Direct-mapped cache of IPv4 (service, real server) pairs: a table has few of them on
   * many lines, and a hit costs no Map lookups (whose number keys above 2^30 are allocated
   * per line). Slot i keys: vaddr, protocol << 16 | vport, dest, destPort (as int32s).
   */
  private readonly pairKeys = new Int32Array(4 << PAIR_BITS);
  private readonly pairSvc: (ServiceAcc | undefined)[] = new Array<ServiceAcc | undefined>(1 << PAIR_BITS).fill(undefined);
  private readonly pairDest: (DestAcc | undefined)[] = new Array<DestAcc | undefined>(1 << PAIR_BITS).fill(undefined);

  readonly add = (r: ConnRecord): void => {
    this.total.add(r);
    let svc: ServiceAcc | undefined, d: DestAcc | undefined;
    const pcode = r.family === 'inet' && r.destFamily === 'inet' && r.fwmark < 0 ? PROTO_CODE[r.protocol] : undefined;
    if (pcode === undefined) {
      [svc, d] = this.accsOf(r);
    } else {
      const k0 = r.vaddr4 | 0, k1 = (pcode << 16) | r.vport, k2 = r.dest4 | 0, k3 = r.destPort;
      const slot = Math.imul(k0 ^ Math.imul(k2, 0x85ebca6b) ^ (k1 << 12) ^ k3, 0x9e3779b1) >>> (32 - PAIR_BITS);
      const keys = this.pairKeys, at = slot * 4;
      svc = this.pairSvc[slot];
      d = this.pairDest[slot];
      if (svc === undefined || d === undefined || keys[at] !== k0 || keys[at + 1] !== k1 || keys[at + 2] !== k2 || keys[at + 3] !== k3) {
        [svc, d] = this.accsOf(r);
        keys[at] = k0;
        keys[at + 1] = k1;
        keys[at + 2] = k2;
        keys[at + 3] = k3;
        this.pairSvc[slot] = svc;
        this.pairDest[slot] = d;
      }
    }
    svc.add(r);
    d.add(r);
  };

  /** The record's service and destination accumulators, made on first sight. */
  private accsOf(r: ConnRecord): [ServiceAcc, DestAcc] {
    const sk = serviceMapKey(r);
    let svc = this.services.get(sk);
    if (svc === undefined) {
      svc = new ServiceAcc(serviceKeyOf(r));
      this.services.set(sk, svc);
    }
    const dk = destMapKey(r);
    let d = svc.dests.get(dk);
    if (d === undefined) {
      d = new DestAcc(r.destFamily, r.destFamily === 'inet' ? formatU32IPv4(r.dest4) : r.dest6, r.destPort);
      svc.dests.set(dk, d);
    }
    return [svc, d];
  }

  result(malformed = 0): ConnSummary {
    const services: ServiceConnSummary[] = [];
    const destinations: DestinationConnSummary[] = [];
    const real = new Map<string, DestAcc>();
    for (const svc of this.services.values()) {
      const label = formatServiceKey(svc.key);
      services.push({ service: svc.key, label, ...svc.counts() });
      for (const d of svc.dests.values()) {
        const dlabel = formatDestination(d);
        destinations.push({
          service: svc.key, serviceLabel: label, family: d.family, address: d.address, port: d.port,
          label: dlabel, ...d.counts(),
        });
        let rs = real.get(dlabel);
        if (!rs) {
          rs = new DestAcc(d.family, d.address, d.port);
          real.set(dlabel, rs);
        }
        rs.merge(d);
      }
    }
    const realServers: RealServerConnSummary[] = [...real.entries()].map(([label, d]) => ({
      family: d.family, address: d.address, port: d.port, label, ...d.counts(),
    }));
    const byLabel = (a: { label: string }, b: { label: string }) => (a.label < b.label ? -1 : a.label > b.label ? 1 : 0);
    services.sort(byLabel);
    destinations.sort((a, b) => byLabel({ label: a.serviceLabel }, { label: b.serviceLabel }) || byLabel(a, b));
    realServers.sort(byLabel);
    return { ...this.total.counts(), malformed, services, destinations, realServers };
  }
}

// ---------------------------------------------------------------------------
// Filtered paging

export interface ConnFilter {
  service?: ConnServiceKey;
  /** A real server; port omitted = any port. */
  destination?: { address: string; port?: number };
  /** One state or several (any of). */
  state?: ConnState | ConnState[];
  /** Client address or CIDR ("10.0.0.0/8", "2001:db8::/32"). */
  client?: string;
  protocol?: ConnProtocol;
  /** true: only templates; false: only connections; absent: both. */
  template?: boolean;
}

export interface ConnPageRequest {
  filter?: ConnFilter;
  /** 0-based index of the first matching entry to return. */
  offset?: number;
  /** Page size, 1..MAX_PAGE_SIZE. */
  limit?: number;
}

export interface ConnPage {
  /** Matching entries in the whole table (kernel hash order, so pages of a changing table can shift). */
  total: number;
  offset: number;
  entries: ConnEntry[];
  malformed: number;
  /** when the table was read (ms since epoch): a kept walk can be seconds old, and expiries count down from then */
  readAt?: number;
}

export const MAX_PAGE_SIZE = 10_000;
export const DEFAULT_PAGE_SIZE = 100;

/** A bad filter or page request: the API answers BAD_REQUEST with the field. */
export class ConnFilterError extends DomainError {
  constructor(readonly field: string, message: string) {
    super('invalid', `${field}: ${message}`);
    this.name = 'ConnFilterError';
  }
}

type Matcher = (r: ConnRecord) => boolean;

function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Validates a filter and compiles it into one predicate; throws ConnFilterError naming the field. */
export function compileConnFilter(f: ConnFilter = {}): Matcher {
  const tests: Matcher[] = [];

  if (f.protocol !== undefined) {
    const p = f.protocol;
    tests.push((r) => r.protocol === p);
  }
  if (f.template !== undefined) {
    const t = f.template;
    tests.push((r) => r.template === t);
  }
  if (f.state !== undefined) {
    const states = Array.isArray(f.state) ? f.state : [f.state];
    if (states.length === 0) throw new ConnFilterError('state', 'at least one state is required');
    for (const s of states) {
      if (typeof s !== 'string' || !/^[A-Za-z0-9_!-]{1,24}$/.test(s)) {
        throw new ConnFilterError('state', `'${String(s)}' is not a connection state name`);
      }
    }
    const set = new Set<string>(states);
    tests.push((r) => set.has(r.state));
  }
  if (f.service !== undefined) {
    const k = f.service;
    if (k.kind === 'fwmark') {
      if (!inBound(k.fwmark, FWMARK)) {
        throw new ConnFilterError('service.fwmark', `${k.fwmark} is not a fwmark (${boundText(FWMARK)})`);
      }
      tests.push((r) => r.fwmark === k.fwmark && r.family === k.family);
    } else {
      if (!inBound(k.port, PORT)) {
        throw new ConnFilterError('service.port', `${k.port} is not a port (${boundText(PORT)})`);
      }
      const v4 = k.family === 'inet' ? parseIPv4(k.address) : null;
      const v6 = k.family === 'inet6' ? canonicalAddress(k.address) : null;
      if (!v4 && !(v6 && parseIPv6(k.address))) {
        throw new ConnFilterError('service.address', `'${k.address}' is not an ${k.family === 'inet' ? 'IPv4' : 'IPv6'} address`);
      }
      const a4 = v4 ? u32(v4) : -1;
      tests.push((r) =>
        r.fwmark < 0 && r.protocol === k.protocol && r.vport === k.port &&
        (v4 ? r.family === 'inet' && r.vaddr4 === a4 : r.family === 'inet6' && r.vaddr6 === v6));
    }
  }
  if (f.destination !== undefined) {
    const d = f.destination;
    const v4 = parseIPv4(d.address);
    const v6 = v4 ? null : parseIPv6(d.address) ? canonicalAddress(d.address) : null;
    if (!v4 && !v6) throw new ConnFilterError('destination.address', `'${d.address}' is not an IP address`);
    if (d.port !== undefined && !inBound(d.port, PORT)) {
      throw new ConnFilterError('destination.port', `${d.port} is not a port (${boundText(PORT)})`);
    }
    const a4 = v4 ? u32(v4) : -1;
    const port = d.port;
    tests.push((r) =>
      (port === undefined || r.destPort === port) &&
      (v4 ? r.destFamily === 'inet' && r.dest4 === a4 : r.destFamily === 'inet6' && r.dest6 === v6));
  }
  if (f.client !== undefined) {
    const cidr = f.client.trim();
    const [net, lenText] = cidr.split('/');
    const n4 = parseIPv4(net ?? '');
    const n6 = n4 ? null : parseIPv6(net ?? '');
    if (!n4 && !n6) throw new ConnFilterError('client', `'${f.client}' is not an address or CIDR`);
    const max = n4 ? 32 : 128;
    const bits = lenText === undefined ? max : /^\d{1,3}$/.test(lenText) ? Number(lenText) : NaN;
    if (!(bits >= 0 && bits <= max)) throw new ConnFilterError('client', `prefix length in '${f.client}' must be 0..${max}`);
    if (n4) {
      // IPv4 is the hot case: compare packed numbers instead of calling cidrContains per line
      const mask = bits === 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
      const want = (u32(n4) & mask) >>> 0;
      tests.push((r) => r.family === 'inet' && ((r.client4 & mask) >>> 0) === want);
    } else {
      tests.push((r) => r.family === 'inet6' && cidrContains(cidr, r.client6));
    }
  }

  if (tests.length === 0) return () => true;
  if (tests.length === 1) return tests[0]!;
  return (r) => {
    for (const t of tests) if (!t(r)) return false;
    return true;
  };
}

/** Collects one page of matching entries while counting all matches. */
export class ConnPageCollector {
  private readonly match: Matcher;
  private readonly offset: number;
  private readonly limit: number;
  private total = 0;
  private readonly entries: ConnEntry[] = [];

  constructor(req: ConnPageRequest = {}) {
    const offset = req.offset ?? 0;
    const limit = req.limit ?? DEFAULT_PAGE_SIZE;
    if (!Number.isInteger(offset) || offset < 0) throw new ConnFilterError('offset', `${offset} must be an integer ≥ 0`);
    if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE_SIZE) {
      throw new ConnFilterError('limit', `${limit} must be an integer in 1..${MAX_PAGE_SIZE}`);
    }
    this.offset = offset;
    this.limit = limit;
    this.match = compileConnFilter(req.filter);
  }

  readonly add = (r: ConnRecord): void => {
    if (!this.match(r)) return;
    const i = this.total++;
    if (i >= this.offset && i < this.offset + this.limit) this.entries.push(recordToEntry(r));
  };

  result(malformed = 0): ConnPage {
    return { total: this.total, offset: this.offset, entries: this.entries, malformed };
  }
}
