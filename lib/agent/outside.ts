/**
 * Changes made outside Director: the table the agent observes compared with
 * what Director last wrote (the "expected" table, configuration only). Every
 * write through Director is journaled, and the journal's objects say what
 * each write left; whatever else differs was done by another tool (ipvsadm,
 * keepalived, a script). Pure: the agent's watch (server/table/outside.ts)
 * feeds it samples and journal entries.
 */
import { destinationSpecOf, sameDestinationConfig, sameServiceConfig, sameServiceRules, serviceSpecOf } from '../ipvs/config';
import { destinationId, sameDestinationKey, serviceId } from '../ipvs/ids';
import type { DestinationSpec, ServiceEntry, ServiceKey, ServiceRules } from '../ipvs/model';
import type { JournalObject } from '../journal/types';
import type { TableChange } from './events';

/** One service whose table configuration is not what Director last wrote. */
export interface OutsideChange {
  /** changes with the diff: adopt/revert name the exact diff the operator saw */
  id: number;
  service: ServiceKey;
  serviceId: string;
  /** when it was first seen (ms since epoch) */
  since: number;
  /** what Director last wrote (null: Director left no such service) */
  expected: ServiceRules | null;
  /** what the table holds now (null: the service is gone) */
  observed: ServiceRules | null;
  /** from expected to observed, per service and real server */
  changes: TableChange[];
}

/** The table by service id, configuration only. */
export type RulesTable = Map<string, ServiceRules>;

export function rulesOf(e: ServiceRules | ServiceEntry): ServiceRules {
  return { ...serviceSpecOf(e), destinations: e.destinations.map(destinationSpecOf) };
}

export function rulesTable(entries: readonly (ServiceRules | ServiceEntry)[]): RulesTable {
  return new Map(entries.map((e) => [serviceId(e.key), rulesOf(e)]));
}

/** What turns `expected` into `observed`, in the change feed's terms. */
export function diffRules(expected: ServiceRules | null, observed: ServiceRules | null): TableChange[] {
  if (expected === null) return observed === null ? [] : [{ type: 'service_added', service: observed }];
  if (observed === null) return [{ type: 'service_removed', service: expected }];
  const out: TableChange[] = [];
  if (!sameServiceConfig(expected, observed)) out.push({ type: 'service_changed', before: serviceSpecOf(expected), after: serviceSpecOf(observed) });
  for (const d of expected.destinations) {
    if (!observed.destinations.some((o) => sameDestinationKey(o, d))) out.push({ type: 'destination_removed', service: observed.key, destination: d });
  }
  for (const d of observed.destinations) {
    const was = expected.destinations.find((e) => sameDestinationKey(e, d));
    if (!was) out.push({ type: 'destination_added', service: observed.key, destination: d });
    else if (!sameDestinationConfig(was, d)) out.push({ type: 'destination_changed', service: observed.key, before: was, after: d });
  }
  return out;
}

/**
 * The outside changes now: one per service that differs, keeping the id
 * of a previous one with the very same difference, a new id when the
 * difference is new or changed again.
 */
export function outsideChanges(
  expected: ReadonlyMap<string, ServiceRules>, observed: ReadonlyMap<string, ServiceRules>,
  prev: readonly OutsideChange[], now: number, nextId: () => number,
): OutsideChange[] {
  return updateOutsideChanges(expected, (id) => observed.get(id) ?? null, new Set([...expected.keys(), ...observed.keys()]), prev, now, nextId);
}

/**
 * outsideChanges for the services `ids` only (those whose reading or
 * expectation moved); the other alarms in `prev` stand. `observed` may hand
 * back the kernel's entries as read (counters and all): only a differing
 * service is copied into an alarm, as configuration.
 */
export function updateOutsideChanges(
  expected: ReadonlyMap<string, ServiceRules>, observed: (id: string) => ServiceRules | ServiceEntry | null, ids: ReadonlySet<string>,
  prev: readonly OutsideChange[], now: number, nextId: () => number,
): OutsideChange[] {
  const out = prev.filter((p) => !ids.has(p.serviceId));
  for (const id of ids) {
    const e = expected.get(id) ?? null, seen = observed(id);
    if (sameServiceRules(e, seen)) continue;
    const o = seen && rulesOf(seen);
    const same = prev.find((p) => p.serviceId === id && sameServiceRules(p.expected, e) && sameServiceRules(p.observed, o));
    if (same) {
      out.push(same);
      continue;
    }
    // edited again: a new id (adopt and revert name what was seen), but it has differed since the first edit
    const since = prev.find((p) => p.serviceId === id)?.since ?? now;
    out.push({ id: nextId(), service: (o ?? e)!.key, serviceId: id, since, expected: e, observed: o, changes: diffRules(e, o) });
  }
  return out.sort((a, b) => a.id - b.id);
}

/**
 * Applies what a journaled write changed (from its objects' `before` to
 * their `after`) to the expected table. Only what the write changed: a real
 * server another tool edited and the write left alone stays an outside
 * change, even when the journal holds the whole service. Returns the ids of
 * services it could not place (a real server of a service the expected
 * table does not hold): the caller takes those from the table as observed
 * after the write.
 */
export function absorbWrite(expected: RulesTable, objects: readonly JournalObject[]): Set<string> {
  const unplaced = new Set<string>();
  const setDest = (id: string, key: DestinationSpec, to: DestinationSpec | null): void => {
    const s = expected.get(id);
    if (!s) {
      unplaced.add(id);
      return;
    }
    const rest = s.destinations.filter((d) => !sameDestinationKey(d, key));
    expected.set(id, { ...s, destinations: to ? [...rest, destinationSpecOf(to)] : rest });
  };
  for (const o of objects) {
    if (o.kind === 'service') {
      const id = serviceId(o.key);
      const s = expected.get(id);
      if (o.after === null) expected.delete(id);
      else if (o.before === null || !s) expected.set(id, rulesOf(o.after));
      else {
        for (const c of diffRules(o.before, o.after)) {
          if (c.type === 'service_changed') expected.set(id, { ...c.after, destinations: expected.get(id)!.destinations });
          else if (c.type === 'destination_added') setDest(id, c.destination, c.destination);
          else if (c.type === 'destination_removed') setDest(id, c.destination, null);
          else if (c.type === 'destination_changed') setDest(id, c.after, c.after);
        }
      }
    } else if (o.kind === 'destination') {
      const key = o.after ?? o.before;
      if (key) setDest(serviceId(o.service), key, o.after);
    }
  }
  return unplaced;
}

/** Service ids a journaled write touched (the journal hands its listeners every object, even of an entry kept as a summary). */
export function touchedServices(objects: readonly JournalObject[]): Set<string> {
  const ids = new Set<string>();
  for (const o of objects) {
    if (o.kind === 'service') ids.add(serviceId(o.key));
    else if (o.kind === 'destination') ids.add(serviceId(o.service));
  }
  return ids;
}

/** A one-line account of a change, for alarms and logs: "weight 1 → 5 on real server 10.0.0.2:80". */
export function describeChange(c: TableChange): string {
  switch (c.type) {
    case 'service_added': return `service added (${c.service.scheduler}, ${c.service.destinations.length} real server(s))`;
    case 'service_removed': return 'service removed';
    case 'service_changed': {
      const parts: string[] = [];
      if (c.before.scheduler !== c.after.scheduler) parts.push(`scheduler ${c.before.scheduler} → ${c.after.scheduler}`);
      if (c.before.flags.persistent !== c.after.flags.persistent) parts.push(c.after.flags.persistent ? `persistence on (${c.after.timeout} s)` : 'persistence off');
      else if (c.after.flags.persistent && c.before.timeout !== c.after.timeout) parts.push(`persistence ${c.before.timeout} s → ${c.after.timeout} s`);
      if (c.after.flags.persistent && c.before.netmask !== c.after.netmask) parts.push(`netmask ${c.before.netmask} → ${c.after.netmask}`);
      if ((c.before.pe ?? null) !== (c.after.pe ?? null)) parts.push(`persistence engine ${c.before.pe ?? 'none'} → ${c.after.pe ?? 'none'}`);
      return parts.length ? parts.join(', ') : 'service flags changed';
    }
    case 'destination_added': return `real server ${destinationId(c.destination)} added (${c.destination.forward}, weight ${c.destination.weight})`;
    case 'destination_removed': return `real server ${destinationId(c.destination)} removed`;
    case 'destination_changed': {
      const b = c.before, a = c.after;
      const parts: string[] = [];
      if (b.weight !== a.weight) parts.push(`weight ${b.weight} → ${a.weight}`);
      if (b.forward !== a.forward) parts.push(`forwarding ${b.forward} → ${a.forward}`);
      if (b.upperThreshold !== a.upperThreshold) parts.push(`upper threshold ${b.upperThreshold} → ${a.upperThreshold}`);
      if (b.lowerThreshold !== a.lowerThreshold) parts.push(`lower threshold ${b.lowerThreshold} → ${a.lowerThreshold}`);
      if (parts.length === 0) parts.push('tunnel settings changed');
      return `real server ${destinationId(a)}: ${parts.join(', ')}`;
    }
  }
}

/**
 * The outside changes a replicated table would undo: those whose service
 * the incoming table does not hold as the table holds it now. HA replication
 * holds such a table for an operator instead of applying it silently.
 */
export function undoneBy(changes: readonly OutsideChange[], incoming: readonly ServiceRules[]): OutsideChange[] {
  const byId = rulesTable(incoming);
  return changes.filter((c) => !sameServiceRules(byId.get(c.serviceId) ?? null, c.observed));
}
