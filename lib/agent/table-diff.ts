/**
 * Table changes between two dumps, by configuration only (lib/ipvs/config:
 * counters and connection counts are observed state, not changes). The
 * kernel sends no IPVS change notifications, so comparing dumps is how
 * changes made by ipvsadm or keepalived become visible.
 */
import { destinationSpecOf, sameDestinationConfig, sameServiceConfig, serviceSpecOf } from '../ipvs/config';
import { destinationId, keptServiceId } from '../ipvs/ids';
import type { DestinationState, ServiceEntry, ServiceRules } from '../ipvs/model';
import type { TableChange } from './events';

function rulesOf(e: ServiceEntry): ServiceRules {
  return { ...serviceSpecOf(e), destinations: e.destinations.map(destinationSpecOf) };
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
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i] && !sameDestinationConfig(a[i]!, b[i]!)) return false;
  return true;
}

/** What changed in one service present on both sides. */
function diffService(p: ServiceEntry, e: ServiceEntry, changes: TableChange[]): void {
  if (!sameServiceConfig(p, e)) changes.push({ type: 'service_changed', before: serviceSpecOf(p), after: serviceSpecOf(e) });
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
    else if (!sameDestinationConfig(old, d)) changes.push({ type: 'destination_changed', service: e.key, before: old, after: d });
  }
}
