/**
 * Table changes between two dumps, by configuration only (counters and
 * connection counts are observed state, not changes). The kernel sends no
 * IPVS change notifications, so comparing dumps is how changes made by
 * ipvsadm or keepalived become visible.
 */
import type { DestinationSpec, DestinationState, ServiceEntry, ServiceRules, ServiceSpec } from '../ipvs/model';
import type { TableChange } from './events';
import { destinationId, keptServiceId } from '../ipvs/ids';

export function serviceSpecOf(s: ServiceSpec): ServiceSpec {
  return { key: s.key, scheduler: s.scheduler, flags: { ...s.flags }, timeout: s.timeout, netmask: s.netmask, pe: s.pe };
}

export function destinationSpecOf(d: DestinationSpec | DestinationState): DestinationSpec {
  return {
    family: d.family, address: d.address, port: d.port, forward: d.forward, weight: d.weight,
    upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: { ...d.tunnel },
  };
}

function rulesOf(e: ServiceEntry): ServiceRules {
  return { ...serviceSpecOf(e), destinations: e.destinations.map(destinationSpecOf) };
}

function same(a: unknown, b: unknown): boolean {
  return JSON.stringify(a) === JSON.stringify(b);
}

function sameServiceConfig(a: ServiceSpec, b: ServiceSpec): boolean {
  const f = a.flags, g = b.flags;
  return a.scheduler === b.scheduler && a.timeout === b.timeout && a.netmask === b.netmask && a.pe === b.pe
    && f.persistent === g.persistent && f.onePacket === g.onePacket && f.sched1 === g.sched1 && f.sched2 === g.sched2
    && f.sched3 === g.sched3 && Object.keys(f).length === Object.keys(g).length;
}

export function diffTables(prev: readonly ServiceEntry[], next: readonly ServiceEntry[]): TableChange[] {
  const changes: TableChange[] = [];
  // samplers hand back the same entry object for a service that did not change, in the kernel's stable
  // order: when every position holds the same entry or the same service, only the differing ones are compared
  if (prev.length === next.length) {
    let aligned = true;
    const pairs: number[] = [];
    for (let i = 0; i < prev.length; i++) {
      const a = prev[i]!, b = next[i]!;
      if (a === b) continue;
      if (a.key !== b.key && keptServiceId(a) !== keptServiceId(b)) {
        aligned = false;
        break;
      }
      pairs.push(i);
    }
    if (aligned) {
      for (const i of pairs) diffService(prev[i]!, next[i]!, changes);
      return changes;
    }
  }
  const before = new Map(prev.map((e) => [keptServiceId(e), e]));
  const after = new Map(next.map((e) => [keptServiceId(e), e]));
  for (const [id, e] of before) {
    if (!after.has(id)) changes.push({ type: 'service_removed', service: rulesOf(e) });
  }
  for (const [id, e] of after) {
    const p = before.get(id);
    if (!p) changes.push({ type: 'service_added', service: rulesOf(e) });
    else if (p !== e) diffService(p, e, changes);
  }
  return changes;
}

/**
 * The same real servers in the same order with the same settings: what a
 * busy service looks like from one tick to the next (only its counters and
 * connection counts move), told without building two maps and a spec per
 * real server.
 */
function sameDestinationSpecs(a: readonly DestinationState[], b: readonly DestinationState[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !sameDestinationSpec(a[i]!, b[i]!)) return false;
  return true;
}

/** One real server, the same one with the same settings (address, forwarding, weight, thresholds, tunnel), counters aside. */
export function sameDestinationSpec(x: DestinationSpec, y: DestinationSpec): boolean {
  return x.address === y.address && x.port === y.port && x.family === y.family && x.forward === y.forward && x.weight === y.weight
    && x.upperThreshold === y.upperThreshold && x.lowerThreshold === y.lowerThreshold
    && x.tunnel.type === y.tunnel.type && x.tunnel.port === y.tunnel.port && x.tunnel.checksum === y.tunnel.checksum;
}

/** What changed in one service present on both sides. */
function diffService(p: ServiceEntry, e: ServiceEntry, changes: TableChange[]): void {
  // field by field first: at 1,000 services a JSON comparison per service was a visible part of each tick
  if (!sameServiceConfig(p, e)) {
    const ps = serviceSpecOf(p), ns = serviceSpecOf(e);
    if (!same(ps, ns)) changes.push({ type: 'service_changed', before: ps, after: ns });
  }
  // samplers that keep an unchanged service's destinations array let the diff skip it
  if (p.destinations === e.destinations || sameDestinationSpecs(p.destinations, e.destinations)) return;
  const pd = new Map(p.destinations.map((d) => [destinationId(d), destinationSpecOf(d)]));
  const nd = new Map(e.destinations.map((d) => [destinationId(d), destinationSpecOf(d)]));
  for (const [did, d] of pd) {
    if (!nd.has(did)) changes.push({ type: 'destination_removed', service: e.key, destination: d });
  }
  for (const [did, d] of nd) {
    const old = pd.get(did);
    if (!old) changes.push({ type: 'destination_added', service: e.key, destination: d });
    else if (!same(old, d)) changes.push({ type: 'destination_changed', service: e.key, before: old, after: d });
  }
}
