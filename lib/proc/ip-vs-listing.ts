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
import { defaultDestinationLine, FORWARD_LABEL, headLines, serviceLine } from '../ipvs/list-format';
import type { DestinationState, IpvsInfo, ServiceSpec } from '../ipvs/model';
import { formatDestinationLine, formatServiceLine, FWD_SWITCH } from '../snapshot/format';
import { serviceArg } from '../snapshot/keys';
import { glibcMergeSortInPlace, serviceOrderLikeIpvsadm, sortDestinationsLikeIpvsadm, sub32 } from '../snapshot/sort';
import { FORWARD_CODES, ROW_COLS, type ProcRows } from './ip-vs';

export interface ProcListingTable {
  /** in the file's order: services[i]'s real servers are rows rows.first[i] .. rows.first[i + 1] - 1 */
  services: readonly ServiceSpec[];
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

/** Longest row line: `  -> ` + 21 + padding to 28 + the four columns with int32s. */
const ROW_ROOM = 128;

export function printProcListing(t: ProcListingTable, opts: ProcListingOptions): void {
  const { services, rows } = t;
  const { cols, first } = rows;
  const list = opts.layout === 'list';
  const out = new ByteText(opts.emit);
  if (list) {
    if (!opts.info) throw new TypeError('printProcListing: the list layout needs info');
    out.text(`${headLines(opts.info, 'default').join('\n')}\n`);
  }
  const order = opts.nosort ? null : serviceOrderLikeIpvsadm(services);
  let widest = 0;
  for (let i = 0; i < services.length; i++) widest = Math.max(widest, first[i + 1]! - first[i]!);
  const idx = new Int32Array(widest), tmp = new Int32Array(widest);
  // ipvs_cmp_dests for IPv4 real servers: the address as libipvs subtracts it, then the port
  const cmpRows = (x: number, y: number) => sub32(cols[x * ROW_COLS]!, cols[y * ROW_COLS]!) || cols[x * ROW_COLS + 1]! - cols[y * ROW_COLS + 1]!;
  for (let k = 0; k < services.length; k++) {
    const i = order ? order[k]! : k;
    const s = services[i]!;
    out.text(`${list ? serviceLine(s) : formatServiceLine(s)}\n`);
    if (!printsFromRows(rows, i, opts.layout)) {
      const objects = t.destinations(i);
      for (const d of opts.nosort ? objects : sortDestinationsLikeIpvsadm(objects)) {
        out.text(`${list ? defaultDestinationLine(s.key, d) : formatDestinationLine(s, d, false)}\n`);
      }
      continue;
    }
    const count = first[i + 1]! - first[i]!;
    for (let j = 0; j < count; j++) idx[j] = first[i]! + j;
    if (!opts.nosort) glibcMergeSortInPlace(idx, count, cmpRows, tmp);
    const prefix = list ? '' : `-a ${serviceArg(s.key)} -r `;
    for (let j = 0; j < count; j++) {
      const c = idx[j]! * ROW_COLS;
      out.room(ROW_ROOM + prefix.length);
      if (list) {
        // `  -> %-28s %-7s %-6d %-10u %-10u`: each field padded from where it starts, as printf does
        out.text('  -> ');
        let at = out.n;
        out.hostPort(cols[c]! >>> 0, cols[c + 1]!);
        out.padTo(at + 28); out.byte(32);
        at = out.n;
        out.text(FORWARD_NAME[cols[c + 2]!]!);
        out.padTo(at + 7); out.byte(32);
        at = out.n;
        out.int(cols[c + 3]!);
        out.padTo(at + 6); out.byte(32);
        at = out.n;
        out.int(cols[c + 4]!);
        out.padTo(at + 10); out.byte(32);
        at = out.n;
        out.int(cols[c + 5]!);
        out.padTo(at + 10);
      } else {
        // `-a <service> -r <address:port> <forwarding switch> -w <weight>`
        out.text(prefix);
        out.hostPort(cols[c]! >>> 0, cols[c + 1]!);
        out.byte(32);
        out.text(FORWARD_SWITCH[cols[c + 2]!]!);
        out.text(' -w ');
        out.int(cols[c + 3]!);
      }
      out.byte(10);
    }
  }
  out.flush();
}
