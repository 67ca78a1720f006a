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
  const tmp = new Array<T>(a.length);
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
  sort(0, a.length);
  return a;
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
 * The four host-order 32-bit words of an address as libipvs holds it (IPv4 in word 0), as fields: a table
 * of 10,000 services sorts 50,000 keys, and a key without arrays is half what `director list` allocated.
 */
interface Words { w0: number; w1: number; w2: number; w3: number }
function words(family: AddressFamily, address: string): Words {
  const v4 = family === 'inet' ? ipv4Word(address) : -1;
  if (v4 >= 0) return { w0: v4, w1: 0, w2: 0, w3: 0 };
  const b = addressToBytes(family, address);
  const w = (i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  return { w0: w(0), w1: w(4), w2: w(8), w3: w(12) };
}

/** C's `(int)(u32 a - u32 b)`. */
const sub32 = (a: number, b: number): number => (a - b) | 0;

/** The first of the four word differences that is not 0 (as libipvs's loop), or 0. */
const cmpWords = (a: Words, b: Words): number => sub32(a.w0, b.w0) || sub32(a.w1, b.w1) || sub32(a.w2, b.w2) || sub32(a.w3, b.w3);

interface SvcSortKey { fwmark: number; af: number; proto: number; w: Words; port: number }
interface DestSortKey { v6: boolean; w: Words; port: number }

const NO_WORDS: Words = { w0: 0, w1: 0, w2: 0, w3: 0 };
function svcSortKey(k: ServiceKey): SvcSortKey {
  if (k.kind === 'fwmark') return { fwmark: k.fwmark >>> 0, af: AF[k.family], proto: 0, w: NO_WORDS, port: 0 };
  return { fwmark: 0, af: AF[k.family], proto: PROTO[k.protocol], w: words(k.family, k.address), port: k.port };
}

/** ipvs_cmp_services */
function cmpServices(s1: SvcSortKey, s2: SvcSortKey): number {
  let r = sub32(s1.fwmark, s2.fwmark);
  if (r) return r;
  r = s1.af - s2.af;
  if (r) return r;
  r = s1.proto - s2.proto;
  if (r) return r;
  r = s1.af === AF.inet6 ? cmpWords(s1.w, s2.w) : sub32(s1.w.w0, s2.w.w0);
  if (r) return r;
  return s1.port - s2.port;
}

/** ipvs_cmp_dests: only the first element's family decides how many words count. */
function cmpDests(d1: DestSortKey, d2: DestSortKey): number {
  const r = d1.v6 ? cmpWords(d1.w, d2.w) : sub32(d1.w.w0, d2.w.w0);
  if (r) return r;
  return d1.port - d2.port;
}

export function sortServicesLikeIpvsadm<T extends { key: ServiceKey }>(services: readonly T[]): T[] {
  const keyed = services.map((s) => ({ s, k: svcSortKey(s.key) }));
  return glibcMergeSort(keyed, (a, b) => cmpServices(a.k, b.k)).map((x) => x.s);
}

export function sortDestinationsLikeIpvsadm<T extends DestinationKey>(dests: readonly T[]): T[] {
  if (dests.length < 2) return dests.slice();
  const keyed = dests.map((d) => ({ d, k: { v6: d.family === 'inet6', w: words(d.family, d.address), port: d.port } }));
  return glibcMergeSort(keyed, (a, b) => cmpDests(a.k, b.k)).map((x) => x.d);
}
