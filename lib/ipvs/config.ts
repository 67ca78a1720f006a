/**
 * The one definition of "same configuration" for services and real servers,
 * shared by the restore planner, the change feed and the journal's undo.
 * Counters, connection counts and the kernel's HASHED flag are observed
 * state, not configuration. Fields the kernel keeps but that mean nothing
 * in their context are not compared either: the persistence timeout and
 * mask of a non-persistent service, and the tunnel settings of a real
 * server that does not tunnel. `ipvsadm -S` cannot express them, so a plan
 * could never converge on them, and the console shows none of them.
 */
import { sameDestinationKey, sameServiceKey } from './ids';
import type { DestinationSpec, ServiceRules, ServiceSpec } from './model';

/** A service's configuration alone, copied: what plans, change events and the journal carry. */
export function serviceSpecOf(s: ServiceSpec): ServiceSpec {
  return { key: s.key, scheduler: s.scheduler, flags: { ...s.flags }, timeout: s.timeout, netmask: s.netmask, pe: s.pe };
}

/** A real server's configuration alone, copied (counters and connection counts dropped). */
export function destinationSpecOf(d: DestinationSpec): DestinationSpec {
  return {
    family: d.family, address: d.address, port: d.port, forward: d.forward, weight: d.weight,
    upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: { ...d.tunnel },
  };
}

/** The same service (key) with the same configuration. */
export function sameServiceConfig(a: ServiceSpec, b: ServiceSpec): boolean {
  const fa = a.flags, fb = b.flags;
  if (a.scheduler !== b.scheduler || (a.pe ?? null) !== (b.pe ?? null)) return false;
  if (fa.persistent !== fb.persistent || fa.onePacket !== fb.onePacket || fa.sched1 !== fb.sched1
    || fa.sched2 !== fb.sched2 || fa.sched3 !== fb.sched3) return false;
  if (fa.persistent && (a.timeout !== b.timeout || a.netmask !== b.netmask)) return false;
  return a.key === b.key || sameServiceKey(a.key, b.key);
}

/** The same real server (address and port) with the same configuration. */
export function sameDestinationConfig(a: DestinationSpec, b: DestinationSpec): boolean {
  if (a.forward !== b.forward || a.weight !== b.weight || a.upperThreshold !== b.upperThreshold
    || a.lowerThreshold !== b.lowerThreshold || !sameDestinationKey(a, b)) return false;
  if (a.forward === 'tun') {
    const ta = a.tunnel, tb = b.tunnel;
    if (ta.type !== tb.type || ta.port !== tb.port || ta.checksum !== tb.checksum) return false;
  }
  return true;
}

/** The same service with the same configuration and the same real servers (in any order), each configured the same; null is absent. */
export function sameServiceRules(a: ServiceRules | null, b: ServiceRules | null): boolean {
  if (a === null || b === null) return a === b;
  if (!sameServiceConfig(a, b) || a.destinations.length !== b.destinations.length) return false;
  return a.destinations.every((d) => b.destinations.some((e) => sameDestinationConfig(d, e)));
}
