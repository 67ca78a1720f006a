/**
 * IPVS generic-netlink codec: `pack*` builds the attribute bytes Director
 * sends, `unpack*` decodes what the kernel answers. Pure: Uint8Array and
 * DataView only, so it runs (and is tested) anywhere.
 *
 * Byte order: netlink integers are in the host's order, except ports and
 * addresses (network order) and the IPv4 persistence netmask (raw bytes).
 * The host order is detected below; Director targets little-endian hosts
 * (x86-64, arm64), and the golden-byte tests are little-endian captures.
 *
 * Every unpack* either returns a value or throws
 * IpvsError('malformed_reply', <what and where>): a short, truncated or
 * garbled reply never causes a RangeError or an out-of-bounds read.
 */
import * as C from './constants';
import { IpvsError } from './errors';
import type {
  AddressFamily, DestinationKey, DestinationSpec, DestinationState, ForwardMethod, IpvsInfo,
  Protocol, ServiceFlags, ServiceKey, ServiceSpec, ServiceState, Stats, SyncDaemon,
  SyncDaemonConfig, SyncState, Timeouts, TunnelChecksum, TunnelSpec, TunnelType,
} from './model';
import { ZERO_STATS } from './model';
import { bytesToAddress, parseIPv4, parseIPv6 } from '../net/ip';

/** True on little-endian hosts, where netlink's "host order" integers are little-endian. */
export const HOST_LITTLE_ENDIAN = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

// ---------------------------------------------------------------------------
// Attribute TLV (struct nlattr)

const align4 = (n: number) => (n + 3) & ~3;

/** Attribute types a Reader keeps: every IPVS and genl-ctrl attribute any unpack* reads is below this. */
const READ_TYPES = 32;

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = new Uint8Array(len);
  let off = 0;
  for (const p of parts) { out.set(p, off); off += p.length; }
  return out;
}

/** One attribute: header, payload, zero padding to 4 bytes (nla_len excludes the padding). */
export function packAttr(type: number, payload: Uint8Array | readonly Uint8Array[], nested = false): Uint8Array {
  const body = payload instanceof Uint8Array ? payload : concatBytes(payload);
  const len = C.NLA_HDRLEN + body.length;
  if (len > 0xffff) throw new IpvsError('invalid', `netlink attribute ${type} is too long (${len} bytes)`);
  const out = new Uint8Array(align4(len));
  const v = new DataView(out.buffer);
  v.setUint16(0, len, HOST_LITTLE_ENDIAN);
  v.setUint16(2, (type & C.NLA_TYPE_MASK) | (nested ? C.NLA_F_NESTED : 0), HOST_LITTLE_ENDIAN);
  out.set(body, C.NLA_HDRLEN);
  return out;
}

export interface Attr {
  /** type with NLA_F_NESTED / NLA_F_NET_BYTEORDER masked off */
  type: number;
  nested: boolean;
  data: Uint8Array;
}

const malformed = (msg: string) => new IpvsError('malformed_reply', `malformed IPVS reply: ${msg}`);

// Integers read from the bytes, not through a DataView: a decode makes tens of thousands of readers, and a
// DataView each was an object each.
const hostU16 = HOST_LITTLE_ENDIAN
  ? (b: Uint8Array, o: number) => b[o]! | (b[o + 1]! << 8)
  : (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;
const hostU32 = HOST_LITTLE_ENDIAN
  ? (b: Uint8Array, o: number) => (b[o]! | (b[o + 1]! << 8) | (b[o + 2]! << 16) | (b[o + 3]! << 24)) >>> 0
  : (b: Uint8Array, o: number) => ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
const be16 = (b: Uint8Array, o: number) => (b[o]! << 8) | b[o + 1]!;

/**
 * Walks an attribute stream, handing each attribute's type, nested flag and payload bounds to `visit`.
 * `where` names the enclosing object for error messages.
 */
function scanAttrs(buf: Uint8Array, where: string, visit: (type: number, nested: boolean, start: number, end: number) => void,
  from = 0, to = buf.length): void {
  let off = from;
  while (off < to) {
    if (to - off < C.NLA_HDRLEN) {
      // The last attribute's padding may be cut by the enclosing length; anything else is garbage.
      if (buf.subarray(off, to).every((b) => b === 0)) break;
      throw malformed(`${where}: ${to - off} stray bytes after the last attribute`);
    }
    const len = hostU16(buf, off);
    const rawType = hostU16(buf, off + 2);
    if (len < C.NLA_HDRLEN) throw malformed(`${where}: attribute at offset ${off - from} has length ${len} (< 4)`);
    if (off + len > to) {
      throw malformed(`${where}: attribute type ${rawType & C.NLA_TYPE_MASK} at offset ${off - from} claims ${len} bytes, only ${to - off} left`);
    }
    visit(rawType & C.NLA_TYPE_MASK, (rawType & C.NLA_F_NESTED) !== 0, off + C.NLA_HDRLEN, off + len);
    off += align4(len);
  }
}

/** Split an attribute stream. `where` names the enclosing object for error messages. */
export function unpackAttrs(buf: Uint8Array, where: string): Attr[] {
  const out: Attr[] = [];
  scanAttrs(buf, where, (type, nested, start, end) => out.push({ type, nested, data: buf.subarray(start, end) }));
  return out;
}

/** Attributes by type; on duplicates the last wins, as the kernel's nla_parse does. */
export function unpackAttrMap(buf: Uint8Array, where: string): Map<number, Uint8Array> {
  const m = new Map<number, Uint8Array>();
  for (const a of unpackAttrs(buf, where)) m.set(a.type, a.data);
  return m;
}

// ---------------------------------------------------------------------------
// Scalars

function scalar(size: number, write: (v: DataView) => void): Uint8Array {
  const out = new Uint8Array(size);
  write(new DataView(out.buffer));
  return out;
}
export const packU8 = (n: number) => Uint8Array.of(n & 0xff);
export const packU16 = (n: number) => scalar(2, (v) => v.setUint16(0, n, HOST_LITTLE_ENDIAN));
export const packU32 = (n: number) => scalar(4, (v) => v.setUint32(0, n >>> 0, HOST_LITTLE_ENDIAN));
export const packBE16 = (n: number) => scalar(2, (v) => v.setUint16(0, n, false));

/** NUL-terminated ASCII string, as NLA_NUL_STRING wants; maxLen counts the NUL (kernel *_MAXLEN). */
export function packCString(s: string, maxLen: number, what: string): Uint8Array {
  if (!/^[\x20-\x7e]*$/.test(s)) throw new IpvsError('invalid', `${what} '${s}' must be printable ASCII`);
  if (s.length + 1 > maxLen) throw new IpvsError('invalid', `${what} '${s}' is longer than ${maxLen - 1} characters`);
  const out = new Uint8Array(s.length + 1);
  for (let i = 0; i < s.length; i++) out[i] = s.charCodeAt(i);
  return out;
}

/**
 * The last string Reader.string() made, handed out again for the same bytes: a dump's replies mostly repeat
 * their scheduler's name, and 10,000 services then hold one string instead of 10,000 (strings are immutable).
 */
let lastString = '';

/** Whether buf[start, end) up to its first NUL is `s`, whose characters are all printable ASCII. */
function sameText(buf: Uint8Array, start: number, end: number, s: string): boolean {
  const n = s.length;
  if (end - start < n || (end - start > n && buf[start + n] !== 0)) return false;
  for (let i = 0; i < n; i++) if (buf[start + i] !== s.charCodeAt(i)) return false;
  return true;
}

/**
 * Typed reader over one nest's attributes, with errors that name the nest and the attribute. It keeps
 * each attribute's bounds, not a copy or view of it: a dump decodes tens of thousands of nests, and a
 * view per attribute was most of the decoding's time and garbage.
 */
class Reader {
  /** by attribute type: payload start and end in `buf` (no start: absent); types past READ_TYPES are never read */
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  private constructor(
    private readonly buf: Uint8Array,
    private readonly where: string,
    private readonly names: Record<number, string>,
    from: number,
    to: number,
  ) {
    // on duplicates the last wins, as the kernel's nla_parse does
    scanAttrs(buf, where, (type, _nested, start, end) => {
      if (type < READ_TYPES) {
        this.starts[type] = start;
        this.ends[type] = end;
      }
    }, from, to);
  }

  static of(buf: Uint8Array, where: string, names: Record<number, string>): Reader {
    return new Reader(buf, where, names, 0, buf.length);
  }

  /**
   * A nest that must be there, read in place: need() and Reader.of would make a view of it, and in the lab
   * kernel the views a 10,000-service dump's decode made (several per message) cost ~100 ms.
   */
  nest(type: number, where: string, names: Record<number, string>): Reader {
    return new Reader(this.buf, where, names, this.needAt(type, 0), this.ends[type]!);
  }

  /** The buffer at() and needAt() count in. */
  bytes(): Uint8Array { return this.buf; }

  has(type: number): boolean { return this.starts[type] !== undefined; }

  /** The payload's start in buf, after checking it holds at least minLen bytes; -1 when absent. */
  at(type: number, minLen: number): number {
    const start = this.starts[type];
    if (start === undefined) return -1;
    const len = this.ends[type]! - start;
    if (len < minLen) throw malformed(`${this.where} attribute ${this.name(type)} has ${len} bytes, expected at least ${minLen}`);
    return start;
  }

  raw(type: number, minLen: number): Uint8Array | undefined {
    const start = this.at(type, minLen);
    return start === -1 ? undefined : this.buf.subarray(start, this.ends[type]);
  }

  /** at(), for an attribute that must be there. */
  needAt(type: number, minLen: number): number {
    const start = this.at(type, minLen);
    if (start === -1) throw malformed(`${this.where} lacks attribute ${this.name(type)}`);
    return start;
  }

  need(type: number, minLen: number): Uint8Array {
    return this.buf.subarray(this.needAt(type, minLen), this.ends[type]);
  }

  u8(type: number): number | undefined { const o = this.at(type, 1); return o === -1 ? undefined : this.buf[o]; }
  u16(type: number): number | undefined { const o = this.at(type, 2); return o === -1 ? undefined : hostU16(this.buf, o); }
  be16(type: number): number | undefined { const o = this.at(type, 2); return o === -1 ? undefined : be16(this.buf, o); }
  u32(type: number): number | undefined { const o = this.at(type, 4); return o === -1 ? undefined : hostU32(this.buf, o); }
  /** As Number(the u64): high * 2^32 is exact and the one addition rounds as the BigInt conversion would. */
  u64(type: number): number | undefined {
    const o = this.at(type, 8);
    if (o === -1) return undefined;
    const lo = hostU32(this.buf, o + (HOST_LITTLE_ENDIAN ? 0 : 4));
    const hi = hostU32(this.buf, o + (HOST_LITTLE_ENDIAN ? 4 : 0));
    // below 2^32 the u32 itself: a product of doubles stored into a Stats field gives every Stats object a boxed
    // number per field, where a small integer is stored in place
    return hi === 0 ? lo : hi * 2 ** 32 + lo;
  }
  needU16(type: number): number { return hostU16(this.buf, this.needAt(type, 2)); }
  needBE16(type: number): number { return be16(this.buf, this.needAt(type, 2)); }
  needU32(type: number): number { return hostU32(this.buf, this.needAt(type, 4)); }
  /** A counter of a stats nest: u64 in STATS64 (`wide`), u32 in STATS; 0 when absent. */
  counter(type: number, wide: boolean): number { return (wide ? this.u64(type) : this.u32(type)) ?? 0; }

  /** Up to its first NUL, read in place (no view of it). */
  string(type: number): string | undefined {
    const start = this.at(type, 0);
    if (start === -1) return undefined;
    const end = this.ends[type]!;
    if (sameText(this.buf, start, end, lastString)) return lastString;
    let s = '';
    for (let i = start; i < end; i++) {
      const b = this.buf[i]!;
      if (b === 0) break;
      if (b < 0x20 || b > 0x7e) throw malformed(`${this.where} attribute ${this.name(type)} is not printable ASCII`);
      s += String.fromCharCode(b);
    }
    lastString = s;
    return s;
  }

  name(type: number): string { return this.names[type] ?? String(type); }
}

// ---------------------------------------------------------------------------
// Enumerations <-> wire values

const FAMILY_TO_AF: Record<AddressFamily, number> = { inet: C.AF_INET, inet6: C.AF_INET6 };
const PROTOCOL_TO_NUM: Record<Protocol, number> = { tcp: C.IPPROTO_TCP, udp: C.IPPROTO_UDP, sctp: C.IPPROTO_SCTP };
const FORWARD_TO_NUM: Record<ForwardMethod, number> = {
  nat: C.IP_VS_CONN_F_MASQ, local: C.IP_VS_CONN_F_LOCALNODE, tun: C.IP_VS_CONN_F_TUNNEL,
  dr: C.IP_VS_CONN_F_DROUTE, bypass: C.IP_VS_CONN_F_BYPASS,
};
const TUNNEL_TO_NUM: Record<TunnelType, number> = {
  ipip: C.IP_VS_CONN_F_TUNNEL_TYPE_IPIP, gue: C.IP_VS_CONN_F_TUNNEL_TYPE_GUE, gre: C.IP_VS_CONN_F_TUNNEL_TYPE_GRE,
};
const CHECKSUM_TO_NUM: Record<TunnelChecksum, number> = {
  nocsum: C.IP_VS_TUNNEL_ENCAP_FLAG_NOCSUM, csum: C.IP_VS_TUNNEL_ENCAP_FLAG_CSUM, remcsum: C.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM,
};
const SYNC_STATE_TO_NUM: Record<SyncState, number> = { master: C.IP_VS_STATE_MASTER, backup: C.IP_VS_STATE_BACKUP };

function invert<K extends string>(m: Record<K, number>): Map<number, K> {
  return new Map(Object.entries(m).map(([k, v]) => [v as number, k as K]));
}
const AF_TO_FAMILY = invert(FAMILY_TO_AF);
const NUM_TO_PROTOCOL = invert(PROTOCOL_TO_NUM);
const NUM_TO_FORWARD = invert(FORWARD_TO_NUM);
const NUM_TO_TUNNEL = invert(TUNNEL_TO_NUM);
const NUM_TO_SYNC_STATE = invert(SYNC_STATE_TO_NUM);

export const afOf = (f: AddressFamily) => FAMILY_TO_AF[f];
export const protocolNumber = (p: Protocol) => PROTOCOL_TO_NUM[p];

function familyFromWire(af: number, where: string): AddressFamily {
  const f = AF_TO_FAMILY.get(af);
  if (!f) throw malformed(`${where} has unknown address family ${af}`);
  return f;
}

// ---------------------------------------------------------------------------
// Addresses

function packAddress(family: AddressFamily, text: string, what: string): Uint8Array {
  const parsed = family === 'inet' ? parseIPv4(text) : parseIPv6(text);
  if (!parsed) throw new IpvsError('invalid', `${what} '${text}' is not an ${family === 'inet' ? 'IPv4' : 'IPv6'} address`);
  const out = new Uint8Array(16);
  out.set(parsed);
  return out;
}

function unpackAddress(family: AddressFamily, r: Reader, type: number): string {
  // The kernel always sends the 16-byte union; IPv4 needs only its first four.
  return bytesToAddress(family, r.bytes(), r.needAt(type, family === 'inet' ? 4 : 16));
}

// ---------------------------------------------------------------------------
// Service

const SVC_NAMES: Record<number, string> = {
  1: 'AF', 2: 'PROTOCOL', 3: 'ADDR', 4: 'PORT', 5: 'FWMARK', 6: 'SCHED_NAME', 7: 'FLAGS',
  8: 'TIMEOUT', 9: 'NETMASK', 10: 'STATS', 11: 'PE_NAME', 12: 'STATS64',
};

function serviceIdentityAttrs(key: ServiceKey): Uint8Array[] {
  const a = [packAttr(C.IPVS_SVC_ATTR_AF, packU16(FAMILY_TO_AF[key.family]))];
  if (key.kind === 'fwmark') {
    a.push(packAttr(C.IPVS_SVC_ATTR_FWMARK, packU32(key.fwmark)));
  } else {
    a.push(
      packAttr(C.IPVS_SVC_ATTR_PROTOCOL, packU16(PROTOCOL_TO_NUM[key.protocol])),
      packAttr(C.IPVS_SVC_ATTR_ADDR, packAddress(key.family, key.address, 'virtual address')),
      packAttr(C.IPVS_SVC_ATTR_PORT, packBE16(key.port)),
    );
  }
  return a;
}

/** IPVS_CMD_ATTR_SERVICE holding only the identity: what DEL_SERVICE, GET_DEST, ZERO and the dest commands need. */
export function packServiceKey(key: ServiceKey): Uint8Array {
  return packAttr(C.IPVS_CMD_ATTR_SERVICE, serviceIdentityAttrs(key), true);
}

export function packServiceFlags(f: ServiceFlags): number {
  return (f.persistent ? C.IP_VS_SVC_F_PERSISTENT : 0)
    | (f.onePacket ? C.IP_VS_SVC_F_ONEPACKET : 0)
    | (f.sched1 ? C.IP_VS_SVC_F_SCHED1 : 0)
    | (f.sched2 ? C.IP_VS_SVC_F_SCHED2 : 0)
    | (f.sched3 ? C.IP_VS_SVC_F_SCHED3 : 0);
}

/** HASHED (always set by the kernel) and unknown bits are dropped. */
export function unpackServiceFlags(bits: number): ServiceFlags {
  return {
    persistent: (bits & C.IP_VS_SVC_F_PERSISTENT) !== 0,
    onePacket: (bits & C.IP_VS_SVC_F_ONEPACKET) !== 0,
    sched1: (bits & C.IP_VS_SVC_F_SCHED1) !== 0,
    sched2: (bits & C.IP_VS_SVC_F_SCHED2) !== 0,
    sched3: (bits & C.IP_VS_SVC_F_SCHED3) !== 0,
  };
}

/** IPv4: the dotted mask as raw bytes; IPv6: the prefix length as a host-order u32 (reference §3.2). */
export function packNetmask(family: AddressFamily, netmask: string): Uint8Array {
  if (family === 'inet') {
    const b = parseIPv4(netmask);
    if (!b) throw new IpvsError('invalid', `netmask '${netmask}' is not a dotted IPv4 mask`);
    return b;
  }
  if (!/^\d{1,3}$/.test(netmask) || Number(netmask) > 128) {
    throw new IpvsError('invalid', `IPv6 netmask '${netmask}' is not a prefix length 0..128`);
  }
  return packU32(Number(netmask));
}

/** IPVS_CMD_ATTR_SERVICE with everything NEW_SERVICE / SET_SERVICE require. */
export function packService(spec: ServiceSpec): Uint8Array {
  const a = serviceIdentityAttrs(spec.key);
  a.push(packAttr(C.IPVS_SVC_ATTR_SCHED_NAME, packCString(spec.scheduler, C.IP_VS_SCHEDNAME_MAXLEN, 'scheduler name')));
  if (spec.pe !== null) {
    a.push(packAttr(C.IPVS_SVC_ATTR_PE_NAME, packCString(spec.pe, C.IP_VS_PENAME_MAXLEN + 1, 'persistence engine name')));
  }
  // mask ~0: the kernel replaces every flag, so the request is the complete new state
  a.push(
    packAttr(C.IPVS_SVC_ATTR_FLAGS, [packU32(packServiceFlags(spec.flags)), packU32(0xffffffff)]),
    packAttr(C.IPVS_SVC_ATTR_TIMEOUT, packU32(spec.timeout)),
    packAttr(C.IPVS_SVC_ATTR_NETMASK, packNetmask(spec.key.family, spec.netmask)),
  );
  return packAttr(C.IPVS_CMD_ATTR_SERVICE, a, true);
}

function unpackServiceKey(r: Reader, where: string): ServiceKey {
  const family = familyFromWire(r.needU16(C.IPVS_SVC_ATTR_AF), where);
  const fwmark = r.u32(C.IPVS_SVC_ATTR_FWMARK);
  if (fwmark !== undefined && fwmark !== 0) return { kind: 'fwmark', family, fwmark };
  const protoNum = r.needU16(C.IPVS_SVC_ATTR_PROTOCOL);
  const protocol = NUM_TO_PROTOCOL.get(protoNum);
  if (!protocol) throw malformed(`${where} has unsupported protocol ${protoNum}`);
  const address = unpackAddress(family, r, C.IPVS_SVC_ATTR_ADDR);
  const port = r.needBE16(C.IPVS_SVC_ATTR_PORT);
  return { kind: 'addr', family, protocol, address, port };
}

function unpackNetmask(family: AddressFamily, r: Reader): string {
  const o = r.at(C.IPVS_SVC_ATTR_NETMASK, 4);
  if (o === -1) return family === 'inet' ? '255.255.255.255' : '128';
  const d = r.bytes();
  if (family === 'inet6') return String(hostU32(d, o));
  // the mask of every service that is not persistent: one string for all of them
  if ((d[o]! & d[o + 1]! & d[o + 2]! & d[o + 3]!) === 255) return '255.255.255.255';
  return `${d[o]}.${d[o + 1]}.${d[o + 2]}.${d[o + 3]}`;
}

/** The payload of an IPVS_CMD_ATTR_SERVICE nest (as in a GET_SERVICE dump). */
export function unpackService(nest: Uint8Array): ServiceState {
  return serviceOf(Reader.of(nest, 'service', SVC_NAMES));
}

function serviceOf(r: Reader): ServiceState {
  return { ...serviceSpecOf(r), stats: unpackStatsPreferring64(r, C.IPVS_SVC_ATTR_STATS64, C.IPVS_SVC_ATTR_STATS) };
}

function serviceSpecOf(r: Reader): ServiceSpec {
  const key = unpackServiceKey(r, 'service');
  return {
    key,
    scheduler: r.string(C.IPVS_SVC_ATTR_SCHED_NAME) ?? '',
    flags: unpackServiceFlags(r.u32(C.IPVS_SVC_ATTR_FLAGS) ?? 0),
    timeout: r.u32(C.IPVS_SVC_ATTR_TIMEOUT) ?? 0,
    netmask: unpackNetmask(key.family, r),
    pe: r.string(C.IPVS_SVC_ATTR_PE_NAME) || null,
  };
}

/** Top-level attributes of a NEW_SERVICE message (a GET_SERVICE reply or dump entry). */
export function unpackServiceMessage(attrs: Uint8Array): ServiceState {
  return serviceOf(Reader.of(attrs, 'service message', CMD_NAMES).nest(C.IPVS_CMD_ATTR_SERVICE, 'service', SVC_NAMES));
}

/** unpackServiceMessage without the counters, for readers that print only the configuration (their nests are not decoded). */
export function unpackServiceSpecMessage(attrs: Uint8Array): ServiceSpec {
  return serviceSpecOf(Reader.of(attrs, 'service message', CMD_NAMES).nest(C.IPVS_CMD_ATTR_SERVICE, 'service', SVC_NAMES));
}

/**
 * Whether a GET_SERVICE reply (its attributes) is exactly the IPv4 service `protocol` (IPPROTO number)
 * `ip`:`port` with `scheduler` and nothing more: no flags, persistence engine or timeout, the full netmask.
 * Read in place, nothing made: a reader that knows a service from /proc/net/ip_vs decodes only the replies
 * that say more than the file. False for anything else, malformed replies included (their full decode
 * names what is wrong).
 */
export function isPlainServiceReply(attrs: Uint8Array, protocol: number, ip: number, port: number, scheduler: string): boolean {
  const nest = attrAt(attrs, 0, attrs.length, C.IPVS_CMD_ATTR_SERVICE);
  if (nest < 0) return false;
  const to = nest + hostU16(attrs, nest - C.NLA_HDRLEN) - C.NLA_HDRLEN;
  let seen = 0;
  for (let off = nest; off + C.NLA_HDRLEN <= to;) {
    const len = hostU16(attrs, off), type = hostU16(attrs, off + 2) & C.NLA_TYPE_MASK;
    if (len < C.NLA_HDRLEN || off + len > to) return false;
    const o = off + C.NLA_HDRLEN, n = len - C.NLA_HDRLEN;
    const u32 = n >= 4 ? hostU32(attrs, o) : -1;
    switch (type) {
      case C.IPVS_SVC_ATTR_AF: if (n < 2 || hostU16(attrs, o) !== C.AF_INET) return false; break;
      case C.IPVS_SVC_ATTR_PROTOCOL: if (n < 2 || hostU16(attrs, o) !== protocol) return false; break;
      case C.IPVS_SVC_ATTR_ADDR: if (n < 4 || ((attrs[o]! << 24) | (attrs[o + 1]! << 16) | (attrs[o + 2]! << 8) | attrs[o + 3]!) !== (ip | 0)) return false; break;
      case C.IPVS_SVC_ATTR_PORT: if (n < 2 || be16(attrs, o) !== port) return false; break;
      case C.IPVS_SVC_ATTR_FWMARK: if (u32 !== 0) return false; break;
      case C.IPVS_SVC_ATTR_SCHED_NAME: if (!sameText(attrs, o, o + n, scheduler)) return false; break;
      case C.IPVS_SVC_ATTR_FLAGS: if (u32 === -1 || (u32 & ~C.IP_VS_SVC_F_HASHED) !== 0) return false; break;
      case C.IPVS_SVC_ATTR_TIMEOUT: if (u32 !== 0) return false; break;
      case C.IPVS_SVC_ATTR_NETMASK: if (u32 !== 0xffffffff) return false; break;
      case C.IPVS_SVC_ATTR_PE_NAME: if (n > 0 && attrs[o] !== 0) return false; break;
      default: break;
    }
    if (type < 32) seen |= 1 << type;
    off += align4(len);
  }
  const needed = (1 << C.IPVS_SVC_ATTR_AF) | (1 << C.IPVS_SVC_ATTR_PROTOCOL) | (1 << C.IPVS_SVC_ATTR_ADDR) | (1 << C.IPVS_SVC_ATTR_PORT) | (1 << C.IPVS_SVC_ATTR_SCHED_NAME);
  return (seen & needed) === needed;
}

/** The payload start of the first attribute of `type` in buf[from, to), or -1. */
function attrAt(buf: Uint8Array, from: number, to: number, type: number): number {
  for (let off = from; off + C.NLA_HDRLEN <= to;) {
    const len = hostU16(buf, off);
    if (len < C.NLA_HDRLEN || off + len > to) return -1;
    if ((hostU16(buf, off + 2) & C.NLA_TYPE_MASK) === type) return off + C.NLA_HDRLEN;
    off += align4(len);
  }
  return -1;
}

const CMD_NAMES: Record<number, string> = { 1: 'SERVICE', 2: 'DEST', 3: 'DAEMON', 4: 'TIMEOUT_TCP', 5: 'TIMEOUT_TCP_FIN', 6: 'TIMEOUT_UDP' };

// ---------------------------------------------------------------------------
// Statistics

const STATS_NAMES: Record<number, string> = {
  1: 'CONNS', 2: 'INPKTS', 3: 'OUTPKTS', 4: 'INBYTES', 5: 'OUTBYTES', 6: 'CPS', 7: 'INPPS', 8: 'OUTPPS', 9: 'INBPS', 10: 'OUTBPS', 11: 'PAD',
};
const STATS_FIELDS: [keyof Stats, number][] = [
  ['conns', C.IPVS_STATS_ATTR_CONNS], ['inPkts', C.IPVS_STATS_ATTR_INPKTS], ['outPkts', C.IPVS_STATS_ATTR_OUTPKTS],
  ['inBytes', C.IPVS_STATS_ATTR_INBYTES], ['outBytes', C.IPVS_STATS_ATTR_OUTBYTES], ['cps', C.IPVS_STATS_ATTR_CPS],
  ['inPps', C.IPVS_STATS_ATTR_INPPS], ['outPps', C.IPVS_STATS_ATTR_OUTPPS], ['inBps', C.IPVS_STATS_ATTR_INBPS],
  ['outBps', C.IPVS_STATS_ATTR_OUTBPS],
];

/**
 * A STATS (`wide` false: u32 counters, u64 bytes) or STATS64 (`wide` true: all u64) nest.
 * PAD and unknown attributes are skipped.
 */
export function unpackStats(nest: Uint8Array, wide: boolean, where = wide ? 'stats64' : 'stats'): Stats {
  const r = Reader.of(nest, where, STATS_NAMES);
  // one literal in ZERO_STATS's order (the JSON of a list keeps it); bytes are u64 in both nests
  return {
    conns: r.counter(C.IPVS_STATS_ATTR_CONNS, wide), inPkts: r.counter(C.IPVS_STATS_ATTR_INPKTS, wide),
    outPkts: r.counter(C.IPVS_STATS_ATTR_OUTPKTS, wide), inBytes: r.counter(C.IPVS_STATS_ATTR_INBYTES, true),
    outBytes: r.counter(C.IPVS_STATS_ATTR_OUTBYTES, true), cps: r.counter(C.IPVS_STATS_ATTR_CPS, wide),
    inPps: r.counter(C.IPVS_STATS_ATTR_INPPS, wide), outPps: r.counter(C.IPVS_STATS_ATTR_OUTPPS, wide),
    inBps: r.counter(C.IPVS_STATS_ATTR_INBPS, wide), outBps: r.counter(C.IPVS_STATS_ATTR_OUTBPS, wide),
  };
}

/** Encodes stats as the kernel does (for tests and fakes). */
export function packStats(type: number, s: Stats, wide: boolean): Uint8Array {
  const u64 = (n: number) => scalar(8, (v) => v.setBigUint64(0, BigInt(n), HOST_LITTLE_ENDIAN));
  return packAttr(type, STATS_FIELDS.map(([field, t]) => {
    const is64 = wide || t === C.IPVS_STATS_ATTR_INBYTES || t === C.IPVS_STATS_ATTR_OUTBYTES;
    return packAttr(t, is64 ? u64(s[field]) : packU32(s[field]));
  }));
}

/** t64 and t32: the STATS64 and STATS attribute types of a service or destination nest (named so in both). */
function unpackStatsPreferring64(r: Reader, t64: number, t32: number): Stats {
  // STATS carries truncated 32-bit counters; STATS64 (kernel >= 4.1) the real ones.
  const s64 = r.raw(t64, 0);
  if (s64) return unpackStats(s64, true, 'stats64 nest');
  const s32 = r.raw(t32, 0);
  return s32 ? unpackStats(s32, false, 'stats nest') : { ...ZERO_STATS };
}

// ---------------------------------------------------------------------------
// Destination

const DEST_NAMES: Record<number, string> = {
  1: 'ADDR', 2: 'PORT', 3: 'FWD_METHOD', 4: 'WEIGHT', 5: 'U_THRESH', 6: 'L_THRESH', 7: 'ACTIVE_CONNS',
  8: 'INACT_CONNS', 9: 'PERSIST_CONNS', 10: 'STATS', 11: 'ADDR_FAMILY', 12: 'STATS64', 13: 'TUN_TYPE',
  14: 'TUN_PORT', 15: 'TUN_FLAGS',
};

function destIdentityAttrs(d: DestinationKey): Uint8Array[] {
  return [
    packAttr(C.IPVS_DEST_ATTR_ADDR_FAMILY, packU16(FAMILY_TO_AF[d.family])),
    packAttr(C.IPVS_DEST_ATTR_ADDR, packAddress(d.family, d.address, 'real server address')),
    packAttr(C.IPVS_DEST_ATTR_PORT, packBE16(d.port)),
  ];
}

/** IPVS_CMD_ATTR_DEST with the identity only (DEL_DEST). */
export function packDestinationKey(d: DestinationKey): Uint8Array {
  return packAttr(C.IPVS_CMD_ATTR_DEST, destIdentityAttrs(d), true);
}

/** IPVS_CMD_ATTR_DEST with everything NEW_DEST / SET_DEST require, in ipvsadm's order. */
export function packDestination(d: DestinationSpec): Uint8Array {
  const a = destIdentityAttrs(d);
  a.push(
    packAttr(C.IPVS_DEST_ATTR_FWD_METHOD, packU32(FORWARD_TO_NUM[d.forward])),
    packAttr(C.IPVS_DEST_ATTR_WEIGHT, packU32(d.weight)),
    packAttr(C.IPVS_DEST_ATTR_TUN_TYPE, packU8(TUNNEL_TO_NUM[d.tunnel.type])),
    packAttr(C.IPVS_DEST_ATTR_TUN_PORT, packBE16(d.tunnel.port)),
    packAttr(C.IPVS_DEST_ATTR_TUN_FLAGS, packU16(CHECKSUM_TO_NUM[d.tunnel.checksum])),
    packAttr(C.IPVS_DEST_ATTR_U_THRESH, packU32(d.upperThreshold)),
    packAttr(C.IPVS_DEST_ATTR_L_THRESH, packU32(d.lowerThreshold)),
  );
  return packAttr(C.IPVS_CMD_ATTR_DEST, a, true);
}

function unpackTunnel(r: Reader): TunnelSpec {
  const typeNum = r.u8(C.IPVS_DEST_ATTR_TUN_TYPE) ?? C.IP_VS_CONN_F_TUNNEL_TYPE_IPIP;
  const type = NUM_TO_TUNNEL.get(typeNum);
  if (!type) throw malformed(`destination has unknown tunnel type ${typeNum}`);
  const flags = r.u16(C.IPVS_DEST_ATTR_TUN_FLAGS) ?? 0;
  // Same precedence as ipvsadm's --tun-info: remote checksum wins over checksum.
  const checksum: TunnelChecksum = flags & C.IP_VS_TUNNEL_ENCAP_FLAG_REMCSUM ? 'remcsum'
    : flags & C.IP_VS_TUNNEL_ENCAP_FLAG_CSUM ? 'csum' : 'nocsum';
  return { type, port: r.be16(C.IPVS_DEST_ATTR_TUN_PORT) ?? 0, checksum };
}

/**
 * The payload of an IPVS_CMD_ATTR_DEST nest. `serviceFamily` is the default
 * for kernels older than 3.18, which do not send ADDR_FAMILY.
 */
export function unpackDestination(nest: Uint8Array, serviceFamily: AddressFamily): DestinationState {
  const r = Reader.of(nest, 'destination', DEST_NAMES);
  const afNum = r.u16(C.IPVS_DEST_ATTR_ADDR_FAMILY);
  const family = afNum === undefined ? serviceFamily : familyFromWire(afNum, 'destination');
  const fwdNum = r.needU32(C.IPVS_DEST_ATTR_FWD_METHOD) & C.IP_VS_CONN_F_FWD_MASK;
  const forward = NUM_TO_FORWARD.get(fwdNum);
  if (!forward) throw malformed(`destination has unknown forwarding method ${fwdNum}`);
  return {
    family,
    address: unpackAddress(family, r, C.IPVS_DEST_ATTR_ADDR),
    port: r.needBE16(C.IPVS_DEST_ATTR_PORT),
    forward,
    weight: r.needU32(C.IPVS_DEST_ATTR_WEIGHT),
    upperThreshold: r.u32(C.IPVS_DEST_ATTR_U_THRESH) ?? 0,
    lowerThreshold: r.u32(C.IPVS_DEST_ATTR_L_THRESH) ?? 0,
    tunnel: unpackTunnel(r),
    activeConns: r.u32(C.IPVS_DEST_ATTR_ACTIVE_CONNS) ?? 0,
    inactiveConns: r.u32(C.IPVS_DEST_ATTR_INACT_CONNS) ?? 0,
    persistentConns: r.u32(C.IPVS_DEST_ATTR_PERSIST_CONNS) ?? 0,
    stats: unpackStatsPreferring64(r, C.IPVS_DEST_ATTR_STATS64, C.IPVS_DEST_ATTR_STATS),
  };
}

/** Top-level attributes of a NEW_DEST message (a GET_DEST dump entry). */
export function unpackDestinationMessage(attrs: Uint8Array, serviceFamily: AddressFamily): DestinationState {
  const top = Reader.of(attrs, 'destination message', CMD_NAMES);
  return unpackDestination(top.need(C.IPVS_CMD_ATTR_DEST, 0), serviceFamily);
}

// ---------------------------------------------------------------------------
// Info, timeouts

export function unpackInfo(attrs: Uint8Array): IpvsInfo {
  const r = Reader.of(attrs, 'info reply', { 1: 'VERSION', 2: 'CONN_TAB_SIZE' });
  const code = r.needU32(C.IPVS_INFO_ATTR_VERSION);
  return {
    version: `${(code >>> 16) & 0xff}.${(code >>> 8) & 0xff}.${code & 0xff}`,
    versionCode: code,
    connTableSize: r.needU32(C.IPVS_INFO_ATTR_CONN_TAB_SIZE),
  };
}

/** SET_CONFIG attributes; a missing value is sent as 0, which the kernel reads as "keep". */
export function packTimeouts(t: Partial<Timeouts>): Uint8Array {
  return concatBytes([
    packAttr(C.IPVS_CMD_ATTR_TIMEOUT_TCP, packU32(t.tcp ?? 0)),
    packAttr(C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN, packU32(t.tcpFin ?? 0)),
    packAttr(C.IPVS_CMD_ATTR_TIMEOUT_UDP, packU32(t.udp ?? 0)),
  ]);
}

export function unpackTimeouts(attrs: Uint8Array): Timeouts {
  const r = Reader.of(attrs, 'timeout reply', CMD_NAMES);
  return {
    tcp: r.needU32(C.IPVS_CMD_ATTR_TIMEOUT_TCP),
    tcpFin: r.needU32(C.IPVS_CMD_ATTR_TIMEOUT_TCP_FIN),
    udp: r.needU32(C.IPVS_CMD_ATTR_TIMEOUT_UDP),
  };
}

// ---------------------------------------------------------------------------
// Sync daemon

const DAEMON_NAMES: Record<number, string> = {
  1: 'STATE', 2: 'MCAST_IFN', 3: 'SYNC_ID', 4: 'SYNC_MAXLEN', 5: 'MCAST_GROUP', 6: 'MCAST_GROUP6', 7: 'MCAST_PORT', 8: 'MCAST_TTL',
};

/** IPVS_CMD_ATTR_DAEMON for NEW_DAEMON; optional fields are left for the kernel to default. */
export function packDaemon(cfg: SyncDaemonConfig): Uint8Array {
  const a = [
    packAttr(C.IPVS_DAEMON_ATTR_STATE, packU32(SYNC_STATE_TO_NUM[cfg.state])),
    packAttr(C.IPVS_DAEMON_ATTR_MCAST_IFN, packCString(cfg.interface, C.IP_VS_IFNAME_MAXLEN, 'interface name')),
    packAttr(C.IPVS_DAEMON_ATTR_SYNC_ID, packU32(cfg.syncId)),
  ];
  if (cfg.maxLen !== undefined) a.push(packAttr(C.IPVS_DAEMON_ATTR_SYNC_MAXLEN, packU16(cfg.maxLen)));
  if (cfg.group !== undefined) {
    const v4 = parseIPv4(cfg.group);
    const v6 = v4 ? null : parseIPv6(cfg.group);
    if (!v4 && !v6) throw new IpvsError('invalid', `multicast group '${cfg.group}' is not an IP address`);
    a.push(v4 ? packAttr(C.IPVS_DAEMON_ATTR_MCAST_GROUP, v4) : packAttr(C.IPVS_DAEMON_ATTR_MCAST_GROUP6, v6!));
  }
  if (cfg.port !== undefined) a.push(packAttr(C.IPVS_DAEMON_ATTR_MCAST_PORT, packU16(cfg.port)));
  if (cfg.ttl !== undefined) a.push(packAttr(C.IPVS_DAEMON_ATTR_MCAST_TTL, packU8(cfg.ttl)));
  return packAttr(C.IPVS_CMD_ATTR_DAEMON, a, true);
}

/** IPVS_CMD_ATTR_DAEMON for DEL_DAEMON. */
export function packDaemonState(state: SyncState): Uint8Array {
  return packAttr(C.IPVS_CMD_ATTR_DAEMON, [packAttr(C.IPVS_DAEMON_ATTR_STATE, packU32(SYNC_STATE_TO_NUM[state]))], true);
}

export function unpackDaemon(nest: Uint8Array): SyncDaemon {
  const r = Reader.of(nest, 'sync daemon', DAEMON_NAMES);
  const stateNum = r.needU32(C.IPVS_DAEMON_ATTR_STATE);
  const state = NUM_TO_SYNC_STATE.get(stateNum);
  if (!state) throw malformed(`sync daemon has unknown state ${stateNum}`);
  const g6 = r.raw(C.IPVS_DAEMON_ATTR_MCAST_GROUP6, 16);
  const g4 = r.raw(C.IPVS_DAEMON_ATTR_MCAST_GROUP, 4);
  return {
    state,
    interface: r.string(C.IPVS_DAEMON_ATTR_MCAST_IFN) ?? '',
    syncId: r.needU32(C.IPVS_DAEMON_ATTR_SYNC_ID),
    maxLen: r.u16(C.IPVS_DAEMON_ATTR_SYNC_MAXLEN) ?? 0,
    group: g6 ? bytesToAddress('inet6', g6) : g4 ? bytesToAddress('inet', g4) : C.IP_VS_SYNC_GROUP,
    port: r.u16(C.IPVS_DAEMON_ATTR_MCAST_PORT) ?? C.IP_VS_SYNC_PORT,
    ttl: r.u8(C.IPVS_DAEMON_ATTR_MCAST_TTL) ?? 1,
  };
}

export function unpackDaemonMessage(attrs: Uint8Array): SyncDaemon {
  const top = Reader.of(attrs, 'sync daemon message', CMD_NAMES);
  return unpackDaemon(top.need(C.IPVS_CMD_ATTR_DAEMON, 0));
}

// ---------------------------------------------------------------------------
// Generic netlink header and the controller (family lookup)

/** genl header (cmd, version, reserved) followed by the attributes. */
export function packGenlMessage(cmd: number, attrs: readonly Uint8Array[] = [], version = C.IPVS_GENL_VERSION): Uint8Array {
  return concatBytes([Uint8Array.of(cmd, version, 0, 0), ...attrs]);
}

/** The attributes of a generic-netlink payload held in `buffer` at [offset, offset + length), as one view (nothing else made: a dump reads one per reply). */
export function genlAttrs(buffer: ArrayBufferLike, offset: number, length: number): Uint8Array {
  if (length < C.GENL_HDRLEN) throw malformed(`generic netlink payload of ${length} bytes has no header`);
  return new Uint8Array(buffer, offset + C.GENL_HDRLEN, length - C.GENL_HDRLEN);
}

export function unpackGenlMessage(payload: Uint8Array): { cmd: number; version: number; attrs: Uint8Array } {
  if (payload.length < C.GENL_HDRLEN) throw malformed(`generic netlink payload of ${payload.length} bytes has no header`);
  return { cmd: payload[0]!, version: payload[1]!, attrs: payload.subarray(C.GENL_HDRLEN) };
}

export function packGetFamily(name: string): Uint8Array {
  return packGenlMessage(C.CTRL_CMD_GETFAMILY, [
    packAttr(C.CTRL_ATTR_FAMILY_NAME, packCString(name, 16, 'family name')),
  ], 1);
}

export function unpackFamily(attrs: Uint8Array): { id: number; name: string; version: number; maxAttr: number } {
  const r = Reader.of(attrs, 'family reply', { 1: 'FAMILY_ID', 2: 'FAMILY_NAME', 3: 'VERSION', 5: 'MAXATTR' });
  return {
    id: r.needU16(C.CTRL_ATTR_FAMILY_ID),
    name: r.string(C.CTRL_ATTR_FAMILY_NAME) ?? '',
    version: r.u32(C.CTRL_ATTR_VERSION) ?? 0,
    maxAttr: r.u32(C.CTRL_ATTR_MAXATTR) ?? 0,
  };
}
