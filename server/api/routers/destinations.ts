/** destinations.*: the real servers of a service; drain is weight 0 followed by onDrain's progress. */
import { tracked } from '@trpc/server';
import type { DrainProgress, ServedService } from '@/lib/agent/events';
import { serviceId } from '@/lib/ipvs/ids';
import { PERSISTENCE_CAVEAT } from '@/lib/agent/events';
import { IpvsError } from '@/lib/ipvs/errors';
import { destinationCreateInput, destinationRefInput, destinationUpdateInput, drainInput, drainManyInput, slowStartInput, tickInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { sleep } from '@/lib/sleep';
import { drainRemains, type DrainRemains } from '@/lib/conn/drain';
import { MAX_PAGE_SIZE } from '@/lib/conn/summary';
import { PreconditionError, UnsupportedError } from '@/lib/errors';
import type { DestinationKey } from '@/lib/ipvs/model';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import type { ConnSource } from '../../live/conn-source';
import type { SlowStarts } from '../../table/slow-start';
import type { DrainRemovals } from '../../table/drain-removals';
import type { AgentContext } from '../context';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const destinationsRouter = router({
  /** With slowStartSec, the server is added at weight 1 and climbs to its weight in steps (destinations.slowStarts). */
  create: operatorProcedure
    .input(destinationCreateInput)
    .mutation(async ({ ctx, input }) => {
      const target = input.destination.weight;
      const ramps = input.slowStartSec !== undefined && target > 1 ? slowStarts(ctx) : null;
      const r = await ops.createDestination(ctx, input.service, ramps ? { ...input.destination, weight: 1 } : input.destination);
      const slowStart = ramps ? ramps.start(ctx, input.service, input.destination, target, input.slowStartSec!, ctx.auth.actor ?? ctx.auth.tokenName) : null;
      return { ...r, slowStart };
    }),
  /** An existing server to weight 1 now (journaled), then up to `weight` over `seconds`. */
  slowStart: operatorProcedure.input(slowStartInput).mutation(async ({ ctx, input }) => {
    const ramps = slowStarts(ctx);
    const r = await ops.updateDestination(ctx, input.service, input.destination, { weight: 1 }, 'destinations.slowStart');
    return { ...r, slowStart: ramps.start(ctx, input.service, input.destination, input.weight, input.seconds, ctx.auth.actor ?? ctx.auth.tokenName) };
  }),
  /** Slow starts under way: each server's weight now, its target, and when it gets there. */
  slowStarts: viewerProcedure.query(({ ctx }) => ctx.slowStarts?.list() ?? []),
  /** Ends a slow start where it stands: the weight it reached stays. */
  stopSlowStart: operatorProcedure.input(destinationRefInput).mutation(({ ctx, input }) => {
    if (!slowStarts(ctx).stop(input.service, input.destination)) throw new PreconditionError('no slow start runs for this real server');
    return { stopped: true };
  }),
  update: operatorProcedure
    .input(destinationUpdateInput)
    .mutation(({ ctx, input }) => ops.updateDestination(ctx, input.service, input.destination, input.patch)),
  remove: operatorProcedure
    .input(destinationRefInput)
    .mutation(({ ctx, input }) => ops.removeDestination(ctx, input.service, input.destination)),
  /** Quiesce: weight 0, so no new connections; follow with onDrain. */
  drain: operatorProcedure.input(drainInput).mutation(async ({ ctx, input }) => {
    const removals = input.removeWhenDrained ? drainRemovals(ctx) : null;
    const r = await ops.updateDestination(ctx, input.service, input.destination, { weight: 0 }, 'destinations.drain');
    const removal = removals ? removals.watch(ctx, input.service, input.destination, ctx.auth.actor ?? ctx.auth.tokenName) : null;
    return { ...r, caveat: r.service.flags.persistent ? PERSISTENCE_CAVEAT : null, removal };
  }),
  /** Drains a set of real servers (a rack): every one is read first, so a name that does not exist changes nothing. */
  drainMany: operatorProcedure.input(drainManyInput).mutation(async ({ ctx, input }) => {
    const removals = input.removeWhenDrained ? drainRemovals(ctx) : null;
    for (const [i, it] of input.items.entries()) {
      if (!(await ops.readDestination(ctx.backend, it.service, it.destination))) {
        throw new PreconditionError(`items.${i}: ${formatDestination(it.destination)} is not a real server of ${formatServiceKey(it.service)}; nothing was drained`);
      }
    }
    const drained = [];
    // each service as the last write left it, so the console patches its table without reading it again
    const services = new Map<string, ServedService>();
    for (const it of input.items) {
      const r = await ops.updateDestination(ctx, it.service, it.destination, { weight: 0 }, 'destinations.drain');
      if (removals) removals.watch(ctx, it.service, it.destination, ctx.auth.actor ?? ctx.auth.tokenName);
      drained.push({ service: it.service, destination: r.destination, journalId: r.journalId });
      services.set(serviceId(it.service), r.service);
    }
    return { drained, services: [...services.values()], removeWhenDrained: removals !== null };
  }),
  /** Drained servers waiting to be removed once empty. */
  pendingRemovals: viewerProcedure.query(({ ctx }) => ctx.drainRemovals?.list() ?? []),
  /** Keep a drained server after all: it stays at weight 0. */
  cancelRemoval: operatorProcedure.input(destinationRefInput).mutation(({ ctx, input }) => {
    if (!drainRemovals(ctx).cancel(input.service, input.destination)) throw new PreconditionError('no removal is waiting for this real server');
    return { cancelled: true };
  }),
  /** Back to the weight it had before its drain (journaled); refused when it was changed since or not drained. */
  restore: operatorProcedure.input(destinationRefInput).mutation(async ({ ctx, input }) => {
    const weight = ctx.journal.weightBeforeDrain(input.service, input.destination);
    if (weight === null) throw new PreconditionError('no drain to restore: this real server was not drained through Director, or was changed since; set its weight with Edit');
    return ops.updateDestination(ctx, input.service, input.destination, { weight }, 'destinations.restore');
  }),
  /**
   * Progress of a drain, every tick, until its connections and the persistence
   * templates pointing at it are gone (or the destination goes away).
   */
  onDrain: viewerProcedure.input(destinationRefInput.extend(tickInput.unwrap().shape)).subscription(async function* ({ ctx, input, signal }) {
    let seq = 0;
    while (!signal?.aborted) {
      const svc = await ctx.backend.getService(input.service).catch((e: unknown) => {
        if (e instanceof IpvsError && e.code === 'service_not_found') return null;
        throw e;
      });
      const dest = svc ? await ops.readDestination(ctx.backend, input.service, input.destination) : null;
      const remains = dest && ctx.conns ? await readRemains(ctx.conns, input.destination, signal) : null;
      const progress: DrainProgress = {
        service: input.service,
        destination: input.destination,
        at: Date.now(),
        weight: dest?.weight ?? 0,
        active: dest?.activeConns ?? 0,
        inactive: dest?.inactiveConns ?? 0,
        persistent: dest?.persistentConns ?? 0,
        remains,
        done: dest !== null && dest.activeConns === 0 && dest.inactiveConns === 0 && dest.persistentConns === 0,
        activeDone: dest !== null && dest.activeConns === 0,
        gone: dest === null,
        caveat: svc?.flags.persistent ? PERSISTENCE_CAVEAT : null,
        restoreWeight: dest ? ctx.journal.weightBeforeDrain(input.service, input.destination) : null,
      };
      yield tracked(String(++seq), progress);
      if (progress.done || progress.gone) return;
      await sleep(ctx.hub.tickMs, signal);
    }
  }),
});

/** The connection table's entries for the server, one page of them; a table that cannot be read gives no remains. */
async function readRemains(conns: ConnSource, d: DestinationKey, signal?: AbortSignal): Promise<DrainRemains | null> {
  try {
    const page = await conns.list({ filter: { destination: { address: d.address } }, limit: MAX_PAGE_SIZE }, signal);
    return drainRemains(page.entries, d.port, page.total, page.readAt ? Math.max(0, (Date.now() - page.readAt) / 1000) : 0);
  } catch {
    return null;
  }
}

function drainRemovals(ctx: AgentContext): DrainRemovals {
  if (!ctx.drainRemovals) throw new UnsupportedError('remove-when-drained is not available on this agent');
  return ctx.drainRemovals;
}

function slowStarts(ctx: AgentContext): SlowStarts {
  if (!ctx.slowStarts) throw new UnsupportedError('slow start is not available on this agent');
  return ctx.slowStarts;
}
