/**
 * `ha.*`: this director's high-availability status and the operator's two
 * actions. Status is per director; the console asks each director it knows.
 */
import { tracked } from '@trpc/server';
import { PreconditionError } from '@/lib/errors';
import { haConfirmReplicatedInput, haGroupInput, haMaintenanceInput, type HaStatus } from '@/lib/schemas/ha';
import type { AgentContext } from '../context';
import { sleep } from '@/lib/sleep';
import { operatorProcedure, router, viewerProcedure } from '../trpc';
import { disabledHa, type HaService } from '../../ha/service';
import type { Rehearsals } from '../../ha/rehearsal';

/** Status pushes are at most this frequent, however busy the transitions. */
export const STATUS_MIN_INTERVAL_MS = 250;
/** A status is sent at least this often, so a client sees the agent is alive. */
export const STATUS_HEARTBEAT_MS = 5000;

function haOf(ctx: AgentContext): HaService {
  return ctx.ha ?? disabledHa(ctx.directorId ?? 'director');
}

function rehearsalsOf(ctx: AgentContext): Rehearsals {
  if (!ctx.rehearsals) throw new PreconditionError(`high availability is not configured on ${ctx.directorId ?? 'this director'}: nothing to rehearse`);
  return ctx.rehearsals;
}

export const haRouter = router({
  status: viewerProcedure.query(({ ctx }): HaStatus => haOf(ctx).status()),
  onStatus: viewerProcedure.subscription(async function* ({ ctx, signal }) {
    const ha = haOf(ctx);
    let seq = 0;
    while (!signal?.aborted) {
      yield tracked(String(++seq), ha.status());
      await sleep(STATUS_MIN_INTERVAL_MS, signal);
      const beat = new AbortController();
      const stop = () => beat.abort();
      signal?.addEventListener('abort', stop, { once: true });
      await Promise.race([ha.changed(beat.signal), sleep(STATUS_HEARTBEAT_MS - STATUS_MIN_INTERVAL_MS, beat.signal)]);
      beat.abort();
      signal?.removeEventListener('abort', stop);
    }
  }),
  handover: operatorProcedure.input(haGroupInput)
    .mutation(({ ctx, input }) => haOf(ctx).handover(input.group, ctx.auth.tokenName)),
  maintenance: operatorProcedure.input(haMaintenanceInput)
    .mutation(({ ctx, input }) => haOf(ctx).maintenance(input.on, ctx.auth.tokenName)),
  /** apply a replicated change that was held because it removes too many services (the status shows its `seq`) */
  confirmReplicated: operatorProcedure.input(haConfirmReplicatedInput)
    .mutation(({ ctx, input }) => haOf(ctx).confirmReplicated(input.seq, ctx.auth.tokenName)),
  /** failover drill from this director (it must hold the group's lease): pre-flight, handover, figures; returns the report */
  rehearse: operatorProcedure.input(haGroupInput)
    .mutation(({ ctx, input }) => rehearsalsOf(ctx).run(input.group, ctx.auth.tokenName)),
  /** the drill under way (its steps) and the kept reports, newest first */
  rehearsals: viewerProcedure.query(({ ctx }) => ctx.rehearsals?.list() ?? { running: null, history: [] }),
  /** directors registered in ZooKeeper, waiting for a console's admin to approve them; operator only: the entries carry enrollment codes */
  registry: operatorProcedure.query(({ ctx }) => {
    const ha = haOf(ctx);
    if (!ha.registry) throw new PreconditionError(`high availability is not configured on ${ctx.directorId ?? 'this director'}: no ZooKeeper registry to read`);
    return ha.registry();
  }),
});
