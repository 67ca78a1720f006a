/**
 * Kernel writes as the API performs them: read the affected objects, change
 * them under the write lock, read them back, and journal before/after.
 */
import type { ZodError } from 'zod';
import { ConflictError, InputError, NotFoundError, PreconditionError } from '@/lib/errors';
import { IpvsError, isIpvsError } from '@/lib/ipvs/errors';
import {
  type DestinationKey, type DestinationSpec, type DestinationState, type ServiceKey, type ServiceRules,
  type ServiceSpec, type ServiceState, type SyncDaemon, type Timeouts,
} from '@/lib/ipvs/model';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import { sameDestinationKey } from '@/lib/ipvs/ids';
import { destinationSpecOf, sameDestinationConfig, sameServiceConfig, sameServiceRules, serviceSpecOf } from '@/lib/ipvs/config';
import {
  destinationSpecSchema, serviceSpecSchema, type DestinationPatch, type ServicePatch,
} from '@/lib/schemas/api';
import type { ServedService } from '@/lib/agent/events';
import type { Identity } from '@/lib/auth/identity';
import type { Logger } from 'pino';
import type { TableHub } from '../live/hub';
import type { Journal } from './journal';
import type { Mutex } from './mutex';
import type { JournalEntry, JournalObject } from '@/lib/journal/types';
import { readDaemon, restoreDaemon } from './daemon-state';
import { mergeDestinationPatch, mergeServicePatch } from '@/lib/ipvs/patch';

/**
 * What a write needs: the kernel, the journal, the one lock, the hub to tell,
 * a log, and who asks. Narrower than the API's context, so the modules the
 * context holds (slow starts, drain removals) can write without a cycle.
 */
export interface WriteCtx {
  backend: IpvsBackend;
  journal: Journal;
  hub: Pick<TableHub, 'poke'>;
  writeLock: Mutex;
  log: Logger;
  auth: Identity;
  remote: string;
}

export const specOf = serviceSpecOf;
export const destSpecOf = destinationSpecOf;

export async function readService(backend: IpvsBackend, key: ServiceKey): Promise<ServiceRules | null> {
  try {
    const s = await backend.getService(key);
    const dests = await backend.listDestinations(key);
    return { ...specOf(s), destinations: dests.map(destSpecOf) };
  } catch (e) {
    if (isIpvsError(e) && e.code === 'service_not_found') return null;
    throw e;
  }
}

export async function readDestination(
  backend: IpvsBackend, service: ServiceKey, dest: DestinationKey,
): Promise<DestinationState | null> {
  const dests = await backend.listDestinations(service);
  return dests.find((d) => sameDestinationKey(d, dest)) ?? null;
}

/** A service read now, as the API serves it (what a mutation replies with). */
export async function readServed(backend: IpvsBackend, key: ServiceKey): Promise<ServedService> {
  const s = await backend.getService(key);
  const destinations = await backend.listDestinations(key);
  const at = Date.now();
  return { ...s, destinations, readAt: { config: at, stats: at } };
}

function rulesOf(e: ServedService): ServiceRules {
  return { ...specOf(e), destinations: e.destinations.map(destSpecOf) };
}

/** The destination `key` of a service read after a write (it must be there). */
function destinationOf(s: ServedService, key: DestinationKey): DestinationState {
  const d = s.destinations.find((x) => sameDestinationKey(x, key));
  if (!d) throw new IpvsError('destination_not_found', `real server ${formatDestination(key)} is not in virtual service ${formatServiceKey(s.key)}`);
  return d;
}

async function mustReadService(backend: IpvsBackend, key: ServiceKey): Promise<ServiceRules> {
  const s = await readService(backend, key);
  if (!s) throw new IpvsError('service_not_found', `virtual service ${formatServiceKey(key)} does not exist`);
  return s;
}

async function mustReadDestination(backend: IpvsBackend, service: ServiceKey, dest: DestinationKey): Promise<DestinationState> {
  await mustReadService(backend, service);
  const d = await readDestination(backend, service, dest);
  if (!d) {
    throw new IpvsError('destination_not_found', `real server ${formatDestination(dest)} is not in virtual service ${formatServiceKey(service)}`);
  }
  return d;
}

/** Re-root zod issues so they name the field as the caller sent it ("patch.timeout"). */
function prefixed(err: ZodError, prefix: PropertyKey[]): InputError {
  return new InputError(err.issues.map((i) => ({ code: i.code, message: i.message, path: [...prefix, ...i.path] })));
}

function parseWith<T>(schema: { safeParse(v: unknown): { success: true; data: T } | { success: false; error: ZodError } }, v: unknown, prefix: PropertyKey[]): T {
  const r = schema.safeParse(v);
  if (!r.success) throw prefixed(r.error, prefix);
  return r.data;
}

function touchedKeys(objects: readonly JournalObject[]): ServiceKey[] {
  return objects.flatMap((o) => {
    if (o.kind === 'service' || o.kind === 'counters') return o.key ? [o.key] : [];
    return o.kind === 'destination' ? [o.service] : [];
  });
}

/**
 * Runs one change write-ahead: the journal records `planned` (fsynced)
 * before `change` touches the kernel, then what it did. If the journal
 * cannot be written, nothing runs (JournalWriteError). If `change` throws,
 * `remainsOf` reads what it left changed, and that is what the entry records.
 */
export async function journaled<T>(
  ctx: WriteCtx, op: string, planned: JournalObject[],
  change: (journalId: number) => Promise<{ objects: JournalObject[]; value: T }>,
  opts: { undoes?: number; note?: string; remainsOf?: (e: unknown) => Promise<JournalObject[]> } = {},
): Promise<{ value: T; entry: JournalEntry }> {
  const pending = await ctx.journal.begin({
    role: ctx.auth.role, tokenName: ctx.auth.tokenName, ...(ctx.auth.actor !== undefined ? { actor: ctx.auth.actor } : {}), remote: ctx.remote, op,
    ...(opts.undoes !== undefined ? { undoes: opts.undoes } : {}), ...(opts.note !== undefined ? { note: opts.note } : {}),
  }, planned);
  let r: { objects: JournalObject[]; value: T };
  try {
    r = await change(pending.id);
  } catch (e) {
    let remains: JournalObject[] = [];
    try {
      remains = opts.remainsOf ? await opts.remainsOf(e) : [];
    } catch (re) {
      ctx.log.error({ err: re, journal: pending.id, op }, 'cannot read what a failed change left');
    }
    await pending.failed((e as Error)?.message ?? String(e), remains);
    if (remains.length > 0) {
      ctx.log.warn({ journal: pending.id, op, by: ctx.auth.tokenName }, 'a failed change left the table changed');
      ctx.hub.poke(touchedKeys(remains));
    }
    throw e;
  }
  const entry = await pending.done(r.objects);
  ctx.log.info({ journal: entry.id, op, by: ctx.auth.tokenName, actor: ctx.auth.actor, remote: ctx.remote }, 'table changed');
  ctx.hub.poke(touchedKeys(r.objects));
  return { value: r.value, entry };
}

export function write<T>(ctx: WriteCtx, fn: () => Promise<T>): Promise<T> {
  return ctx.writeLock.run(fn);
}

export { mergeDestinationPatch, mergeServicePatch } from '@/lib/ipvs/patch';
export function createService(ctx: WriteCtx, spec: ServiceSpec, dests: DestinationSpec[]) {
  return write(ctx, async () => {
    let created = false;
    const { value: after, entry } = await journaled(ctx, 'services.create',
      [{ kind: 'service', key: spec.key, before: null, after: { ...spec, destinations: dests } }],
      async (journalId) => {
        await ctx.backend.addService(spec);
        created = true;
        try {
          for (const d of dests) await ctx.backend.addDestination(spec.key, d);
        } catch (e) {
          // all or nothing: a service with half its real servers is worse than none
          try {
            await ctx.backend.removeService(spec.key);
            created = false;
          } catch (re) {
            const cause = isIpvsError(e) ? e : new IpvsError('internal', (e as Error)?.message ?? String(e));
            throw new IpvsError(cause.code,
              `service ${formatServiceKey(spec.key)} was created but its real servers failed (${cause.message}) `
              + `and removing it again failed: ${(re as Error)?.message ?? String(re)}; the service remains `
              + `(journal #${journalId}: undo removes it)`, cause.errno, { cause: e });
          }
          throw e;
        }
        const read = await readServed(ctx.backend, spec.key);
        return { objects: [{ kind: 'service', key: spec.key, before: null, after: rulesOf(read) }], value: read };
      },
      {
        // only what this call created: a service that existed before (service_exists) is not ours to record
        remainsOf: async () => {
          if (!created) return [];
          const now = await readService(ctx.backend, spec.key);
          return now ? [{ kind: 'service', key: spec.key, before: null, after: now }] : [];
        },
      });
    return { service: after, journalId: entry.id };
  });
}

export function updateService(ctx: WriteCtx, key: ServiceKey, patch: ServicePatch) {
  return write(ctx, async () => {
    const before = await mustReadService(ctx.backend, key);
    const next = parseWith(serviceSpecSchema, mergeServicePatch(before, patch), ['patch']);
    const { value: after, entry } = await journaled(ctx, 'services.update',
      [{ kind: 'service', key, before, after: { ...next, destinations: before.destinations } }],
      async () => {
        await ctx.backend.updateService(next);
        const read = await readServed(ctx.backend, key);
        return { objects: [{ kind: 'service', key, before, after: rulesOf(read) }], value: read };
      });
    return { service: after, journalId: entry.id };
  });
}

export function removeService(ctx: WriteCtx, key: ServiceKey) {
  return write(ctx, async () => {
    const before = await mustReadService(ctx.backend, key);
    const planned: JournalObject[] = [{ kind: 'service', key, before, after: null }];
    const { entry } = await journaled(ctx, 'services.remove', planned, async () => {
      await ctx.backend.removeService(key);
      return { objects: planned, value: null };
    });
    return { removed: before, journalId: entry.id };
  });
}

export function createDestination(ctx: WriteCtx, service: ServiceKey, dest: DestinationSpec) {
  return write(ctx, async () => {
    const { value: after, entry } = await journaled(ctx, 'destinations.create',
      [{ kind: 'destination', service, before: null, after: dest }],
      async () => {
        await ctx.backend.addDestination(service, dest);
        const read = await readServed(ctx.backend, service);
        return { objects: [{ kind: 'destination', service, before: null, after: destSpecOf(destinationOf(read, dest)) }], value: read };
      });
    return { destination: destinationOf(after, dest), service: after, journalId: entry.id };
  });
}

/**
 * `opts.unless` is asked under the write lock with what the kernel has: a
 * reason refuses the write (PreconditionError) before anything is journaled,
 * so a writer acting on an earlier read (a ramp step) cannot undo a write
 * that came in between.
 */
export function updateDestination(
  ctx: WriteCtx, service: ServiceKey, key: DestinationKey, patch: DestinationPatch, op = 'destinations.update',
  opts: { unless?: (before: DestinationSpec) => string | null } = {},
) {
  return write(ctx, async () => {
    const before = destSpecOf(await mustReadDestination(ctx.backend, service, key));
    const refused = opts.unless?.(before) ?? null;
    if (refused !== null) throw new PreconditionError(refused);
    const next = parseWith(destinationSpecSchema, mergeDestinationPatch(before, patch), ['patch']);
    const { value: after, entry } = await journaled(ctx, op, [{ kind: 'destination', service, before, after: next }], async () => {
      await ctx.backend.updateDestination(service, next);
      const read = await readServed(ctx.backend, service);
      return { objects: [{ kind: 'destination', service, before, after: destSpecOf(destinationOf(read, key)) }], value: read };
    });
    return { destination: destinationOf(after, key), service: after, journalId: entry.id };
  });
}

/** `opts.unless`: as for updateDestination, asked under the lock with what the kernel has (counters too). */
export function removeDestination(
  ctx: WriteCtx, service: ServiceKey, key: DestinationKey, opts: { unless?: (now: DestinationState) => string | null } = {},
) {
  return write(ctx, async () => {
    const now = await mustReadDestination(ctx.backend, service, key);
    const refused = opts.unless?.(now) ?? null;
    if (refused !== null) throw new PreconditionError(refused);
    const before = destSpecOf(now);
    const planned: JournalObject[] = [{ kind: 'destination', service, before, after: null }];
    const { entry } = await journaled(ctx, 'destinations.remove', planned, async () => {
      await ctx.backend.removeDestination(service, key);
      return { objects: planned, value: null };
    });
    // the service as left (null: another tool removed it meanwhile; the write itself is done and journaled)
    const after = await readServed(ctx.backend, service).catch((e: unknown) => {
      if (isIpvsError(e) && e.code === 'service_not_found') return null;
      throw e;
    });
    return { removed: before, service: after, journalId: entry.id };
  });
}

export function zeroCounters(ctx: WriteCtx, key: ServiceKey | undefined) {
  return write(ctx, async () => {
    const planned: JournalObject[] = [{ kind: 'counters', key: key ?? null }];
    const { entry } = await journaled(ctx, 'stats.zero', planned, async () => {
      await ctx.backend.zero(key);
      return { objects: planned, value: null };
    });
    return { journalId: entry.id };
  });
}

export function setTimeouts(ctx: WriteCtx, t: Partial<Timeouts>) {
  return write(ctx, async () => {
    const before = await ctx.backend.getTimeouts();
    const { value: after, entry } = await journaled(ctx, 'timeouts.set', [{ kind: 'timeouts', before, after: { ...before, ...t } }], async () => {
      await ctx.backend.setTimeouts(t);
      const read = await ctx.backend.getTimeouts();
      return { objects: [{ kind: 'timeouts', before, after: read }], value: read };
    });
    return { timeouts: after, journalId: entry.id };
  });
}

/** What currentOf read is what the journal says the change left (lib/ipvs/config's same configuration). */
function sameAsLeft(o: Exclude<JournalObject, { kind: 'counters' | 'timeouts' }>, cur: unknown): boolean {
  if (o.kind === 'service') return sameServiceRules(cur as ServiceRules | null, o.after);
  if (o.kind === 'daemon') return JSON.stringify(cur) === JSON.stringify(o.after);
  const d = cur as DestinationSpec | null;
  return d === null || o.after === null ? d === o.after : sameDestinationConfig(d, o.after);
}

/** Bring one object from `from` to `to` (either may be null = absent). */
export async function restoreService(backend: IpvsBackend, key: ServiceKey, to: ServiceRules | null): Promise<void> {
  const cur = await readService(backend, key);
  if (to === null) {
    if (cur) await backend.removeService(key);
    return;
  }
  const { destinations, ...spec } = to;
  if (!cur) {
    await backend.addService(spec);
  } else if (!sameServiceConfig(cur, spec)) {
    await backend.updateService(spec);
  }
  const have = cur?.destinations ?? [];
  for (const d of have) {
    if (!destinations.some((w) => sameDestinationKey(w, d))) await backend.removeDestination(key, d);
  }
  for (const d of destinations) {
    const h = have.find((x) => sameDestinationKey(x, d));
    if (!h) await backend.addDestination(key, d);
    else if (!sameDestinationConfig(h, d)) await backend.updateDestination(key, d);
  }
}

async function restoreDestination(backend: IpvsBackend, service: ServiceKey, key: DestinationKey, to: DestinationSpec | null): Promise<void> {
  const cur = await readDestination(backend, service, key);
  if (to === null) {
    if (cur) await backend.removeDestination(service, key);
  } else if (!cur) {
    await backend.addDestination(service, to);
  } else if (!sameDestinationConfig(cur, to)) {
    await backend.updateDestination(service, to);
  }
}

async function currentOf(backend: IpvsBackend, o: JournalObject): Promise<unknown> {
  switch (o.kind) {
    case 'service':
      return readService(backend, o.key);
    case 'destination': {
      const d = await readDestination(backend, o.service, (o.after ?? o.before)!);
      return d ? destSpecOf(d) : null;
    }
    case 'timeouts':
      return backend.getTimeouts();
    case 'counters':
      return null;
    case 'daemon':
      return readDaemon(backend, o.state);
  }
}

/** What became of an object since a change left it, for an undo's conflict. */
function changedSince(o: Extract<JournalObject, { kind: 'service' | 'destination' }>, cur: unknown): string {
  const what = o.kind === 'service' ? `service ${formatServiceKey(o.key)}` : `real server ${formatDestination((o.after ?? o.before)!)} of ${formatServiceKey(o.service)}`;
  if (o.after === null) return `${what} was removed by this change and exists again now`;
  if (cur === null) return `${what} was removed since`;
  return `${what} was changed since (by a later change or outside Director); undo that first, or restore a snapshot`;
}

/**
 * Revert the most recent change not yet undone. Refuses (CONFLICT) when the
 * objects no longer look as that change left them, e.g. because ipvsadm or
 * keepalived changed them since: undoing then would destroy someone's work.
 */
export function undoLast(ctx: WriteCtx) {
  return undo(ctx);
}

/**
 * Revert change `id` (the most recent undoable one when absent), whatever
 * came after it, as long as every object it touched is still as it left
 * them; otherwise the conflict names the object and what it is now.
 */
export function undo(ctx: WriteCtx, id?: number, as: { op?: string; note?: string } = {}) {
  return write(ctx, async () => {
    let target: JournalEntry | null;
    if (id === undefined) {
      target = ctx.journal.lastUndoable();
      if (!target) throw new NotFoundError('nothing to undo');
    } else {
      const u = ctx.journal.undoableEntry(id);
      if (!u.entry) throw new NotFoundError(u.why!);
      if (u.why) throw new PreconditionError(`cannot undo: ${u.why}`);
      target = u.entry;
    }
    const objects = target.objects.filter((o): o is Exclude<JournalObject, { kind: 'counters' }> => o.kind !== 'counters');
    for (const o of objects) {
      if (o.kind === 'timeouts') continue; // timeouts are global knobs; restoring them is always meaningful
      const cur = await currentOf(ctx.backend, o);
      if (!sameAsLeft(o, cur)) {
        throw new ConflictError(`cannot undo change #${target.id} (${target.op}): ${o.kind === 'daemon' ? `the ${o.state} sync daemon changed since` : changedSince(o, cur)}`);
      }
    }
    if (target.summary !== undefined && target.objects.length === 0) {
      throw new PreconditionError(`cannot undo change #${target.id} (${target.op}): ${target.summary}; restore a saved snapshot instead`);
    }
    const planned: JournalObject[] = [...objects].reverse().map((o) => ({ ...o, before: o.after, after: o.before }) as JournalObject);
    const { value: inverse, entry } = await journaled(ctx, as.op ?? 'journal.undo', planned, async () => {
      const inverse: JournalObject[] = [];
      for (const o of [...objects].reverse()) {
        switch (o.kind) {
          case 'service':
            await restoreService(ctx.backend, o.key, o.before);
            inverse.push({ kind: 'service', key: o.key, before: o.after, after: await readService(ctx.backend, o.key) });
            break;
          case 'destination': {
            const key = (o.before ?? o.after)!;
            await restoreDestination(ctx.backend, o.service, key, o.before);
            const d = await readDestination(ctx.backend, o.service, key);
            inverse.push({ kind: 'destination', service: o.service, before: o.after, after: d ? destSpecOf(d) : null });
            break;
          }
          case 'timeouts': {
            const now = await ctx.backend.getTimeouts();
            await ctx.backend.setTimeouts(o.before);
            inverse.push({ kind: 'timeouts', before: now, after: await ctx.backend.getTimeouts() });
            break;
          }
          case 'daemon':
            await restoreDaemon(ctx.backend, o.state, o.before);
            inverse.push({ kind: 'daemon', state: o.state, before: o.after, after: await readDaemon(ctx.backend, o.state) });
            break;
        }
      }
      return { objects: inverse, value: inverse };
    }, {
      undoes: target.id, ...(as.note !== undefined ? { note: as.note } : {}),
      // an undo that failed part way: every object no longer as the change left it
      remainsOf: async () => {
        const out: JournalObject[] = [];
        for (const o of objects) {
          if (o.kind === 'timeouts') continue;
          const cur = await currentOf(ctx.backend, o);
          if (sameAsLeft(o, cur)) continue;
          if (o.kind === 'service') out.push({ kind: 'service', key: o.key, before: o.after, after: cur as ServiceRules | null });
          else if (o.kind === 'daemon') out.push({ kind: 'daemon', state: o.state, before: o.after, after: cur as SyncDaemon | null });
          else out.push({ kind: 'destination', service: o.service, before: o.after, after: cur as DestinationSpec | null });
        }
        return out;
      },
    });
    void inverse;
    return { undone: target, entry };
  });
}
