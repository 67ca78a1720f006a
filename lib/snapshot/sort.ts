/**
 * ipvsadm's listing order, reproduced exactly, quirks included (reference
 * §8.8): libipvs compares by subtracting unsigned 32-bit values and reading
 * the difference as a signed int, so addresses 2^31 apart compare "wrongly"
 * (200.0.0.1 before 10.0.0.1). Such a comparator is not transitive, so the
 * result also depends on the sorting algorithm and the input order: glibc
 * 2.36's qsort is a top-down merge sort (msort), emulated here, and callers
 * pass the kernel's dump order to get ipvsadm's output byte for byte.
 */
import type { AddressFamily, DestinationKey, Protocol, ServiceKey } from '../ipvs/model';
import { addressToBytes } from '../net/ip';

type Cmp<T> = (a: T, b: T) => number;

/** glibc msort_with_tmp: split n/2, merge taking the left element while cmp <= 0. */
export function glibcMergeSort<T>(items: readonly T[], cmp: Cmp<T>): T[] {
  const a = items.slice();
  glibcMergeSortInPlace(a, a.length, cmp, new Array<T>(a.length));
  return a;
}

/** glibcMergeSort of a[0, n) in place, with `tmp` (at least n long) as its scratch: for callers that sort many short runs. */
export function glibcMergeSortInPlace<T>(a: { [i: number]: T }, n: number, cmp: Cmp<T>, tmp: { [i: number]: T }): void {
  const sort = (lo: number, n: number): void => {
    if (n <= 1) return;
    const n1 = n >> 1;
    const n2 = n - n1;
    sort(lo, n1);
    sort(lo + n1, n2);
    let i = lo, j = lo + n1, k = 0;
    const iEnd = lo + n1, jEnd = lo + n;
    while (i < iEnd && j < jEnd) tmp[k++] = cmp(a[i]!, a[j]!) <= 0 ? a[i++]! : a[j++]!;
    while (i < iEnd) tmp[k++] = a[i++]!;
    // what remains of the right run is already in place
    for (let m = 0; m < k; m++) a[lo + m] = tmp[m]!;
  };
  sort(0, n);
}

const AF: Record<AddressFamily, number> = { inet: 2, inet6: 10 };
const PROTO: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };

/** A canonical dotted quad as one host-order word, or -1 (then the general parse decides). */
function ipv4Word(text: string): number {
  let w = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || part > 255) return -1;
      w = w * 256 + part;
      part = 0; digits = 0; dots++;
    } else if (c >= 48 && c <= 57 && digits < 3) {
      part = part * 10 + c - 48;
      digits++;
    } else return -1;
  }
  if (dots !== 3 || digits === 0 || part > 255) return -1;
  return w * 256 + part;
}

/**
 * An address as libipvs holds it, four host-order 32-bit words (IPv4 in w0), in the fields of a sort key: a
 * table of 10,000 services sorts 50,000 keys, and keys without arrays halve what `director list` allocates.
 */
interface Words { w0: number; w1: number; w2: number; w3: number }
function setWords(k: Words, family: AddressFamily, address: string): void {
  const v4 = family === 'inet' ? ipv4Word(address) : -1;
  if (v4 >= 0) {
    k.w0 = v4;
    return;
  }
  const b = addressToBytes(family, address);
  const w = (i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  k.w0 = w(0); k.w1 = w(4); k.w2 = w(8); k.w3 = w(12);
}

/** C's `(int)(u32 a - u32 b)`. */
export const sub32 = (a: number, b: number): number => (a - b) | 0;

/** The first of the four word differences that is not 0 (as libipvs's loop), or 0. */
const cmpWords = (a: Words, b: Words): number => sub32(a.w0, b.w0) || sub32(a.w1, b.w1) || sub32(a.w2, b.w2) || sub32(a.w3, b.w3);

/** A service's fields in ipvs_cmp_services: fwmark, family and protocol as their numbers, the address as words */
export interface SvcSortKey extends Words { fwmark: number; af: number; proto: number; port: number }
interface DestSortKey<T> extends Words { item: T; v6: boolean; port: number }

/** `key`'s fields of ipvs_cmp_services, written into `out` */
export function setSvcSortKey(out: SvcSortKey, k: ServiceKey): void {
  out.fwmark = 0; out.af = AF[k.family]; out.proto = 0; out.port = 0; out.w0 = 0; out.w1 = 0; out.w2 = 0; out.w3 = 0;
  if (k.kind === 'fwmark') out.fwmark = k.fwmark >>> 0;
  else {
    out.proto = PROTO[k.protocol];
    out.port = k.port;
    setWords(out, k.family, k.address);
  }
}

/** ipvs_cmp_dests: only the first element's family decides how many words count. */
function cmpDests<T>(d1: DestSortKey<T>, d2: DestSortKey<T>): number {
  const r = d1.v6 ? cmpWords(d1, d2) : sub32(d1.w0, d2.w0);
  if (r) return r;
  return d1.port - d2.port;
}

/** The positions of `services` in ipvsadm's order: for callers that keep what goes with each service beside it. */
export function serviceOrderLikeIpvsadm(services: readonly { key: ServiceKey }[]): Int32Array {
  return serviceOrderBy(services.length, (i, k) => setSvcSortKey(k, services[i]!.key));
}

/** serviceOrderLikeIpvsadm of n services whose keys `sortKey` writes, service i's into k (callers without key objects). */
export function serviceOrderBy(n: number, sortKey: (i: number, k: SvcSortKey) => void): Int32Array {
  // each service's sort key as SVC_COLS numbers in one array, sorted by position: no key object per service
  // (a listing of 10,000 services held 20,000 of them until it printed)
  const cols = new Float64Array(n * SVC_COLS);
  const k: SvcSortKey = { fwmark: 0, af: 0, proto: 0, port: 0, w0: 0, w1: 0, w2: 0, w3: 0 };
  for (let i = 0; i < n; i++) {
    sortKey(i, k);
    const c = i * SVC_COLS;
    cols[c] = k.fwmark; cols[c + 1] = k.af; cols[c + 2] = k.proto; cols[c + 3] = k.port;
    cols[c + 4] = k.w0; cols[c + 5] = k.w1; cols[c + 6] = k.w2; cols[c + 7] = k.w3;
  }
  // ipvs_cmp_services on two positions' columns
  const cmp = (x: number, y: number): number => {
    const a = x * SVC_COLS, b = y * SVC_COLS;
    let r = sub32(cols[a]!, cols[b]!) || cols[a + 1]! - cols[b + 1]! || cols[a + 2]! - cols[b + 2]!;
    if (r) return r;
    r = sub32(cols[a + 4]!, cols[b + 4]!);
    if (!r && cols[a + 1] === AF.inet6) {
      r = sub32(cols[a + 5]!, cols[b + 5]!) || sub32(cols[a + 6]!, cols[b + 6]!) || sub32(cols[a + 7]!, cols[b + 7]!);
    }
    return r || cols[a + 3]! - cols[b + 3]!;
  };
  const order = new Int32Array(n);
  for (let i = 0; i < n; i++) order[i] = i;
  glibcMergeSortInPlace(order, n, cmp, new Int32Array(n));
  return order;
}
/** numbers per service in serviceOrderLikeIpvsadm's columns: fwmark, af, proto, port, w0..w3 */
const SVC_COLS = 8;

export function sortDestinationsLikeIpvsadm<T extends DestinationKey>(dests: readonly T[]): T[] {
  if (dests.length < 2) return dests.slice();
  return glibcMergeSort(dests.map((item) => {
    const key: DestSortKey<T> = { item, v6: item.family === 'inet6', port: item.port, w0: 0, w1: 0, w2: 0, w3: 0 };
    setWords(key, item.family, item.address);
    return key;
  }), cmpDests).map((x) => x.item);
}
