/**
 * Parser for /proc/net/ip_vs (reference §7.1), pure.
 *
 * The file carries the table's structure and connection counts about 25×
 * faster than a netlink dump with per-destination requests, but has no
 * stats, thresholds, tunnel options or scheduler flags, gives persistence
 * in jiffies (so the caller must pass the kernel's HZ) and hex everywhere.
 */
import { PLAIN_SERVICE_COLS, type PlainServices } from '../ipvs/backend';
import type { DestinationKey, ForwardMethod, Protocol, ServiceKey } from '../ipvs/model';
import { formatIPv6 } from '../net/ip';

export interface ProcDestination extends DestinationKey {
  forward: ForwardMethod;
  weight: number;
  activeConns: number;
  inactiveConns: number;
}

export interface ProcService {
  key: ServiceKey;
  scheduler: string;
  persistent: boolean;
  /** Persistence timeout in seconds (jiffies / HZ), 0 when not persistent. */
  timeout: number;
  /** The raw jiffies, for callers that do not trust their HZ. */
  timeoutJiffies: number;
  /** IPv4 dotted mask or IPv6 prefix length, as ServiceSpec.netmask; "" when not persistent. */
  netmask: string;
  /** OPS marker; never printed for IPv6 services, so false there means "unknown". */
  onePacket: boolean;
  destinations: ProcDestination[];
}

export interface ProcIpvs {
  version: string;
  connTableSize: number;
  services: ProcService[];
}

export class ProcParseError extends Error {
  constructor(readonly file: string, readonly line: number, reason: string, readonly text: string) {
    super(`${file} line ${line}: ${reason}: '${text}'`);
    this.name = 'ProcParseError';
  }
}

const PROTOCOLS: Record<string, Protocol> = { TCP: 'tcp', UDP: 'udp', SCTP: 'sctp' };
const FORWARD: Record<string, ForwardMethod> = { Masq: 'nat', Local: 'local', Tunnel: 'tun', Route: 'dr' };

function hexU32(text: string): number | null {
  return /^[0-9A-Fa-f]{1,8}$/.test(text) ? parseInt(text, 16) : null;
}

function u32ToIPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

/** "0A000001:0050" or "[2001:0db8:...:0001]:0050" → family, address, port. */
function parseHexHostPort(text: string): { family: 'inet' | 'inet6'; address: string; port: number } | null {
  let m = /^([0-9A-Fa-f]{8}):([0-9A-Fa-f]{4})$/.exec(text);
  if (m) return { family: 'inet', address: u32ToIPv4(parseInt(m[1]!, 16)), port: parseInt(m[2]!, 16) };
  m = /^\[((?:[0-9a-fA-F]{4}:){7}[0-9a-fA-F]{4})\]:([0-9A-Fa-f]{4})$/.exec(text);
  if (!m) return null;
  const b = new Uint8Array(16);
  m[1]!.split(':').forEach((g, i) => {
    const v = parseInt(g, 16);
    b[i * 2] = v >> 8;
    b[i * 2 + 1] = v & 255;
  });
  return { family: 'inet6', address: formatIPv6(b), port: parseInt(m[2]!, 16) };
}

/**
 * The kernel prints ntohl(netmask). For IPv4 that is the mask's value; for
 * IPv6 the field holds a host-order prefix length, so a little-endian kernel
 * shows it byte-swapped (128 → 80000000).
 */
function decodeNetmask(family: 'inet' | 'inet6', v: number): string | null {
  if (family === 'inet') return u32ToIPv4(v);
  if (v <= 128) return String(v);
  const swapped = (((v & 0xff) << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24)) >>> 0;
  return swapped <= 128 ? String(swapped) : null;
}

const isSpace = (c: number) => c === 32 || (c >= 9 && c <= 13);

/** bytes[from, to) as text, a character per byte (the file is ASCII). */
function latin1(bytes: Uint8Array, from: number, to: number): string {
  let s = '';
  for (let i = from; i < to; i++) s += String.fromCharCode(bytes[i]!);
  return s;
}

/** A string's characters as bytes (its code units below 256, as the file's are). */
function latin1Bytes(text: string): Uint8Array {
  const b = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) b[i] = text.charCodeAt(i);
  return b;
}

/** Whether bytes at `from` spell `name`. */
function bytesAre(bytes: Uint8Array, from: number, name: string): boolean {
  for (let k = 0; k < name.length; k++) if (bytes[from + k] !== name.charCodeAt(k)) return false;
  return true;
}

/** The value of text[from, to) as hex digits (1-8 of them), or -1. */
function hexAt(text: Uint8Array, from: number, to: number): number {
  if (to <= from || to - from > 8) return -1;
  let v = 0;
  for (let i = from; i < to; i++) {
    const c = text[i]!;
    const d = c >= 48 && c <= 57 ? c - 48 : c >= 65 && c <= 70 ? c - 55 : c >= 97 && c <= 102 ? c - 87 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

/** The value of text[from, to) as a decimal integer with an optional '-', or NaN. */
function intAt(text: Uint8Array, from: number, to: number): number {
  let i = from, sign = 1;
  if (text[i]! === 45) { sign = -1; i++; }
  if (i >= to) return NaN;
  let v = 0;
  for (; i < to; i++) {
    const c = text[i]! - 48;
    if (c < 0 || c > 9) return NaN;
    v = v * 10 + c;
  }
  return sign * v;
}

/** Field boundaries of one line, reused from line to line (a 10,000-service file is 50,000 lines). */
const fieldStart: number[] = [], fieldEnd: number[] = [];
function fieldsOf(text: Uint8Array, from: number, to: number): number {
  let n = 0, i = from;
  while (i < to) {
    while (i < to && isSpace(text[i]!)) i++;
    if (i >= to) break;
    fieldStart[n] = i;
    while (i < to && !isSpace(text[i]!)) i++;
    fieldEnd[n++] = i;
  }
  return n;
}

/** Forwarding methods by their code in ProcRows.cols. */
export const FORWARD_CODES: readonly ForwardMethod[] = ['nat', 'local', 'tun', 'dr'];
/** numbers per real server in ProcRows.cols: see ProcRows */
export const ROW_COLS = 6;

/** The kernel's names of FORWARD_CODES, by code. */
const FORWARD_NAMES = ['Masq', 'Local', 'Tunnel', 'Route'];

/** The index of the name at text[from, to) in `names`, or -1. */
function nameAt(text: Uint8Array, from: number, to: number, names: readonly string[]): number {
  for (let k = 0; k < names.length; k++) {
    if (names[k]!.length === to - from && bytesAre(text, from, names[k]!)) return k;
  }
  return -1;
}

/**
 * The common lines without building strings for every field (the line's `n` fields are in fieldStart/fieldEnd):
 * an IPv4 real server (written to row `r` of `cols`), or an IPv4 TCP/UDP/SCTP service with no flags (to row `r`
 * of `svc`). False sends the line to the general parser, which also names whatever is wrong with it.
 */
function fastDestination(text: Uint8Array, n: number, cols: Int32Array, r: number): boolean {
  if (n !== 6 || text[fieldStart[0]!]! !== 45 || fieldEnd[0]! - fieldStart[0]! !== 2 || text[fieldStart[0]! + 1]! !== 62) return false;
  const a = fieldStart[1]!;
  if (fieldEnd[1]! - a !== 13 || text[a + 8]! !== 58) return false;
  const ip = hexAt(text, a, a + 8), port = hexAt(text, a + 9, a + 13);
  const forward = nameAt(text, fieldStart[2]!, fieldEnd[2]!, FORWARD_NAMES);
  const weight = intAt(text, fieldStart[3]!, fieldEnd[3]!), active = intAt(text, fieldStart[4]!, fieldEnd[4]!), inactive = intAt(text, fieldStart[5]!, fieldEnd[5]!);
  if (ip < 0 || port < 0 || forward < 0 || !isInt32(weight) || !isInt32(active) || !isInt32(inactive)) return false;
  const c = r * ROW_COLS;
  cols[c] = ip; cols[c + 1] = port; cols[c + 2] = forward; cols[c + 3] = weight; cols[c + 4] = active; cols[c + 5] = inactive;
  return true;
}
/** The kernel prints these counts with %d: anything else is not its file (and the general parser keeps it exact). */
const isInt32 = (n: number) => n === (n | 0);

/** The kernel's protocol names, by IPPROTO number (ProcServiceRows.cols). */
export const PROTOCOL_NUMBERS: Readonly<Record<number, Protocol>> = { 6: 'tcp', 17: 'udp', 132: 'sctp' };
/** The kernel's names of the protocols, and their IPPROTO numbers. */
const PROTOCOL_NAMES = ['TCP', 'UDP', 'SCTP'], PROTOCOL_NUMBER = [6, 17, 132];

function fastService(text: Uint8Array, n: number, svc: Int32Array, r: number, schedulers: string[]): boolean {
  if (n !== 3) return false;
  const protocol = nameAt(text, fieldStart[0]!, fieldEnd[0]!, PROTOCOL_NAMES);
  const a = fieldStart[1]!;
  if (protocol < 0 || fieldEnd[1]! - a !== 13 || text[a + 8]! !== 58) return false;
  const ip = hexAt(text, a, a + 8), port = hexAt(text, a + 9, a + 13);
  if (ip < 0 || port < 0) return false;
  // the few scheduler names in use, each made into a string once
  let sched = nameAt(text, fieldStart[2]!, fieldEnd[2]!, schedulers);
  if (sched < 0) sched = schedulers.push(latin1(text, fieldStart[2]!, fieldEnd[2]!)) - 1;
  const c = r * PLAIN_SERVICE_COLS;
  svc[c] = PROTOCOL_NUMBER[protocol]!; svc[c + 1] = ip; svc[c + 2] = port; svc[c + 3] = sched;
  return true;
}

/**
 * Parses the whole file. `hz` is the kernel's CONFIG_HZ (not USER_HZ).
 * Throws ProcParseError naming the line on anything unexpected.
 */
export function parseProcIpvs(text: string | Uint8Array, hz: number): ProcIpvs {
  const t = parseProcIpvsTable(text, hz);
  const services: ProcService[] = [];
  for (let i = 0; i < t.services.count; i++) services.push({ ...t.service(i), destinations: t.destinations(i) });
  return { version: t.version, connTableSize: t.connTableSize, services };
}

/**
 * The file parsed as parseProcIpvs does (the same checks and errors), with the services and real servers kept
 * as numbers in typed arrays, made into objects only when asked for: a listing of 10,000 × 4 then allocates no
 * object or string per service or real server (in the lab kernel, heap growth and young-generation GC were
 * most of what `director list` cost beyond its reads).
 */
export interface ProcIpvsTable {
  version: string;
  connTableSize: number;
  services: ProcServiceRows;
  /** service i as an object (`destinations` empty: ask destinations(i), or read rows); a new one at every call but for `others` */
  service(i: number): ProcService;
  /** service i's real servers, new objects at every call */
  destinations(i: number): ProcDestination[];
  rows: ProcRows;
}

/** Plain service i's key, from its numbers in `cols` (PlainServices.cols). */
export function plainServiceKey(cols: Int32Array, i: number): ServiceKey {
  const c = i * PLAIN_SERVICE_COLS;
  return { kind: 'addr', family: 'inet', protocol: PROTOCOL_NUMBERS[cols[c]!]!, address: u32ToIPv4(cols[c + 1]! >>> 0), port: cols[c + 2]! };
}

/**
 * The services as numbers (PlainServices: IPv4 TCP/UDP/SCTP services whose line says nothing more). A service
 * whose protocol column is 0 is in `others` instead (IPv6, a fwmark, persistence or OPS, or a line the fast
 * path left to the general parser).
 */
export interface ProcServiceRows extends PlainServices {
  others: ReadonlyMap<number, ProcService>;
}

/**
 * The real servers as numbers. services[i]'s are rows first[i] .. first[i + 1] - 1; row r is
 * cols[r * ROW_COLS ...]: IPv4 address (a host-order u32, stored as int32), port, forwarding code
 * (FORWARD_CODES), weight, active and inactive connections. A row whose forwarding code is -1 is in
 * `others` instead (an IPv6 real server, or a line the fast path left to the general parser).
 */
export interface ProcRows {
  first: Int32Array;
  cols: Int32Array;
  others: ReadonlyMap<number, ProcDestination>;
}

export function parseProcIpvsTable(file: string | Uint8Array, hz: number): ProcIpvsTable {
  // the file as bytes: a listing reads it so, and 2.7 MB at 10,000 × 4 is never made a string
  const text = typeof file === 'string' ? latin1Bytes(file) : file;
  const F = '/proc/net/ip_vs';
  if (!Number.isInteger(hz) || hz <= 0) throw new RangeError(`hz must be a positive integer, got ${hz}`);
  const lineEnd = (from: number) => {
    const i = text.indexOf(10, from);
    return i === -1 ? text.length : i;
  };
  const e0 = lineEnd(0), e1 = Math.min(text.length, lineEnd(e0 + 1)), e2 = Math.min(text.length, lineEnd(e1 + 1));
  const line0 = latin1(text, 0, e0), line1 = latin1(text, e0 + 1, e1), line2 = latin1(text, e1 + 1, e2);
  const head = /^IP Virtual Server version (\d+\.\d+\.\d+) \(size=(\d+)\)$/.exec(line0);
  if (!head) throw new ProcParseError(F, 1, 'not the IPVS version line', line0);
  if (!/^Prot LocalAddress:Port Scheduler Flags\s*$/.test(line1)) {
    throw new ProcParseError(F, 2, 'unexpected title line', line1);
  }
  if (!/^\s+-> RemoteAddress:Port\s+Forward\s+Weight\s+ActiveConn\s+InActConn\s*$/.test(line2)) {
    throw new ProcParseError(F, 3, 'unexpected title line', line2);
  }
  // sized once: at most one row per line
  let lines = 1;
  for (let i = text.indexOf(10); i !== -1; i = text.indexOf(10, i + 1)) lines++;
  const firsts: number[] = [];
  const cols = new Int32Array(lines * ROW_COLS);
  const others = new Map<number, ProcDestination>();
  const svcCols = new Int32Array(lines * PLAIN_SERVICE_COLS);
  const schedulers: string[] = [];
  const otherServices = new Map<number, ProcService>();
  let rows = 0, count = 0;
  let n = 3;
  for (let from = e2 + 1; from < text.length; n++) {
    const to = lineEnd(from);
    const fields = fieldsOf(text, from, to);
    const first = fields > 0 ? text[fieldStart[0]!]! : 0;
    if (first === 0) {
      // a blank line
    } else if (first === 45 && count > 0 && fastDestination(text, fields, cols, rows)) {
      rows++; // an IPv4 real server, in cols
    } else if (first !== 45 && fastService(text, fields, svcCols, count, schedulers)) {
      firsts.push(rows);
      count++; // an IPv4 service, in svcCols
    } else {
      const parsed = parseLine(latin1(text, from, to), n + 1, hz, count > 0);
      if ('key' in parsed) {
        firsts.push(rows);
        otherServices.set(count, parsed);
        svcCols[count * PLAIN_SERVICE_COLS] = 0;
        count++;
      } else {
        others.set(rows, parsed);
        cols[rows * ROW_COLS + 2] = -1;
        rows++;
      }
    }
    from = to + 1;
  }
  firsts.push(rows);
  const first = Int32Array.from(firsts);
  const destinations = (i: number): ProcDestination[] => {
    const out: ProcDestination[] = [];
    for (let r = first[i]!; r < first[i + 1]!; r++) {
      const c = r * ROW_COLS;
      out.push(cols[c + 2] === -1 ? others.get(r)! : {
        family: 'inet', address: u32ToIPv4(cols[c]! >>> 0), port: cols[c + 1]!, forward: FORWARD_CODES[cols[c + 2]!]!,
        weight: cols[c + 3]!, activeConns: cols[c + 4]!, inactiveConns: cols[c + 5]!,
      });
    }
    return out;
  };
  const service = (i: number): ProcService => {
    const other = otherServices.get(i);
    if (other) return other;
    return {
      key: plainServiceKey(svcCols, i), scheduler: schedulers[svcCols[i * PLAIN_SERVICE_COLS + 3]!]!, persistent: false, timeout: 0, timeoutJiffies: 0, netmask: '', onePacket: false, destinations: [],
    };
  };
  // An IPv6 fwmark service prints its prefix-length netmask byte-swapped; an IPv4 one a dotted mask.
  otherServices.forEach((s, i) => {
    if (s.key.kind !== 'fwmark') return;
    const dests = destinations(i);
    if (dests.length > 0 && dests.every((d) => d.family === 'inet6')) {
      s.key = { ...s.key, family: 'inet6' };
      if (s.persistent) {
        const raw = parseInt(kernelMaskHex(s.netmask), 16);
        s.netmask = decodeNetmask('inet6', raw) ?? s.netmask;
      }
    }
  });
  return {
    version: head[1]!, connTableSize: Number(head[2]),
    services: { count, cols: svcCols.subarray(0, count * PLAIN_SERVICE_COLS), schedulers, others: otherServices },
    service, destinations, rows: { first, cols: cols.subarray(0, rows * ROW_COLS), others },
  };
}

/** Any service or real-server line (IPv6, fwmark, flags), or the error naming what is wrong with it. */
function parseLine(line: string, lineNo: number, hz: number, inService: boolean): ProcService | ProcDestination {
  const fail = (why: string): never => {
    throw new ProcParseError('/proc/net/ip_vs', lineNo, why, line);
  };
  const f = line.trim().split(/\s+/);
  if (f[0] === '->') {
    if (!inService) fail('destination before any service');
    const hp = parseHexHostPort(f[1] ?? '') ?? fail('bad destination address');
    const forward = FORWARD[f[2] ?? ''] ?? fail(`unknown forwarding method '${f[2]}'`);
    const nums = f.slice(3);
    if (nums.length !== 3 || !nums.every((x) => /^-?\d+$/.test(x))) fail('expected weight, active and inactive counts');
    return { ...hp, forward, weight: Number(nums[0]), activeConns: Number(nums[1]), inactiveConns: Number(nums[2]) };
  }
  let key: ServiceKey;
  let rest: string[];
  if (f[0] === 'FWM') {
    const mark = hexU32(f[1] ?? '') ?? fail('bad fwmark');
    // the line does not say the family; IPv6 fwmark services show an IPv6 netmask (prefix) or IPv6 dests
    key = { kind: 'fwmark', family: 'inet', fwmark: mark };
    rest = f.slice(2);
  } else {
    const protocol = PROTOCOLS[f[0] ?? ''] ?? fail(`unknown protocol '${f[0]}'`);
    const hp = parseHexHostPort(f[1] ?? '') ?? fail('bad virtual address');
    key = { kind: 'addr', family: hp.family, protocol, address: hp.address, port: hp.port };
    rest = f.slice(2);
  }
  const scheduler = rest[0] ?? fail('missing scheduler');
  let i = 1;
  let onePacket = false;
  if (rest[i] === 'ops') {
    onePacket = true;
    i++;
  }
  let persistent = false, timeoutJiffies = 0, netmask = '';
  if (rest[i] === 'persistent') {
    persistent = true;
    const j = rest[i + 1] ?? '';
    if (!/^\d+$/.test(j)) fail('bad persistence timeout');
    timeoutJiffies = Number(j);
    const mask = hexU32(rest[i + 2] ?? '') ?? fail('bad persistence netmask');
    netmask = decodeNetmask(key.family, mask) ?? fail('bad IPv6 persistence prefix');
    i += 3;
  }
  if (i !== rest.length) fail(`unexpected '${rest.slice(i).join(' ')}'`);
  return { key, scheduler, persistent, timeout: Math.round(timeoutJiffies / hz), timeoutJiffies, netmask, onePacket, destinations: [] };
}

/** Inverse of the IPv4 reading of a mask, used to re-read it as IPv6. */
function kernelMaskHex(dotted: string): string {
  return dotted.split('.').map((x) => Number(x).toString(16).padStart(2, '0')).join('');
}
