/**
 * A client's copy of services.list, patched in place of a refetch: by change
 * events (which carry the changed services) and by mutation replies (which
 * carry the object written). Pure: the console's cache calls it.
 */
import type { ServiceKey } from '../ipvs/model';
import type { ServedService } from './events';
import { keptServiceId, serviceId } from '../ipvs/ids';

export interface TablePatch {
  /** when the change was read (a change event's `at`; a reply's readAt.config) */
  at: number;
  /** services added or changed, as they are now */
  services: readonly ServedService[];
  removed: readonly ServiceKey[];
}

/**
 * `list` with `patch` applied: changed services replaced where they stand,
 * new ones appended (the kernel lists services in the order they were added),
 * removed ones dropped. What the list read later than the patch wins, so a
 * late event never undoes a newer read. Returns `list` itself when nothing
 * changes; undefined when there is no list yet (the first read will fetch it).
 */
export function patchServices(list: readonly ServedService[] | undefined, patch: TablePatch): ServedService[] | undefined {
  if (!list) return undefined;
  const gone = new Set(patch.removed.map(serviceId));
  const incoming = new Map<string, ServedService>();
  for (const s of patch.services) incoming.set(keptServiceId(s), s);
  let changed = false;
  const out: ServedService[] = [];
  for (const s of list) {
    const id = keptServiceId(s);
    const next = incoming.get(id);
    incoming.delete(id);
    if (gone.has(id) && s.readAt.config <= patch.at) {
      changed = true;
      continue;
    }
    if (next && next.readAt.config >= s.readAt.config) {
      out.push(next);
      changed ||= next !== s;
    } else out.push(s);
  }
  for (const s of incoming.values()) {
    out.push(s);
    changed = true;
  }
  return changed ? out : (list as ServedService[]);
}

/** The patch a mutation's reply makes: the service as written, or its removal. */
export function replyPatch(reply: { service: ServedService } | { removed: ServiceKey; at: number }): TablePatch {
  return 'service' in reply
    ? { at: reply.service.readAt.config, services: [reply.service], removed: [] }
    : { at: reply.at, services: [], removed: [reply.removed] };
}
