/**
 * The difference between a live table and a desired one, as kernel
 * operations in a safe order, each one invertible so a failed apply can be
 * undone. Objects are matched by id and compared by lib/ipvs/config's
 * "same configuration", like the change feed.
 */
import type {
  DestinationSpec, ServiceEntry, ServiceKey, ServiceRules, ServiceSpec,
} from '../ipvs/model';
import { formatDestinationLine, formatServiceLine } from './format';
import { sameDestinationConfig, sameServiceConfig, serviceSpecOf } from '../ipvs/config';
import { destinationId, serviceId } from '../ipvs/ids';
import { toRules } from './json';

export type PlanMode = 'merge' | 'replace';

export type PlanOp =
  | { kind: 'createService'; service: ServiceSpec; line?: number }
  | { kind: 'updateService'; service: ServiceSpec; before: ServiceSpec; line?: number }
  | { kind: 'removeService'; service: ServiceSpec; line?: number }
  | { kind: 'createDestination'; service: ServiceSpec; destination: DestinationSpec; line?: number }
  | { kind: 'updateDestination'; service: ServiceSpec; destination: DestinationSpec; before: DestinationSpec; line?: number }
  | { kind: 'removeDestination'; service: ServiceSpec; destination: DestinationSpec; line?: number };

export interface PlanInput {
  mode?: PlanMode;
  /** Source lines parallel to `desired` (from parseSnapshot), carried into the operations. */
  lines?: readonly { service: number; destinations: readonly number[] }[];
}


/**
 * Order: service updates, destination updates, service creates, destination
 * creates (after their service), destination removals, service removals
 * (after their destinations). Within a phase, file order; removals in live order.
 */
export function planRestore(
  live: readonly (ServiceEntry | ServiceRules)[], desired: readonly ServiceRules[], input: PlanInput = {},
): PlanOp[] {
  const mode = input.mode ?? 'merge';
  const liveRules = toRules(live);
  const liveById = new Map(liveRules.map((s) => [serviceId(s.key), s]));
  const wanted = new Set(desired.map((s) => serviceId(s.key)));
  const updSvc: PlanOp[] = [], updDest: PlanOp[] = [], newSvc: PlanOp[] = [], newDest: PlanOp[] = [];
  const delDest: PlanOp[] = [], delSvc: PlanOp[] = [];

  desired.forEach((want, i) => {
    const ln = input.lines?.[i];
    const line = ln?.service;
    const spec = serviceSpecOf(want);
    const have = liveById.get(serviceId(want.key));
    if (!have) {
      newSvc.push({ kind: 'createService', service: spec, line });
      want.destinations.forEach((d, j) => newDest.push({ kind: 'createDestination', service: spec, destination: d, line: ln?.destinations[j] }));
      return;
    }
    const haveSpec = serviceSpecOf(have);
    if (!sameServiceConfig(haveSpec, spec)) updSvc.push({ kind: 'updateService', service: spec, before: haveSpec, line });
    const haveDests = new Map(have.destinations.map((d) => [destinationId(d), d]));
    const wantIds = new Set<string>();
    want.destinations.forEach((d, j) => {
      const id = destinationId(d);
      wantIds.add(id);
      const dl = ln?.destinations[j];
      const h = haveDests.get(id);
      if (!h) newDest.push({ kind: 'createDestination', service: spec, destination: d, line: dl });
      else if (!sameDestinationConfig(h, d)) updDest.push({ kind: 'updateDestination', service: spec, destination: d, before: h, line: dl });
    });
    for (const h of have.destinations) {
      if (!wantIds.has(destinationId(h))) delDest.push({ kind: 'removeDestination', service: haveSpec, destination: h, line });
    }
  });

  if (mode === 'replace') {
    for (const have of liveRules) {
      if (wanted.has(serviceId(have.key))) continue;
      const spec = serviceSpecOf(have);
      for (const d of have.destinations) delDest.push({ kind: 'removeDestination', service: spec, destination: d });
      delSvc.push({ kind: 'removeService', service: spec });
    }
  }
  return [...updSvc, ...updDest, ...newSvc, ...newDest, ...delDest, ...delSvc];
}

/** The operation that undoes `op`; `before` overrides the state the op recorded. */
export function invert(op: PlanOp, before?: ServiceSpec | DestinationSpec): PlanOp {
  switch (op.kind) {
    case 'createService': return { kind: 'removeService', service: op.service, line: op.line };
    case 'removeService': return { kind: 'createService', service: (before as ServiceSpec | undefined) ?? op.service, line: op.line };
    case 'updateService': return { kind: 'updateService', service: (before as ServiceSpec | undefined) ?? op.before, before: op.service, line: op.line };
    case 'createDestination': return { kind: 'removeDestination', service: op.service, destination: op.destination, line: op.line };
    case 'removeDestination': return { kind: 'createDestination', service: op.service, destination: (before as DestinationSpec | undefined) ?? op.destination, line: op.line };
    case 'updateDestination': return { kind: 'updateDestination', service: op.service, destination: (before as DestinationSpec | undefined) ?? op.before, before: op.destination, line: op.line };
  }
}

export function opServiceKey(op: PlanOp): ServiceKey {
  return op.service.key;
}

/** One op in ipvsadm syntax: what `ipvsadm` would be told to do. */
export function describeOp(op: PlanOp): string {
  switch (op.kind) {
    case 'createService': return formatServiceLine(op.service);
    case 'updateService': return formatServiceLine(op.service).replace(/^-A/, '-E');
    case 'removeService': return formatServiceLine(op.service).replace(/^-A (.*?) -s .*$/, '-D $1');
    case 'createDestination': return formatDestinationLine(op.service, op.destination);
    case 'updateDestination': return formatDestinationLine(op.service, op.destination).replace(/^-a/, '-e');
    case 'removeDestination': return formatDestinationLine(op.service, op.destination).replace(/^-a (.*? -r \S+).*$/, '-d $1');
  }
}

/** A readable diff for --dry-run: `+` added, `-` removed, `~` changed (with the old value below). */
export function renderPlan(ops: readonly PlanOp[], source?: string): string {
  if (ops.length === 0) return 'no changes: the table already matches\n';
  const at = (op: PlanOp) => (op.line !== undefined ? `   # ${source ? `${source}:` : 'line '}${op.line}` : '');
  let out = '';
  for (const op of ops) {
    switch (op.kind) {
      case 'createService': out += `+ ${formatServiceLine(op.service)}${at(op)}\n`; break;
      case 'createDestination': out += `+ ${formatDestinationLine(op.service, op.destination)}${at(op)}\n`; break;
      case 'removeService': out += `- ${formatServiceLine(op.service)}${at(op)}\n`; break;
      case 'removeDestination': out += `- ${formatDestinationLine(op.service, op.destination)}${at(op)}\n`; break;
      case 'updateService':
        out += `~ ${formatServiceLine(op.service)}${at(op)}\n    was ${formatServiceLine(op.before)}\n`;
        break;
      case 'updateDestination':
        out += `~ ${formatDestinationLine(op.service, op.destination)}${at(op)}\n    was ${formatDestinationLine(op.service, op.before)}\n`;
        break;
    }
  }
  const count = (kinds: string[]) => ops.filter((o) => kinds.includes(o.kind)).length;
  out += `${count(['createService', 'createDestination'])} to add, ${count(['updateService', 'updateDestination'])} to change, ${count(['removeService', 'removeDestination'])} to remove\n`;
  return out;
}
