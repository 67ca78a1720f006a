/**
 * ipvsadm's listing order (libipvs ipvs_cmp_services / ipvs_cmp_dests):
 * fwmark, family, protocol, address, port — each compared by subtracting
 * 32-bit values and reading the result as a signed int. That overflows for
 * values 2^31 apart (200.0.0.1 sorts before 10.0.0.1); we reproduce it so
 * Director's output lines up with ipvsadm's for the same table.
 */
import { parseIPv4, parseIPv6 } from '../net/ip';
import type { AddressFamily, DestinationKey, Protocol, ServiceKey } from './model';

const PROTO_NUM: Record<Protocol, number> = { tcp: 6, udp: 17, sctp: 132 };
const AF_NUM: Record<AddressFamily, number> = { inet: 2, inet6: 10 };

/** (a - b) computed in uint32 and read back as int32, as C's `int r = a - b` does. */
const sub32 = (a: number, b: number) => ((a - b) | 0);

function addressWords(family: AddressFamily, address: string): number[] {
  if (family === 'inet') {
    const b = parseIPv4(address);
    return b ? [((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0] : [0];
  }
  const b = parseIPv6(address);
  if (!b) return [0, 0, 0, 0];
  const w: number[] = [];
  for (let i = 0; i < 4; i++) w.push(((b[i * 4]! << 24) | (b[i * 4 + 1]! << 16) | (b[i * 4 + 2]! << 8) | b[i * 4 + 3]!) >>> 0);
  return w;
}

export function compareServiceKeys(a: ServiceKey, b: ServiceKey): number {
  const fa = a.kind === 'fwmark' ? a.fwmark : 0;
  const fb = b.kind === 'fwmark' ? b.fwmark : 0;
  let r = sub32(fa, fb);
  if (r !== 0) return r;
  r = AF_NUM[a.family] - AF_NUM[b.family];
  if (r !== 0) return r;
  const pa = a.kind === 'addr' ? PROTO_NUM[a.protocol] : 6;
  const pb = b.kind === 'addr' ? PROTO_NUM[b.protocol] : 6;
  r = pa - pb;
  if (r !== 0) return r;
  if (a.kind === 'fwmark' || b.kind === 'fwmark') return 0;
  const wa = addressWords(a.family, a.address);
  const wb = addressWords(b.family, b.address);
  for (let i = 0; r === 0 && i < wa.length; i++) r = sub32(wa[i]!, wb[i] ?? 0);
  if (r !== 0) return r;
  return a.port - b.port;
}

export function compareDestinationKeys(a: DestinationKey, b: DestinationKey): number {
  // ipvs_cmp_dests looks at the first destination's family: four words of
  // the 16-byte address when it is IPv6, the first word otherwise. Mixed
  // families follow the same arithmetic, meaningless but what ipvsadm prints.
  const wa = addressWords(a.family, a.address);
  const wb = addressWords(b.family, b.address);
  let r = 0;
  const n = a.family === 'inet6' ? 4 : 1;
  for (let i = 0; r === 0 && i < n; i++) r = sub32(wa[i] ?? 0, wb[i] ?? 0);
  if (r !== 0) return r;
  return a.port - b.port;
}

export function sortLikeIpvsadm<T extends { key: ServiceKey; destinations: D[] }, D extends DestinationKey>(services: T[]): T[] {
  return [...services]
    .sort((x, y) => compareServiceKeys(x.key, y.key))
    .map((s) => ({ ...s, destinations: [...s.destinations].sort(compareDestinationKeys) }));
}
