/**
 * `ipvsadm -Ln` (its default layout) and `ipvsadm -Sn` text, byte for byte,
 * from /proc/net/ip_vs's real-server rows (./ip-vs.ts) and each service's
 * configuration from netlink, written into a byte buffer: a listing of
 * 10,000 × 4 makes no object or string per real server (in the lab kernel,
 * allocation was what such a listing cost beyond its two reads). A service
 * whose rows cannot say everything (an IPv6 real server, a line the fast
 * parse left, a tunnel's settings in save) is printed from objects by the
 * general formatters instead.
 */
import { PLAIN_SERVICE_COLS, type PlainServices } from '../ipvs/backend';
import { defaultDestinationLine, FORWARD_LABEL, headLines, PROTO_LABEL, serviceLine } from '../ipvs/list-format';
import { DEFAULT_FLAGS, type DestinationState, type IpvsInfo, type ServiceSpec } from '../ipvs/model';
import { formatDestinationLine, formatServiceLine, FWD_SWITCH } from '../snapshot/format';
import { serviceArg, SERVICE_OPTION } from '../snapshot/keys';
import { glibcMergeSortInPlace, serviceOrderBy, setSvcSortKey, sortDestinationsLikeIpvsadm, sub32 } from '../snapshot/sort';
import { FORWARD_CODES, plainServiceKey, PROTOCOL_NUMBERS, ROW_COLS, type ProcRows } from './ip-vs';

export interface ProcListingTable {
  /** in the file's order: service i's real servers are rows rows.first[i] .. rows.first[i + 1] - 1 */
  services: PlainServices;
  /** service i's configuration, where its columns in `services` do not say all of it (else undefined) */
  specs: readonly (ServiceSpec | undefined)[];
  rows: ProcRows;
  /** services[i]'s real servers as objects, asked only for a service the rows cannot print (see printsFromRows) */
  destinations(i: number): readonly DestinationState[];
}

export type ProcListingLayout = 'list' | 'save';

export interface ProcListingOptions {
  layout: ProcListingLayout;
  /** list: the figures of its version line */
  info?: IpvsInfo;
  /** kernel order, as --nosort (list) */
  nosort?: boolean;
  /** gets the text in pieces of about 64 kB, in order; the bytes are overwritten once it returns */
  emit: (bytes: Uint8Array) => void;
}

const TUN = FORWARD_CODES.indexOf('tun');
/** by forwarding code: the kernel's name, as ipvsadm -Ln prints it, and ipvsadm -Sn's switch */
const FORWARD_NAME = FORWARD_CODES.map((f) => FORWARD_LABEL[f]);
const FORWARD_SWITCH = FORWARD_CODES.map((f) => FWD_SWITCH[f]);
/** by IPPROTO number, how a plain service's lines start: ipvsadm -Ln's `TCP  ` and ipvsadm -Sn's `-A -t ` and `-a -t ` */
const LIST_HEAD: Record<number, string> = {}, SAVE_HEAD: Record<number, string> = {}, SAVE_ROW_HEAD: Record<number, string> = {};
for (const [n, p] of Object.entries(PROTOCOL_NUMBERS)) {
  LIST_HEAD[Number(n)] = `${PROTO_LABEL[p].padEnd(4)} `;
  SAVE_HEAD[Number(n)] = `-A ${SERVICE_OPTION[p]} `;
  SAVE_ROW_HEAD[Number(n)] = `-a ${SERVICE_OPTION[p]} `;
}
const AF_INET = 2;

/** Whether services[i]'s real servers print from the rows alone: all IPv4 lines of the fast parse, and for save no tunnel. */
export function printsFromRows(rows: ProcRows, i: number, layout: ProcListingLayout): boolean {
  for (let r = rows.first[i]!; r < rows.first[i + 1]!; r++) {
    const code = rows.cols[r * ROW_COLS + 2]!;
    if (code === -1 || (layout === 'save' && code === TUN)) return false;
  }
  return true;
}

/** Bytes for one listing, handed over piece by piece. */
class ByteText {
  private buf = new Uint8Array(1 << 16);
  n = 0;
  constructor(private readonly emit: (bytes: Uint8Array) => void) {}

  /** Makes room for k more bytes. */
  room(k: number): void {
    if (this.n + k <= this.buf.length) return;
    this.flush();
    if (k > this.buf.length) this.buf = new Uint8Array(k);
  }

  flush(): void {
    if (this.n > 0) this.emit(this.buf.subarray(0, this.n));
    this.n = 0;
  }

  /** ASCII text (everything these layouts print is). */
  text(s: string): void {
    this.room(s.length);
    for (let i = 0; i < s.length; i++) this.buf[this.n++] = s.charCodeAt(i);
  }

  byte(c: number): void { this.buf[this.n++] = c; }

  /** An integer in decimal. */
  int(v: number): void {
    if (v < 0) {
      this.byte(45);
      v = -v;
    }
    let digits = 1;
    for (let x = v; x >= 10; x = Math.floor(x / 10)) digits++;
    for (let k = this.n + digits - 1; k >= this.n; k--) {
      this.buf[k] = 48 + (v % 10);
      v = Math.floor(v / 10);
    }
    this.n += digits;
  }

  /** Spaces up to column `to` (counted from the buffer's start). */
  padTo(to: number): void {
    while (this.n < to) this.buf[this.n++] = 32;
  }

  /** A row's address as ipvsadm prints an IPv4 real server: 172.31.0.1:80 */
  hostPort(ip: number, port: number): void {
    this.int(ip >>> 24); this.byte(46);
    this.int((ip >>> 16) & 255); this.byte(46);
    this.int((ip >>> 8) & 255); this.byte(46);
    this.int(ip & 255); this.byte(58);
    this.int(port);
  }
}

/**
 * Room for the longest line printed from numbers: a row in list (`  -> ` + 21 + padding to 28 + the four columns
 * with int32s), a row in save after a plain service's `-a --sctp-service 255.255.255.255:65535 -r `, or a plain
 * service's line (schedulers' names have at most 15 characters).
 */
const ROW_ROOM = 128;

export function printProcListing(t: ProcListingTable, opts: ProcListingOptions): void {
  const { services, specs, rows } = t;
  const { cols, first } = rows;
  const svc = services.cols;
  const list = opts.layout === 'list';
  const out = new ByteText(opts.emit);
  if (list) {
    if (!opts.info) throw new TypeError('printProcListing: the list layout needs info');
    out.text(`${headLines(opts.info, 'default').join('\n')}\n`);
  }
  const order = opts.nosort ? null : serviceOrderBy(services.count, (i, k) => {
    const spec = specs[i];
    if (spec) return setSvcSortKey(k, spec.key);
    const c = i * PLAIN_SERVICE_COLS;
    k.fwmark = 0; k.af = AF_INET; k.proto = svc[c]!; k.port = svc[c + 2]!;
    k.w0 = svc[c + 1]! >>> 0; k.w1 = 0; k.w2 = 0; k.w3 = 0;
  });
  let widest = 0;
  for (let i = 0; i < services.count; i++) widest = Math.max(widest, first[i + 1]! - first[i]!);
  const idx = new Int32Array(widest), tmp = new Int32Array(widest);
  // ipvs_cmp_dests for IPv4 real servers: the address as libipvs subtracts it, then the port
  const cmpRows = (x: number, y: number) => sub32(cols[x * ROW_COLS]!, cols[y * ROW_COLS]!) || cols[x * ROW_COLS + 1]! - cols[y * ROW_COLS + 1]!;
  for (let k = 0; k < services.count; k++) {
    const i = order ? order[k]! : k;
    const s = specs[i];
    const c = i * PLAIN_SERVICE_COLS;
    let prefix = '';
    if (s) {
      out.text(`${list ? serviceLine(s) : formatServiceLine(s)}\n`);
      if (!list) prefix = `-a ${serviceArg(s.key)} -r `;
    } else {
      // a plain IPv4 service: `TCP  10.0.0.1:80 rr` (list), `-A -t 10.0.0.1:80 -s rr` (save)
      out.room(ROW_ROOM);
      out.text((list ? LIST_HEAD : SAVE_HEAD)[svc[c]!]!);
      out.hostPort(svc[c + 1]! >>> 0, svc[c + 2]!);
      out.text(list ? ' ' : ' -s ');
      out.text(services.schedulers[svc[c + 3]!]!);
      out.byte(10);
    }
    if (!printsFromRows(rows, i, opts.layout)) {
      const objects = t.destinations(i);
      const spec = s ?? specOf(t, i);
      for (const d of opts.nosort ? objects : sortDestinationsLikeIpvsadm(objects)) {
        out.text(`${list ? defaultDestinationLine(spec.key, d) : formatDestinationLine(spec, d, false)}\n`);
      }
      continue;
    }
    const count = first[i + 1]! - first[i]!;
    for (let j = 0; j < count; j++) idx[j] = first[i]! + j;
    if (!opts.nosort) glibcMergeSortInPlace(idx, count, cmpRows, tmp);
    for (let j = 0; j < count; j++) {
      const r = idx[j]! * ROW_COLS;
      out.room(ROW_ROOM + prefix.length);
      if (list) {
        // `  -> %-28s %-7s %-6d %-10u %-10u`: each field padded from where it starts, as printf does
        out.text('  -> ');
        let at = out.n;
        out.hostPort(cols[r]! >>> 0, cols[r + 1]!);
        out.padTo(at + 28); out.byte(32);
        at = out.n;
        out.text(FORWARD_NAME[cols[r + 2]!]!);
        out.padTo(at + 7); out.byte(32);
        at = out.n;
        out.int(cols[r + 3]!);
        out.padTo(at + 6); out.byte(32);
        at = out.n;
        out.int(cols[r + 4]!);
        out.padTo(at + 10); out.byte(32);
        at = out.n;
        out.int(cols[r + 5]!);
        out.padTo(at + 10);
      } else {
        // `-a <service> -r <address:port> <forwarding switch> -w <weight>`
        if (s) out.text(prefix);
        else {
          out.text(SAVE_ROW_HEAD[svc[c]!]!);
          out.hostPort(svc[c + 1]! >>> 0, svc[c + 2]!);
          out.text(' -r ');
        }
        out.hostPort(cols[r]! >>> 0, cols[r + 1]!);
        out.byte(32);
        out.text(FORWARD_SWITCH[cols[r + 2]!]!);
        out.text(' -w ');
        out.int(cols[r + 3]!);
      }
      out.byte(10);
    }
  }
  out.flush();
}

/** Service i's spec: from netlink, or made from its columns when they say all of it (for the few callers that need one). */
export function specOf(t: ProcListingTable, i: number): ServiceSpec {
  const spec = t.specs[i];
  if (spec) return spec;
  const { cols, schedulers } = t.services;
  return {
    key: plainServiceKey(cols, i), scheduler: schedulers[cols[i * PLAIN_SERVICE_COLS + 3]!]!, flags: { ...DEFAULT_FLAGS },
    timeout: 0, netmask: '255.255.255.255', pe: null,
  };
}
