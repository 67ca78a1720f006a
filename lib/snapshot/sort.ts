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

/** The four host-order 32-bit words of an address as libipvs holds it (IPv4 in word 0). */
function words(family: AddressFamily, address: string): [number, number, number, number] {
  const b = addressToBytes(family, address);
  const w = (i: number) => ((b[i]! << 24) | (b[i + 1]! << 16) | (b[i + 2]! << 8) | b[i + 3]!) >>> 0;
  return [w(0), w(4), w(8), w(12)];
}

/** C's `(int)(u32 a - u32 b)`. */
const sub32 = (a: number, b: number): number => (a - b) | 0;

interface SvcSortKey { fwmark: number; af: number; proto: number; w: number[]; port: number }
interface DestSortKey { v6: boolean; w: number[]; port: number }

function svcSortKey(k: ServiceKey): SvcSortKey {
  if (k.kind === 'fwmark') return { fwmark: k.fwmark >>> 0, af: AF[k.family], proto: 0, w: [0, 0, 0, 0], port: 0 };
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
  if (s1.af === AF.inet6) for (let i = 0; !r && i < 4; i++) r = sub32(s1.w[i]!, s2.w[i]!);
  else r = sub32(s1.w[0]!, s2.w[0]!);
  if (r) return r;
  return s1.port - s2.port;
}

/** ipvs_cmp_dests: only the first element's family decides how many words count. */
function cmpDests(d1: DestSortKey, d2: DestSortKey): number {
  let r = 0;
  if (d1.v6) for (let i = 0; !r && i < 4; i++) r = sub32(d1.w[i]!, d2.w[i]!);
  else r = sub32(d1.w[0]!, d2.w[0]!);
  if (r) return r;
  return d1.port - d2.port;
}

export function sortServicesLikeIpvsadm<T extends { key: ServiceKey }>(services: readonly T[]): T[] {
  const keyed = services.map((s) => ({ s, k: svcSortKey(s.key) }));
  return glibcMergeSort(keyed, (a, b) => cmpServices(a.k, b.k)).map((x) => x.s);
}

export function sortDestinationsLikeIpvsadm<T extends DestinationKey>(dests: readonly T[]): T[] {
  const keyed = dests.map((d) => ({ d, k: { v6: d.family === 'inet6', w: words(d.family, d.address), port: d.port } }));
  return glibcMergeSort(keyed, (a, b) => cmpDests(a.k, b.k)).map((x) => x.d);
}
