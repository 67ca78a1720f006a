/**
 * A change set: the form edits an operator staged (add/edit/delete a
 * service or a real server, weights, schedulers), applied in order to a
 * table, without I/O. The agent applies them to the live table to know the
 * table as it would be (the diff, the verdict, the plan it sends); each edit
 * is checked with the forms' own schemas, and the result with the snapshot
 * table's rules, so a draft that could not be applied is refused when staged.
 */
import { z } from 'zod';
import { InputError, type InputIssue } from '../errors';
import { formatDestination, formatServiceKey } from '../ipvs/format';
import { destinationId, serviceId } from '../ipvs/ids';
import type { ServiceKey, ServiceRules } from '../ipvs/model';
import { mergeDestinationPatch, mergeServicePatch } from '../ipvs/patch';
import {
  destinationKeySchema, destinationPatchSchema, destinationSpecSchema, serviceKeySchema, servicePatchSchema, serviceSpecSchema,
} from '../schemas/api';
import { serviceRulesSchema } from '../schemas/ipvs';
import { serviceSpecOf } from '../ipvs/config';

/** Edits in one draft: a change set is a handful of form edits, not a snapshot (restore those). */
export const MAX_EDITS = 100;
/** Real servers one staged service creation may bring. */
export const MAX_CREATE_DESTINATIONS = 256;
/** The serialised draft, so a hundred edits of the largest kind still stay small on the agent. */
export const MAX_DRAFT_BYTES = 512 * 1024;

export const changeEditSchema = z.discriminatedUnion('op', [
  z.object({
    op: z.literal('service.create'), service: serviceSpecSchema,
    destinations: z.array(destinationSpecSchema).max(MAX_CREATE_DESTINATIONS, `at most ${MAX_CREATE_DESTINATIONS} real servers per staged service`).default([]),
  }).strict(),
  z.object({ op: z.literal('service.update'), key: serviceKeySchema, patch: servicePatchSchema }).strict(),
  z.object({ op: z.literal('service.remove'), key: serviceKeySchema }).strict(),
  z.object({ op: z.literal('destination.create'), service: serviceKeySchema, destination: destinationSpecSchema }).strict(),
  z.object({
    op: z.literal('destination.update'), service: serviceKeySchema, destination: destinationKeySchema, patch: destinationPatchSchema,
  }).strict(),
  z.object({ op: z.literal('destination.remove'), service: serviceKeySchema, destination: destinationKeySchema }).strict(),
]);
export type ChangeEdit = z.infer<typeof changeEditSchema>;

/** One line for an edit, as the draft lists it. */
export function describeEdit(e: ChangeEdit): string {
  switch (e.op) {
    case 'service.create': return `add service ${formatServiceKey(e.service.key)} (${e.service.scheduler}${e.destinations.length ? `, ${e.destinations.length} real server(s)` : ''})`;
    case 'service.update': return `edit service ${formatServiceKey(e.key)}: ${describePatch(e.patch)}`;
    case 'service.remove': return `delete service ${formatServiceKey(e.key)}`;
    case 'destination.create': return `add real server ${formatDestination(e.destination)} to ${formatServiceKey(e.service)} (${e.destination.forward}, weight ${e.destination.weight})`;
    case 'destination.update': return `edit real server ${formatDestination(e.destination)} of ${formatServiceKey(e.service)}: ${describePatch(e.patch)}`;
    case 'destination.remove': return `delete real server ${formatDestination(e.destination)} from ${formatServiceKey(e.service)}`;
  }
}

function describePatch(p: object): string {
  const parts = Object.entries(p).filter(([, v]) => v !== undefined)
    .map(([k, v]) => `${k} ${typeof v === 'object' && v !== null ? JSON.stringify(v) : String(v)}`);
  return parts.length ? parts.join(', ') : 'no change';
}

/** The service an edit is about. */
export function editService(e: ChangeEdit): ServiceKey {
  switch (e.op) {
    case 'service.create': return e.service.key;
    case 'service.update': case 'service.remove': return e.key;
    default: return e.service;
  }
}

function issue(index: number, message: string, path: PropertyKey[] = []): InputIssue {
  return { code: 'custom', path: ['edits', index, ...path], message };
}

/**
 * `table` with `edits` applied in order (a new array; `table` is not
 * touched). Throws InputError naming the edit (`edits.<i>`) and why when an
 * edit does not fit the table as the edits before it left it: a service that
 * already exists, a real server that is not there, a patch that breaks a rule.
 */
export function applyEdits(table: readonly ServiceRules[], edits: readonly ChangeEdit[]): ServiceRules[] {
  const out = new Map<string, ServiceRules>();
  for (const s of table) out.set(serviceId(s.key), { ...s, flags: { ...s.flags }, destinations: [...s.destinations] });
  edits.forEach((e, i) => {
    const id = serviceId(editService(e));
    const svc = out.get(id);
    const label = formatServiceKey(editService(e));
    switch (e.op) {
      case 'service.create': {
        if (svc) throw new InputError([issue(i, `virtual service ${label} already exists`, ['service', 'key'])]);
        out.set(id, { ...e.service, destinations: [...e.destinations] });
        break;
      }
      case 'service.update': {
        if (!svc) throw new InputError([issue(i, `virtual service ${label} does not exist`, ['key'])]);
        const r = serviceSpecSchema.safeParse(mergeServicePatch(serviceSpecOf(svc), e.patch));
        if (!r.success) throw new InputError(r.error.issues.map((x) => issue(i, x.message, ['patch', ...x.path])));
        out.set(id, { ...r.data, destinations: svc.destinations });
        break;
      }
      case 'service.remove':
        if (!svc) throw new InputError([issue(i, `virtual service ${label} does not exist`, ['key'])]);
        out.delete(id);
        break;
      case 'destination.create': {
        if (!svc) throw new InputError([issue(i, `virtual service ${label} does not exist`, ['service'])]);
        const did = destinationId(e.destination);
        if (svc.destinations.some((d) => destinationId(d) === did)) {
          throw new InputError([issue(i, `real server ${formatDestination(e.destination)} is already in ${label}`, ['destination'])]);
        }
        svc.destinations = [...svc.destinations, e.destination];
        break;
      }
      case 'destination.update': case 'destination.remove': {
        if (!svc) throw new InputError([issue(i, `virtual service ${label} does not exist`, ['service'])]);
        const did = destinationId(e.destination);
        const at = svc.destinations.findIndex((d) => destinationId(d) === did);
        if (at < 0) throw new InputError([issue(i, `real server ${formatDestination(e.destination)} is not in ${label}`, ['destination'])]);
        if (e.op === 'destination.remove') {
          svc.destinations = svc.destinations.filter((_, k) => k !== at);
        } else {
          const r = destinationSpecSchema.safeParse(mergeDestinationPatch(svc.destinations[at]!, e.patch));
          if (!r.success) throw new InputError(r.error.issues.map((x) => issue(i, x.message, ['patch', ...x.path])));
          svc.destinations = svc.destinations.map((d, k) => (k === at ? r.data : d));
        }
        break;
      }
    }
    // the rules that need a service and its real servers together (family mix, tunnels): as the forms and snapshots check them
    const now = out.get(id);
    if (now) {
      const r = serviceRulesSchema.safeParse(now);
      if (!r.success) throw new InputError(r.error.issues.map((x) => issue(i, `${label}: ${x.message}`)));
    }
  });
  return [...out.values()];
}
