/**
 * Parser for /proc/net/ip_vs_conn (reference §7.3, §7.5), pure.
 *
 * The table can hold millions of lines, so the hot path works on bytes:
 * a LineSplitter cuts chunks into lines without joining them into one big
 * string, and parseConnBytes fills one reused, mutable ConnRecord per line
 * with numbers (IPv4 addresses stay u32) and interned strings. Consumers
 * (lib/conn/summary.ts) read the record before the next line overwrites it.
 * Only IPv6 lines, PE data and listing pages allocate strings.
 */
import type { AddressFamily } from '../ipvs/model';
import { formatIPv6 } from '../net/ip';

/** Protocol as the kernel names it, lower-cased: `IP` is fwmark templates, `IP_<n>` unknown numbers. */
export type ConnProtocol = 'tcp' | 'udp' | 'sctp' | 'ip' | 'icmp' | 'icmpv6' | `ip_${number}`;

export const TCP_STATES = [
  'NONE', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'SYNACK',
] as const;
export const UDP_STATES = ['UDP'] as const;
export const SCTP_STATES = [
  'NONE', 'INIT1', 'INIT', 'C-SENT', 'C-REPLIED', 'C-WAIT', 'COOKIE', 'C-ECHOED',
  'ESTABLISHED', 'S-SENT', 'S-RECEIVED', 'S-ACK-SENT', 'REJECTED', 'CLOSED',
] as const;
/** The SCTP machine before kernel 3.12 (`ESTABISHED` is the kernel's own spelling). */
export const SCTP_LEGACY_STATES = [
  'NONE', 'INIT_CLI', 'INIT_SER', 'INIT_ACK_CLI', 'INIT_ACK_SER', 'COOKIE_ECHO_CLI',
  'COOKIE_ECHO_SER', 'ESTABISHED', 'SHUTDOWN_CLI', 'SHUTDOWN_SER', 'SHUTDOWN_ACK_CLI',
  'SHUTDOWN_ACK_SER', 'CLOSED',
] as const;
export const TEMPLATE_STATES = ['NONE', 'ASSURED'] as const;
/** Sentinels the kernel prints for out-of-range state numbers. */
export const ERROR_STATES = ['ERR!', 'BUG!'] as const;

export type KnownConnState =
  | (typeof TCP_STATES)[number] | (typeof UDP_STATES)[number] | (typeof SCTP_STATES)[number]
  | (typeof SCTP_LEGACY_STATES)[number] | (typeof TEMPLATE_STATES)[number] | (typeof ERROR_STATES)[number];
/**
 * Any other well-formed state token is kept rather than dropped, so a newer
 * kernel's new state still shows up in counts instead of vanishing as "malformed".
 */
export type ConnState = KnownConnState | (string & {});

export const KNOWN_STATES: readonly KnownConnState[] = [
  ...new Set<KnownConnState>([
    ...TCP_STATES, ...UDP_STATES, ...SCTP_STATES, ...SCTP_LEGACY_STATES, ...TEMPLATE_STATES, ...ERROR_STATES,
  ]),
];

/** One line of the connection table in a compact, JSON-friendly form. */
export interface ConnEntry {
  protocol: ConnProtocol;
  /** Family of client and virtual address (the service's family). */
  family: AddressFamily;
  clientAddr: string;
  clientPort: number;
  /** Virtual address; null for fwmark templates, which carry `fwmark` instead. */
  vaddr: string | null;
  fwmark: number | null;
  vport: number;
  destFamily: AddressFamily;
  destAddr: string;
  destPort: number;
  state: ConnState;
  /** Seconds until the entry expires. */
  expires: number;
  /** Persistence template (no flag column exists; see isTemplate). */
  template: boolean;
  pe?: string;
  peData?: string;
}

/**
 * The reused per-line record. IPv4 addresses are u32 numbers (`*4`), IPv6
 * ones canonical text (`*6`); `protocol` and `state` are interned strings so
 * identity comparison and Map keys cost nothing.
 */
export class ConnRecord {
  protocol: ConnProtocol = 'tcp';
  family: AddressFamily = 'inet';
  client4 = 0;
  client6 = '';
  clientPort = 0;
  vaddr4 = 0;
  vaddr6 = '';
  vport = 0;
  destFamily: AddressFamily = 'inet';
  dest4 = 0;
  dest6 = '';
  destPort = 0;
  state: ConnState = 'NONE';
  /** Index of `state` in the shared state table (see stateName). */
  stateCode = 0;
  expires = 0;
  template = false;
  /** Set only for fwmark templates (protocol `ip`), else -1. */
  fwmark = -1;
  pe: string | null = null;
  peData: string | null = null;
}

export function formatU32IPv4(v: number): string {
  return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
}

export function recordToEntry(r: ConnRecord): ConnEntry {
  const v4 = r.family === 'inet';
  const e: ConnEntry = {
    protocol: r.protocol,
    family: r.family,
    clientAddr: v4 ? formatU32IPv4(r.client4) : r.client6,
    clientPort: r.clientPort,
    vaddr: r.fwmark >= 0 ? null : v4 ? formatU32IPv4(r.vaddr4) : r.vaddr6,
    fwmark: r.fwmark >= 0 ? r.fwmark : null,
    vport: r.vport,
    destFamily: r.destFamily,
    destAddr: r.destFamily === 'inet' ? formatU32IPv4(r.dest4) : r.dest6,
    destPort: r.destPort,
    state: r.state,
    expires: r.expires,
    template: r.template,
  };
  if (r.pe !== null) {
    e.pe = r.pe;
    e.peData = r.peData ?? '';
  }
  return e;
}

// ---------------------------------------------------------------------------
// Byte-level field parsing

const SP = 32;
const TAB = 9;
const CR = 13;
const MAX_STATE_LEN = 24;
const MAX_INTERNED = 512;
const TOKEN_SLOTS = 1024;
const V6_CACHE_BITS = 12;
const V6_CACHE_SLOTS = 1 << V6_CACHE_BITS;

/** Hex digit value per byte, -1 for anything else (a table beats branches on the hot path). */
const HEX = new Int8Array(256).fill(-1);
for (let c = 0; c < 10; c++) HEX[48 + c] = c;
for (let c = 0; c < 6; c++) {
  HEX[65 + c] = 10 + c;
  HEX[97 + c] = 10 + c;
}

/** State-name bytes: A-Z a-z 0-9 _ - ! */
const STATE_CHAR = new Uint8Array(256);
for (let c = 0; c < 256; c++) {
  STATE_CHAR[c] = (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 45 || c === 33 ? 1 : 0;
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += String.fromCharCode(buf[i]!);
  return s;
}

/**
 * Interns short tokens (protocol and state names) keyed by a hash of their
 * bytes and gives each a small integer code, so aggregators can count into
 * arrays instead of hashing strings per line.
 */
class TokenTable {
  /** Open addressing: slot -> code + 1, 0 when empty; twice MAX_INTERNED slots, so a probe always ends. */
  private readonly slots = new Int32Array(TOKEN_SLOTS);
  private readonly bytes: Uint8Array[] = [];
  readonly names: string[] = [];
  constructor(seed: readonly string[]) {
    for (const s of seed) this.add(s);
  }
  private static slot(buf: Uint8Array, start: number, end: number): number {
    let h = end - start;
    for (let i = start; i < end; i++) h = (Math.imul(h, 31) + buf[i]!) | 0;
    return h & (TOKEN_SLOTS - 1);
  }
  private add(s: string): number {
    const bytes = new Uint8Array(s.length);
    for (let i = 0; i < s.length; i++) bytes[i] = s.charCodeAt(i);
    const code = this.names.length;
    this.names.push(s);
    this.bytes.push(bytes);
    let slot = TokenTable.slot(bytes, 0, bytes.length);
    while (this.slots[slot] !== 0) slot = (slot + 1) & (TOKEN_SLOTS - 1);
    this.slots[slot] = code + 1;
    return code;
  }
  /** Code of the token, or -1 when it is new and the table is full. */
  code(buf: Uint8Array, start: number, end: number): number {
    const found = this.find(buf, start, end);
    return found >= 0 ? found : this.intern(buf, start, end);
  }
  /** Code of a token already interned, else -1. */
  find(buf: Uint8Array, start: number, end: number): number {
    const len = end - start;
    for (let slot = TokenTable.slot(buf, start, end); ; slot = (slot + 1) & (TOKEN_SLOTS - 1)) {
      const code = this.slots[slot]! - 1;
      if (code < 0) break;
      const b = this.bytes[code]!;
      if (b.length !== len) continue;
      let k = 0;
      while (k < len && b[k] === buf[start + k]) k++;
      if (k === len) return code;
    }
    return -1;
  }
  /** Interns a token not seen before; -1 when the table is full. */
  intern(buf: Uint8Array, start: number, end: number): number {
    // A token never seen before (a new kernel's state, IP_<n>): intern it once,
    // but not without bound, since garbage input must not grow memory.
    if (this.names.length >= MAX_INTERNED) return -1;
    return this.add(latin1(buf, start, end));
  }
}

/**
 * State names by code, shared by every parser: codes of KNOWN_STATES are
 * fixed (their index); states first seen in input are appended.
 */
const STATE_TABLE = new TokenTable(KNOWN_STATES);
/** Number of state codes that can appear in ConnRecord.stateCode (grows when new names are seen). */
export function stateCodeCount(): number {
  return STATE_TABLE.names.length;
}
export function stateName(code: number): ConnState {
  return STATE_TABLE.names[code] ?? 'ERR!';
}

const KERNEL_PROTOCOLS: Record<string, ConnProtocol> = {
  TCP: 'tcp', UDP: 'udp', SCTP: 'sctp', IP: 'ip', ICMP: 'icmp', ICMPv6: 'icmpv6',
};

/**
 * Per-parser mutable state: interning tables and a scratch buffer for IPv6.
 * One per stream; cheap to create.
 */
export class ConnParser {
  private readonly protos = new TokenTable(Object.keys(KERNEL_PROTOCOLS));
  private readonly v6 = new Uint8Array(16);
  /** First 32 bits of the last IPv6 virtual address: where an IPv6 fwmark template keeps the mark. */
  private vaddr6Hi = 0;
  /**
   * Direct-mapped cache of IPv6 canonical text keyed by the 16 address bytes:
   * VIPs and real servers repeat on nearly every line, and a hit costs no
   * string allocation. Fixed size, so distinct clients cannot grow it.
   */
  private readonly v6Keys = new Int32Array(V6_CACHE_SLOTS * 4);
  private readonly v6Text: (string | undefined)[] = new Array<string | undefined>(V6_CACHE_SLOTS).fill(undefined);

  /**
   * Parses bytes [start, end) of one line (no newline) into `r`.
   * Returns 1 for a connection line, 0 for a malformed line, 2 for the header or a blank line.
   */
  parse(buf: Uint8Array, start: number, end: number, r: ConnRecord): 0 | 1 | 2 {
    while (end > start && (buf[end - 1] === CR || buf[end - 1] === SP || buf[end - 1] === TAB)) end--;
    let i = start;
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
    if (i >= end) return 2;
    // header: "Pro FromIP ..."
    if (buf[i] === 80 && buf[i + 1] === 114 && buf[i + 2] === 111 && buf[i + 3] === SP) return 2;

    // 0: protocol
    let s = i;
    while (i < end && buf[i] !== SP && buf[i] !== TAB) i++;
    if (i - s > 12) return 0;
    const pcode = this.protos.code(buf, s, i);
    const pname = pcode >= 0 ? this.protos.names[pcode]! : latin1(buf, s, i);
    let proto = KERNEL_PROTOCOLS[pname];
    if (proto === undefined) {
      if (!/^IP_\d{1,3}$/.test(pname)) return 0;
      proto = `ip_${Number(pname.slice(3))}`;
    }
    r.protocol = proto;

    // 1..6: three address/port pairs
    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    const fam = this.addr(buf, s, i, r, 0);
    if (fam === 0) return 0;
    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    const cport = this.port(buf, s, i);
    if (cport < 0) return 0;

    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    if (this.addr(buf, s, i, r, 1) !== fam) return 0;
    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    const vport = this.port(buf, s, i);
    if (vport < 0) return 0;

    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    const dfam = this.addr(buf, s, i, r, 2);
    if (dfam === 0) return 0;
    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    const dport = this.port(buf, s, i);
    if (dport < 0) return 0;

    // 7: state
    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    if (i === s || i - s > MAX_STATE_LEN) return 0;
    // every interned state name is well-formed: only a new one needs its bytes checked
    let scode = STATE_TABLE.find(buf, s, i);
    if (scode < 0) {
      for (let k = s; k < i; k++) if (STATE_CHAR[buf[k]!] === 0) return 0;
      scode = STATE_TABLE.intern(buf, s, i);
      if (scode < 0) return 0;
    }
    r.stateCode = scode;
    r.state = STATE_TABLE.names[scode]!;

    // 8: expires (decimal u32)
    i = this.skip(buf, i, end);
    s = i;
    i = this.token(buf, i, end);
    if (i === s || i - s > 10) return 0;
    let exp = 0;
    for (let k = s; k < i; k++) {
      const d = buf[k]! - 48;
      if (d < 0 || d > 9) return 0;
      exp = exp * 10 + d;
    }
    if (exp > 0xffffffff) return 0;

    // 9, 10: optional PE name, then the rest of the line as PE data
    i = this.skip(buf, i, end);
    if (i < end) {
      s = i;
      i = this.token(buf, i, end);
      r.pe = latin1(buf, s, i);
      i = this.skip(buf, i, end);
      r.peData = latin1(buf, i, end);
    } else {
      r.pe = null;
      r.peData = null;
    }

    r.family = fam === 4 ? 'inet' : 'inet6';
    r.destFamily = dfam === 4 ? 'inet' : 'inet6';
    r.clientPort = cport;
    r.vport = vport;
    r.destPort = dport;
    r.expires = exp;
    r.template = isTemplate(proto, cport, r.state);
    if (r.template && proto === 'ip') {
      // fwmark templates put the mark where the VIP goes (IPv6: in the first 32 bits)
      r.fwmark = fam === 4 ? r.vaddr4 : this.vaddr6Hi;
    } else {
      r.fwmark = -1;
    }
    return 1;
  }

  private skip(buf: Uint8Array, i: number, end: number): number {
    while (i < end && (buf[i] === SP || buf[i] === TAB)) i++;
    return i;
  }

  private token(buf: Uint8Array, i: number, end: number): number {
    while (i < end && buf[i] !== SP && buf[i] !== TAB) i++;
    return i;
  }

  /** 4-digit (or shorter) hex port; -1 if invalid. */
  private port(buf: Uint8Array, s: number, e: number): number {
    if (e === s || e - s > 4) return -1;
    let v = 0;
    for (let k = s; k < e; k++) {
      const d = HEX[buf[k]!]!;
      if (d < 0) return -1;
      v = (v << 4) | d;
    }
    return v;
  }

  /** Parses an address into slot 0 (client), 1 (vaddr), 2 (dest). Returns 4, 6, or 0 if invalid. */
  private addr(buf: Uint8Array, s: number, e: number, r: ConnRecord, slot: 0 | 1 | 2): 0 | 4 | 6 {
    const len = e - s;
    if (len === 8) {
      const d0 = HEX[buf[s]!]!, d1 = HEX[buf[s + 1]!]!, d2 = HEX[buf[s + 2]!]!, d3 = HEX[buf[s + 3]!]!;
      const d4 = HEX[buf[s + 4]!]!, d5 = HEX[buf[s + 5]!]!, d6 = HEX[buf[s + 6]!]!, d7 = HEX[buf[s + 7]!]!;
      // one test for all eight digits (an invalid one is -1), then int math only
      if ((d0 | d1 | d2 | d3 | d4 | d5 | d6 | d7) < 0) return 0;
      const v = ((d0 << 28) | (d1 << 24) | (d2 << 20) | (d3 << 16) | (d4 << 12) | (d5 << 8) | (d6 << 4) | d7) >>> 0;
      if (slot === 0) r.client4 = v;
      else if (slot === 1) r.vaddr4 = v;
      else r.dest4 = v;
      return 4;
    }
    // %pI6: eight groups of four hex digits, never compressed
    if (len !== 39) return 0;
    const b = this.v6;
    for (let g = 0; g < 8; g++) {
      const o = s + g * 5;
      if (g < 7 && buf[o + 4] !== 58) return 0;
      const d0 = HEX[buf[o]!]!, d1 = HEX[buf[o + 1]!]!, d2 = HEX[buf[o + 2]!]!, d3 = HEX[buf[o + 3]!]!;
      if ((d0 | d1 | d2 | d3) < 0) return 0;
      b[g * 2] = (d0 << 4) | d1;
      b[g * 2 + 1] = (d2 << 4) | d3;
    }
    if (slot === 1) this.vaddr6Hi = ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
    const w0 = (b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!;
    const w1 = (b[4]! << 24) | (b[5]! << 16) | (b[6]! << 8) | b[7]!;
    const w2 = (b[8]! << 24) | (b[9]! << 16) | (b[10]! << 8) | b[11]!;
    const w3 = (b[12]! << 24) | (b[13]! << 16) | (b[14]! << 8) | b[15]!;
    const slot6 = (Math.imul(w0 ^ w1 ^ w2, 0x9e3779b1) ^ Math.imul(w3, 0x85ebca6b)) >>> (32 - V6_CACHE_BITS);
    const k = this.v6Keys;
    let text = this.v6Text[slot6];
    if (text === undefined || k[slot6 * 4] !== w0 || k[slot6 * 4 + 1] !== w1 || k[slot6 * 4 + 2] !== w2 || k[slot6 * 4 + 3] !== w3) {
      text = formatIPv6(b);
      this.v6Text[slot6] = text;
      k[slot6 * 4] = w0;
      k[slot6 * 4 + 1] = w1;
      k[slot6 * 4 + 2] = w2;
      k[slot6 * 4 + 3] = w3;
    }
    if (slot === 0) r.client6 = text;
    else if (slot === 1) r.vaddr6 = text;
    else r.dest6 = text;
    return 6;
  }
}

/**
 * The kernel prints no flag column, so templates are recognised by shape:
 * client port 0 and a template state (NONE/ASSURED), or protocol IP (fwmark
 * templates). FTP "no client port yet" entries also have client port 0 but
 * carry a TCP state other than NONE once they see traffic.
 */
export function isTemplate(protocol: ConnProtocol, clientPort: number, state: ConnState): boolean {
  if (clientPort !== 0) return false;
  return protocol === 'ip' || state === 'NONE' || state === 'ASSURED';
}

// ---------------------------------------------------------------------------
// Streaming

/** Lines longer than this are not connection lines; they are skipped as malformed. */
export const MAX_LINE_BYTES = 4096;

/**
 * Cuts byte or string chunks into lines, calling `onLine(buf, start, end)`
 * for each (newline excluded). A line split across chunks is carried in a
 * small buffer; nothing ever concatenates the whole input.
 */
export class LineSplitter {
  private carry = new Uint8Array(256);
  private carryLen = 0;
  /** true while discarding the rest of an over-long line */
  private overlong = false;
  private readonly encoder = new TextEncoder();

  constructor(
    private readonly onLine: (buf: Uint8Array, start: number, end: number) => void,
    private readonly onOverlong: () => void,
  ) {}

  push(chunk: Uint8Array | string): void {
    const buf = typeof chunk === 'string' ? this.encoder.encode(chunk) : chunk;
    let start = 0;
    const n = buf.length;
    while (start < n) {
      const nl = buf.indexOf(10, start);
      if (nl < 0) {
        this.append(buf, start, n);
        return;
      }
      if (this.carryLen > 0 || this.overlong) {
        this.append(buf, start, nl);
        this.flushCarry();
      } else {
        this.onLine(buf, start, nl);
      }
      start = nl + 1;
    }
  }

  /** Emits a final line that had no trailing newline. */
  end(): void {
    if (this.carryLen > 0 || this.overlong) this.flushCarry();
  }

  private flushCarry(): void {
    if (this.overlong) this.onOverlong();
    else this.onLine(this.carry, 0, this.carryLen);
    this.carryLen = 0;
    this.overlong = false;
  }

  private append(buf: Uint8Array, start: number, end: number): void {
    if (this.overlong) return;
    const need = this.carryLen + (end - start);
    if (need > MAX_LINE_BYTES) {
      this.overlong = true;
      this.carryLen = 0;
      return;
    }
    if (need > this.carry.length) {
      const bigger = new Uint8Array(Math.max(need, this.carry.length * 2));
      bigger.set(this.carry.subarray(0, this.carryLen));
      this.carry = bigger;
    }
    this.carry.set(buf.subarray(start, end), this.carryLen);
    this.carryLen = need;
  }
}

/**
 * Stream scanner: chunks in, one callback per parsed connection line with the
 * reused record. Counts lines and malformed lines; never throws on input.
 */
export class ConnScanner {
  readonly record = new ConnRecord();
  lines = 0;
  malformed = 0;
  private readonly parser = new ConnParser();
  private readonly splitter: LineSplitter;

  constructor(onRecord: (r: ConnRecord) => void) {
    const r = this.record;
    this.splitter = new LineSplitter(
      (buf, s, e) => {
        const res = this.parser.parse(buf, s, e, r);
        if (res === 1) {
          this.lines++;
          onRecord(r);
        } else if (res === 0) {
          this.malformed++;
        }
      },
      () => this.malformed++,
    );
  }

  push(chunk: Uint8Array | string): void {
    this.splitter.push(chunk);
  }

  end(): void {
    this.splitter.end();
  }
}

const lineParser = new ConnParser();
const lineRecord = new ConnRecord();
const lineEncoder = new TextEncoder();

/** Parses one line; null for the header, a blank or a malformed line. */
export function parseConnLine(line: string): ConnEntry | null {
  const buf = lineEncoder.encode(line.endsWith('\n') ? line.slice(0, -1) : line);
  if (buf.indexOf(10) >= 0) return null;
  return lineParser.parse(buf, 0, buf.length, lineRecord) === 1 ? recordToEntry(lineRecord) : null;
}

/** Parses a whole text (tests, small tables); malformed lines are counted. */
export function parseConnTable(text: string): { entries: ConnEntry[]; malformed: number } {
  const entries: ConnEntry[] = [];
  const sc = new ConnScanner((r) => entries.push(recordToEntry(r)));
  sc.push(text);
  sc.end();
  return { entries, malformed: sc.malformed };
}
