/**
 * The IPVS schemas of lib/schemas/ipvs.ts without zod, for values that are
 * already complete and canonical (what the snapshot parser builds, what a
 * restore is handed). Each function returns exactly what the schema's parse
 * returns (same fields in the same order, unknown keys dropped), or null when
 * it cannot prove the value valid: invalid, or valid only through one of the
 * schema's defaults or trims. On null the caller asks the schema itself,
 * which also words the message, so refusals are the schema's, word for word.
 *
 * Why: zod took about 15 µs and a good deal of garbage per object (0.8 s for
 * a 50,000-line table on the bench host), and a restore paid that once per
 * line in the parser and again for the whole table. Bounds and cross-field
 * rules come from lib/ipvs/rules.ts, as the schemas' do; validate.test.ts
 * holds these functions to the schemas with random input, and
 * lib/ipvs/rules.test.ts at every boundary.
 */
import type {
  AddressFamily, DestinationSpec, ForwardMethod, ServiceFlags, ServiceKey, ServiceRules, ServiceSpec, TunnelSpec,
} from '../ipvs/model';
import { destinationId, sameDestinationKey, serviceId } from '../ipvs/ids';
import { formatIPv6, parseIPv6 } from '../net/ip';
import {
  FWMARK, PERSISTENCE_TIMEOUT, PORT, SCHEDULER_NAMES, THRESHOLD, WEIGHT, anyPortWithoutPersistence, familyMixWithoutTunnel,
  FORWARD_METHODS, inBound, isContiguousMaskValue, isPeName, netmaskProblem, onePacketNotAllowed, persistentWithoutTimeout,
  thresholdsInverted, tunnelOptionsWithoutTunnel, tunnelProblems, unusableRealServer, usableIPv4Value,
} from '../ipvs/rules';

type Obj = Record<string, unknown>;

const isObj = (x: unknown): x is Obj => typeof x === 'object' && x !== null && !Array.isArray(x);
const isFamily = (x: unknown): x is AddressFamily => x === 'inet' || x === 'inet6';
const FORWARDS: ReadonlySet<unknown> = new Set<ForwardMethod>(FORWARD_METHODS);
const SCHEDULER_SET: ReadonlySet<unknown> = new Set(SCHEDULER_NAMES);

/**
 * A dotted quad exactly as canonicalAddress prints it (no leading zeros), as
 * its 32-bit value; -1 for anything else. Scans characters: the parse this
 * replaces allocated a split array and ran a regex per part.
 */
export function canonicalQuad(text: string): number {
  const n = text.length;
  if (n < 7 || n > 15) return -1;
  let value = 0, part = 0, digits = 0, dots = 0;
  for (let i = 0; i < n; i++) {
    const c = text.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || dots === 3) return -1;
      value = value * 256 + part;
      part = 0; digits = 0; dots++;
    } else if (c >= 48 && c <= 57) {
      if (digits === 1 && part === 0) return -1;
      part = part * 10 + (c - 48);
      if (++digits > 3 || part > 255) return -1;
    } else {
      return -1;
    }
  }
  if (digits === 0 || dots !== 3) return -1;
  return value * 256 + part;
}

const usableQuad = (v: number): boolean => v >= 0 && usableIPv4Value(v);

/** unusableRealServer, which parses the text again, asked only when a quad is not plainly usable. */
export function realServerProblem(family: AddressFamily, address: string): string | null {
  if (family === 'inet' && usableQuad(canonicalQuad(address))) return null;
  return unusableRealServer(family, address);
}

/** netmaskProblem(family, m) === null, without parsing the usual dotted quad twice. */
function netmaskOk(family: AddressFamily, m: string): boolean {
  if (family === 'inet') {
    const v = canonicalQuad(m);
    if (v >= 0) return isContiguousMaskValue(v);
  }
  return netmaskProblem(family, m) === null;
}

/** True when addressSchema would return `a` unchanged and checkFamily agrees with `family`. */
function canonicalOf(family: AddressFamily, a: unknown): a is string {
  if (typeof a !== 'string') return false;
  if (family === 'inet') return canonicalQuad(a) >= 0;
  const b = parseIPv6(a);
  return b !== null && formatIPv6(b) === a;
}

/** serviceKeySchema */
function serviceKey(k: unknown): ServiceKey | null {
  if (!isObj(k)) return null;
  const kind = k.kind;
  if (kind === 'addr') {
    const { family, protocol, address, port } = k;
    if (!isFamily(family) || (protocol !== 'tcp' && protocol !== 'udp' && protocol !== 'sctp')) return null;
    if (!canonicalOf(family, address) || !inBound(port, PORT)) return null;
    return { kind: 'addr', family, protocol, address, port };
  }
  if (kind === 'fwmark') {
    const { family, fwmark } = k;
    if (!isFamily(family) || !inBound(fwmark, FWMARK)) return null;
    return { kind: 'fwmark', family, fwmark };
  }
  return null;
}

/** serviceFlagsSchema */
function serviceFlags(f: unknown): ServiceFlags | null {
  if (!isObj(f)) return null;
  const { persistent, onePacket, sched1, sched2, sched3 } = f;
  if (typeof persistent !== 'boolean' || typeof onePacket !== 'boolean' || typeof sched1 !== 'boolean'
    || typeof sched2 !== 'boolean' || typeof sched3 !== 'boolean') return null;
  return { persistent, onePacket, sched1, sched2, sched3 };
}

/** serviceSpecSchema: the same value its parse returns, or null (ask the schema). */
export function quickServiceSpec(x: unknown): ServiceSpec | null {
  if (!isObj(x)) return null;
  const key = serviceKey(x.key);
  if (!key) return null;
  const { scheduler, timeout, netmask, pe } = x;
  if (typeof scheduler !== 'string' || !SCHEDULER_SET.has(scheduler)) return null;
  const flags = serviceFlags(x.flags);
  if (!flags) return null;
  if (!inBound(timeout, PERSISTENCE_TIMEOUT)) return null;
  // netmaskProblem only passes text without blanks, so the schema's trim and '' default never apply
  if (typeof netmask !== 'string' || !netmaskOk(key.family, netmask)) return null;
  if (pe !== null && (typeof pe !== 'string' || !isPeName(pe))) return null;
  const spec: ServiceSpec = { key, scheduler, flags, timeout, netmask, pe };
  // checkServiceSpec
  if (persistentWithoutTimeout(spec) || anyPortWithoutPersistence(spec) || onePacketNotAllowed(spec)) return null;
  return spec;
}

/** tunnelSchema */
function tunnelSpec(t: unknown): TunnelSpec | null {
  if (!isObj(t)) return null;
  const { type, port, checksum } = t;
  if (type !== 'ipip' && type !== 'gue' && type !== 'gre') return null;
  if (!inBound(port, PORT)) return null;
  if (checksum !== 'nocsum' && checksum !== 'csum' && checksum !== 'remcsum') return null;
  const tunnel: TunnelSpec = { type, port, checksum };
  return tunnelProblems(tunnel).length === 0 ? tunnel : null;
}

/** destinationSpecSchema: the same value its parse returns, or null (ask the schema). */
export function quickDestinationSpec(x: unknown): DestinationSpec | null {
  if (!isObj(x)) return null;
  const { family, address, port, forward, weight, upperThreshold, lowerThreshold } = x;
  if (!isFamily(family) || !inBound(port, PORT) || !FORWARDS.has(forward)) return null;
  if (!inBound(weight, WEIGHT) || !inBound(upperThreshold, THRESHOLD) || !inBound(lowerThreshold, THRESHOLD)) return null;
  if (typeof address !== 'string') return null;
  if (family === 'inet') {
    // canonical, and not what unusableRealServer refuses (0.0.0.0, broadcast, multicast)
    if (!usableQuad(canonicalQuad(address))) return null;
  } else {
    const b = parseIPv6(address);
    if (b === null || formatIPv6(b) !== address || unusableRealServer(family, address) !== null) return null;
  }
  const tunnel = tunnelSpec(x.tunnel);
  if (!tunnel) return null;
  const d: DestinationSpec = { family, address, port, forward: forward as ForwardMethod, weight, upperThreshold, lowerThreshold, tunnel };
  // checkDestination
  if (tunnelOptionsWithoutTunnel(d) || thresholdsInverted(d)) return null;
  return d;
}

/** Whether dests[0..n) already holds d's address and port: a scan while few (the usual handful), a Set beyond. */
function repeatsDestination(dests: readonly DestinationSpec[], n: number, d: DestinationSpec, seen: Set<string> | null): boolean {
  if (seen) return seen.has(destinationId(d));
  for (let i = 0; i < n; i++) if (sameDestinationKey(dests[i]!, d)) return true;
  return false;
}
const SCAN_LIMIT = 16;

/** serviceTableSchema (services with their real servers, unique by key): the same value its parse returns, or null. */
export function quickServiceTable(x: unknown): ServiceRules[] | null {
  if (!Array.isArray(x)) return null;
  const out: ServiceRules[] = new Array(x.length);
  const services = new Set<string>();
  for (let i = 0; i < x.length; i++) {
    const s: unknown = x[i];
    if (!isObj(s)) return null;
    const spec = quickServiceSpec(s);
    const ds = s.destinations;
    if (!spec || !Array.isArray(ds)) return null;
    const dests: DestinationSpec[] = new Array(ds.length);
    let seen: Set<string> | null = null;
    for (let j = 0; j < ds.length; j++) {
      const d = quickDestinationSpec(ds[j]);
      if (!d || familyMixWithoutTunnel(spec.key.family, d)) return null;
      if (repeatsDestination(dests, j, d, seen)) return null;
      dests[j] = d;
      if (j + 1 === SCAN_LIMIT) seen = new Set(dests.slice(0, j + 1).map(destinationId));
      else if (seen) seen.add(destinationId(d));
    }
    const id = serviceId(spec.key);
    if (services.has(id)) return null;
    services.add(id);
    out[i] = { key: spec.key, scheduler: spec.scheduler, flags: spec.flags, timeout: spec.timeout, netmask: spec.netmask, pe: spec.pe, destinations: dests };
  }
  return out;
}
