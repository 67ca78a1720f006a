/**
 * services.list in compact form (services.listCompact): the same table, the
 * same information, for clients that read a large table whole.
 *
 * The plain form repeats every field name of every object: at 10,000 services
 * of 4 real servers it is 18 MB of JSON, and the time to write, send and parse
 * it grows with that. Here, as on the live wire (live-wire.ts):
 *   - strings (addresses, schedulers, netmasks, engines) are listed once in `t`
 *     and named by their index;
 *   - each object is one row of numbers: a few fixed fields, then a mask and
 *     one value per set bit of it, a field left out being 0 (counters of an
 *     idle server, thresholds, the tunnel of a non-tunnel). The rows of all
 *     services, and of all real servers, are each one text of numbers as
 *     String() writes them, comma-separated: a JSON parser makes one string
 *     of it, where an array would be a few hundred thousand elements the
 *     client allocates only to read them once (version 1 sent arrays).
 * The agent encodes it once per sample of its table and serves that to every
 * caller until the next sample. decodeCompactTable gives back exactly the
 * objects services.list returns, and refuses anything malformed (a console
 * decodes what an agent sends).
 */
import type { ServedService } from './events';
import {
  DEFAULT_FLAGS, DEFAULT_TUNNEL, FAMILIES, FORWARD_METHODS, PROTOCOLS, TUNNEL_CHECKSUMS, TUNNEL_TYPES, ZERO_STATS,
  type AddressFamily, type DestinationState, type ForwardMethod, type Protocol, type ServiceEntry, type ServiceFlags, type Stats,
  type TunnelChecksum, type TunnelType,
} from '../ipvs/model';

export const COMPACT_VERSION = 2;

export interface CompactTable {
  /** format version */
  c: typeof COMPACT_VERSION;
  /** ms since epoch when the table was read: every service's readAt.config */
  at: number;
  /** the strings rows name by index */
  t: string[];
  /**
   * Services, row after row: `protocol, address, port, scheduler, dests, mask`, then one value per set
   * bit of mask (SERVICE_FIELDS). protocol: 0 a fwmark service (address is then the mark, port 0), else
   * 1 + index in PROTOCOLS; address, scheduler: indexes in `t`; dests: how many rows of `d` are its.
   * The numbers as text, comma-separated (see the file's header).
   */
  s: string;
  /**
   * Real servers of every service in order, row after row: `address, port, forward, weight, mask`, then
   * one value per set bit of mask (DEST_FIELDS). address: index in `t`; forward: index in FORWARD_METHODS.
   * The numbers as text, comma-separated.
   */
  d: string;
}

const STATS_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes', 'cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const satisfies readonly (keyof Stats)[];
/**
 * Masked fields of a service row. family: index in FAMILIES; flags: bit i is FLAG_NAMES[i]; netmask:
 * index in `t`; pe: 0 none, else 1 + index in `t`; statsAt: readAt.stats, 0 when it is `at` (so a sample of
 * the same table, read again at another time, has the same rows).
 */
export const SERVICE_FIELDS = ['family', 'flags', 'timeout', 'netmask', 'pe', 'statsAt', ...STATS_FIELDS] as const;
/**
 * Masked fields of a real server row. family: 0 the service's, else 1 + index in FAMILIES; tunnelType,
 * tunnelChecksum: index in TUNNEL_TYPES, TUNNEL_CHECKSUMS.
 */
export const DEST_FIELDS = [
  'family', 'upperThreshold', 'lowerThreshold', 'tunnelType', 'tunnelPort', 'tunnelChecksum',
  'activeConns', 'inactiveConns', 'persistentConns', ...STATS_FIELDS,
] as const;
export const FLAG_NAMES = ['persistent', 'onePacket', 'sched1', 'sched2', 'sched3'] as const satisfies readonly (keyof ServiceFlags)[];

/** What a decoder accepts at most (well above any table an agent serves; a bound on what a hostile one can make us build). */
export const COMPACT_LIMITS = { services: 1_000_000, dests: 4_000_000, strings: 5_000_000, stringLength: 64 } as const;

// module-local copies: an imported binding can be a getter per access (CommonJS interop, as tsx runs it)
const FAMILY: readonly AddressFamily[] = [...FAMILIES];
const PROTOCOL: readonly Protocol[] = [...PROTOCOLS];
const FORWARD: readonly ForwardMethod[] = [...FORWARD_METHODS];
const TUNNEL: readonly TunnelType[] = [...TUNNEL_TYPES];
const CHECKSUM: readonly TunnelChecksum[] = [...TUNNEL_CHECKSUMS];

const SERVICE_FIXED = 6;
const DEST_FIXED = 5;

/** Appends the first `n` of `values` to `out` after their mask (zeros left out). */
function pushMasked(out: number[], values: readonly number[], n: number): void {
  const at = out.length;
  out.push(0);
  let mask = 0;
  for (let i = 0; i < n; i++) {
    const v = values[i]!;
    if (v === 0) continue;
    mask |= 1 << i;
    out.push(v);
  }
  out[at] = mask;
}

/** Writes the counters of `s` into `v` from index `from`. */
function putStats(v: number[], from: number, s: Stats): void {
  v[from] = s.conns; v[from + 1] = s.inPkts; v[from + 2] = s.outPkts; v[from + 3] = s.inBytes; v[from + 4] = s.outBytes;
  v[from + 5] = s.cps; v[from + 6] = s.inPps; v[from + 7] = s.outPps; v[from + 8] = s.inBps; v[from + 9] = s.outBps;
}

/**
 * The compact form of a table read at `at`; `statsAt(e)` is when its real servers' counters were read
 * (readAt.stats of the plain form).
 */
export function encodeCompactTable(at: number, entries: readonly ServiceEntry[], statsAt: (e: ServiceEntry) => number): CompactTable {
  const t: string[] = [];
  const index = new Map<string, number>();
  const str = (v: string): number => {
    let i = index.get(v);
    if (i === undefined) {
      index.set(v, (i = t.length));
      t.push(v);
    }
    return i;
  };
  const s: number[] = [];
  const d: number[] = [];
  // one row's masked values, reused row after row
  const v: number[] = new Array<number>(DEST_FIELDS.length).fill(0);
  for (const e of entries) {
    const k = e.key;
    if (k.kind === 'fwmark') s.push(0, k.fwmark, 0);
    else s.push(1 + PROTOCOL.indexOf(k.protocol), str(k.address), k.port);
    s.push(str(e.scheduler), e.destinations.length);
    let flags = 0;
    for (let b = 0; b < FLAG_NAMES.length; b++) if (e.flags[FLAG_NAMES[b]!]) flags |= 1 << b;
    const readAt = statsAt(e);
    v[0] = FAMILY.indexOf(k.family); v[1] = flags; v[2] = e.timeout; v[3] = str(e.netmask);
    v[4] = e.pe === null ? 0 : 1 + str(e.pe); v[5] = readAt === at ? 0 : readAt;
    putStats(v, 6, e.stats);
    pushMasked(s, v, SERVICE_FIELDS.length);
    for (const x of e.destinations) {
      d.push(str(x.address), x.port, FORWARD.indexOf(x.forward), x.weight);
      v[0] = x.family === k.family ? 0 : 1 + FAMILY.indexOf(x.family); v[1] = x.upperThreshold; v[2] = x.lowerThreshold;
      v[3] = TUNNEL.indexOf(x.tunnel.type); v[4] = x.tunnel.port; v[5] = CHECKSUM.indexOf(x.tunnel.checksum);
      v[6] = x.activeConns; v[7] = x.inactiveConns; v[8] = x.persistentConns;
      putStats(v, 9, x.stats);
      pushMasked(d, v, DEST_FIELDS.length);
    }
  }
  return { c: COMPACT_VERSION, at, t, s: s.join(','), d: d.join(',') };
}

export class CompactDecodeError extends Error {}

/** A whole number in [min, max]. */
const whole = (v: unknown, min: number, max: number): v is number => typeof v === 'number' && Number.isInteger(v) && v >= min && v <= max;
const U32 = 4294967295;
const COMMA = 44, DIGIT_0 = 48, DIGIT_9 = 57;
/** A number as String() writes a non-negative one: digits, maybe a fraction, maybe an exponent. */
const NUMBER_TEXT = /^[0-9]+(\.[0-9]+)?(e[+-][0-9]+)?$/;

/** Where readNumber left off: the index of the next number (a decode runs to its end synchronously: one reader at a time). */
let after = 0;

/**
 * The number of a row text (`s` or `d`) at `pos`, read in place (no array of the row is built); the index
 * after it is left in `after`. -1 past the end, NaN for text that is not a number String() writes. The digits
 * of a whole number below 10^15 are summed as read; anything longer or with a fraction or exponent goes
 * through Number(), so every value is the one String() wrote.
 */
function readNumber(text: string, pos: number): number {
  const end = text.length;
  if (pos >= end) return -1;
  let i = pos, v = 0, c = text.charCodeAt(i);
  while (c >= DIGIT_0 && c <= DIGIT_9) {
    v = v * 10 + (c - DIGIT_0);
    if (++i === end) break;
    c = text.charCodeAt(i);
  }
  after = i + 1;
  if (i < end && c !== COMMA) return slowNumber(text, pos);
  if (i === pos || after === end) return NaN; // an empty field, or a comma ending the text
  return i - pos > 15 ? Number(text.slice(pos, i)) : v;
}

function slowNumber(text: string, pos: number): number {
  let i = pos;
  while (i < text.length && text.charCodeAt(i) !== COMMA) i++;
  after = i + 1;
  const s = text.slice(pos, i);
  return NUMBER_TEXT.test(s) ? Number(s) : NaN;
}


/**
 * services.list's objects from the compact form. Throws CompactDecodeError, naming the row and field,
 * for anything that is not a table an agent could have encoded: wrong version, a row cut short, an index
 * or enum out of range, a count over COMPACT_LIMITS. Parts left at their defaults (zero counters, no flags,
 * the default tunnel, readAt of the whole table) are one frozen object shared by every object that has
 * them, as the form leaves them out: read the objects, do not edit them (a structured clone, as
 * postMessage makes, gives separate ones). At 10,000 idle services of 4 that is a third of the objects.
 * The rows are read in place from their text and each object is built once, at its final size: what
 * a client allocates is the objects it gets back (in the lab kernel every page the heap grows by costs).
 */
export function decodeCompactTable(input: unknown): ServedService[] {
  if (typeof input !== 'object' || input === null) throw new CompactDecodeError('compact table: not an object');
  const { c, at, t, s, d } = input as Partial<Record<keyof CompactTable, unknown>>;
  // where the decoder is, for messages (built only when one is thrown)
  let svcNo = 0, destNo = -1;
  const fail = (why: string): never => {
    const where = destNo < 0 ? `service ${svcNo}` : `service ${svcNo}, real server ${destNo}`;
    throw new CompactDecodeError(`compact table: ${where}: ${why}`);
  };
  const refuse = (why: string): never => {
    throw new CompactDecodeError(`compact table: ${why}`);
  };
  if (c !== COMPACT_VERSION) return refuse(`unknown format version ${String(c)}`);
  if (!whole(at, 0, Number.MAX_SAFE_INTEGER)) return refuse('at is not a time');
  if (!Array.isArray(t) || typeof s !== 'string' || typeof d !== 'string') return refuse('t must be an array, s and d texts');
  if (t.length > COMPACT_LIMITS.strings) return refuse(`more than ${COMPACT_LIMITS.strings} strings`);
  for (let i = 0; i < t.length; i++) {
    const v: unknown = t[i];
    if (typeof v !== 'string' || v.length > COMPACT_LIMITS.stringLength) refuse(`string ${i} is not a string of at most ${COMPACT_LIMITS.stringLength} characters`);
  }
  const strings = t as string[];
  const text = (v: number, what: string): string => (whole(v, 0, strings.length - 1) ? strings[v]! : fail(`${what} names no string (${String(v)})`));
  // where the next number of s and d starts
  let sp = 0, dp = 0;

  /** `count` values that must be there, from `pos` of the row text `row` into `into`; returns where the row goes on. */
  const fixedInto = (row: string, pos: number, into: number[], count: number): number => {
    for (let k = 0; k < count; k++) {
      const v = readNumber(row, pos);
      if (v === -1) fail('cut short');
      into[k] = v;
      pos = after;
    }
    return pos;
  };
  /** One row's masked values from `pos` of the row text `row` into `into` (0 where left out); returns where the row ends. */
  const masked = (row: string, pos: number, into: number[], names: readonly string[]): number => {
    const n = names.length;
    const mask = readNumber(row, pos);
    pos = after;
    if (!whole(mask, 0, 2 ** n - 1)) fail(mask === -1 ? 'cut short' : `bad mask ${String(mask)}`);
    if (mask === 0) {
      into.fill(0);
      return pos;
    }
    for (let b = 0; b < n; b++) {
      if (!((mask >>> b) & 1)) {
        into[b] = 0;
        continue;
      }
      const v = readNumber(row, pos);
      pos = after;
      if (!(v >= 0 && v <= Number.MAX_VALUE)) fail(v === -1 ? 'cut short' : `${names[b]} is not a number in range`);
      into[b] = v;
    }
    return pos;
  };
  const statsOf = (v: number[], from: number): Stats => (
    v[from] === 0 && v[from + 1] === 0 && v[from + 2] === 0 && v[from + 3] === 0 && v[from + 4] === 0
    && v[from + 5] === 0 && v[from + 6] === 0 && v[from + 7] === 0 && v[from + 8] === 0 && v[from + 9] === 0 ? ZERO_STATS : {
      conns: v[from]!, inPkts: v[from + 1]!, outPkts: v[from + 2]!, inBytes: v[from + 3]!, outBytes: v[from + 4]!,
      cps: v[from + 5]!, inPps: v[from + 6]!, outPps: v[from + 7]!, inBps: v[from + 8]!, outBps: v[from + 9]!,
    });
  const check = (ok: boolean, v: number[], f: number, names: readonly string[]): void => {
    if (!ok) fail(`bad ${names[f]} (${v[f]})`);
  };

  const readAtAll: ServedService['readAt'] = Object.freeze({ config: at, stats: at });
  const out: ServedService[] = [];
  const sv: number[] = new Array<number>(SERVICE_FIELDS.length).fill(0);
  const dv: number[] = new Array<number>(DEST_FIELDS.length).fill(0);
  // a row's fixed values
  const fx: number[] = [0, 0, 0, 0, 0];
  let dests = 0;
  while (sp < s.length) {
    svcNo = out.length;
    destNo = -1;
    if (svcNo >= COMPACT_LIMITS.services) fail(`more than ${COMPACT_LIMITS.services} services`);
    sp = fixedInto(s, sp, fx, SERVICE_FIXED - 1);
    const proto = fx[0]!, addr = fx[1]!, port = fx[2]!, sched = fx[3]!, n = fx[4]!;
    if (!whole(proto, 0, PROTOCOL.length)) fail(`bad protocol (${String(proto)})`);
    if (!whole(port, 0, 65535)) fail(`bad port (${String(port)})`);
    if (!whole(n, 0, COMPACT_LIMITS.dests - dests)) fail(`bad real server count (${String(n)})`);
    sp = masked(s, sp, sv, SERVICE_FIELDS);
    check(sv[0]! <= FAMILY.length - 1 && Number.isInteger(sv[0]), sv, 0, SERVICE_FIELDS);
    check(sv[1]! < 2 ** FLAG_NAMES.length && Number.isInteger(sv[1]), sv, 1, SERVICE_FIELDS);
    check(sv[2]! <= U32 && Number.isInteger(sv[2]), sv, 2, SERVICE_FIELDS);
    check(sv[5]! <= Number.MAX_SAFE_INTEGER && Number.isInteger(sv[5]), sv, 5, SERVICE_FIELDS);
    const family = FAMILY[sv[0]!]!;
    let key: ServedService['key'];
    if (proto === 0) {
      if (!whole(addr, 1, U32) || port !== 0) fail(`bad fwmark (${String(addr)})`);
      key = { kind: 'fwmark', family, fwmark: addr };
    } else {
      key = { kind: 'addr', family, protocol: PROTOCOL[proto - 1]!, address: text(addr, 'address'), port };
    }
    const flags = sv[1]!;
    // at its final length: pushed into, an empty array grows to 17 slots at its first element
    const destinations: DestinationState[] = n === 0 ? [] : new Array<DestinationState>(n);
    const svc: ServedService = {
      key,
      scheduler: text(sched, 'scheduler'),
      flags: flags === 0
        ? DEFAULT_FLAGS
        : { persistent: (flags & 1) !== 0, onePacket: (flags & 2) !== 0, sched1: (flags & 4) !== 0, sched2: (flags & 8) !== 0, sched3: (flags & 16) !== 0 },
      timeout: sv[2]!,
      netmask: text(sv[3]!, 'netmask'),
      pe: sv[4] === 0 ? null : text(sv[4]! - 1, 'pe'),
      stats: statsOf(sv, 6),
      destinations,
      readAt: sv[5] === 0 ? readAtAll : { config: at, stats: sv[5]! },
    };
    for (let k = 0; k < n; k++) {
      destNo = k;
      dp = fixedInto(d, dp, fx, DEST_FIXED - 1);
      const daddr = fx[0]!, dport = fx[1]!, fwd = fx[2]!, weight = fx[3]!;
      if (!whole(dport, 0, 65535)) fail(`bad port (${String(dport)})`);
      if (!whole(fwd, 0, FORWARD.length - 1)) fail(`bad forwarding method (${String(fwd)})`);
      if (!whole(weight, 0, U32)) fail(`bad weight (${String(weight)})`);
      const address = text(daddr, 'address');
      dp = masked(d, dp, dv, DEST_FIELDS);
      check(dv[0]! <= FAMILY.length && Number.isInteger(dv[0]), dv, 0, DEST_FIELDS);
      check(dv[1]! <= U32 && Number.isInteger(dv[1]), dv, 1, DEST_FIELDS);
      check(dv[2]! <= U32 && Number.isInteger(dv[2]), dv, 2, DEST_FIELDS);
      check(dv[3]! < TUNNEL.length && Number.isInteger(dv[3]), dv, 3, DEST_FIELDS);
      check(dv[4]! <= 65535 && Number.isInteger(dv[4]), dv, 4, DEST_FIELDS);
      check(dv[5]! < CHECKSUM.length && Number.isInteger(dv[5]), dv, 5, DEST_FIELDS);
      check(Number.isInteger(dv[6]) && Number.isInteger(dv[7]) && Number.isInteger(dv[8]), dv, 6, DEST_FIELDS);
      destinations[k] = {
        family: dv[0] === 0 ? family : FAMILY[dv[0]! - 1]!, address, port: dport,
        forward: FORWARD[fwd]!, weight,
        upperThreshold: dv[1]!, lowerThreshold: dv[2]!,
        tunnel: dv[3] === 0 && dv[4] === 0 && dv[5] === 0 ? DEFAULT_TUNNEL : { type: TUNNEL[dv[3]!]!, port: dv[4]!, checksum: CHECKSUM[dv[5]!]! },
        activeConns: dv[6]!, inactiveConns: dv[7]!, persistentConns: dv[8]!,
        stats: statsOf(dv, 9),
      };
    }
    dests += n;
    out.push(svc);
  }
  destNo = -1;
  if (dp < d.length) refuse(`real server rows from character ${dp} of d belong to no service`);
  return out;
}
