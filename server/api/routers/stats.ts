/** stats.*: zeroing counters, and the live rates and connection counts as ticks from the hub (server/live/hub.ts). */
import { tracked } from '@trpc/server';
import { statsTickInput, zeroInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const statsRouter = router({
  zero: operatorProcedure.input(zeroInput).mutation(({ ctx, input }) => ops.zeroCounters(ctx, input.key)),
  /** Ticks in the compact wire form of lib/agent/live-wire.ts (apply with LiveTable): the agent's rates as values. */
  onTick: viewerProcedure.input(statsTickInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, tick } of ctx.hub.stats(signal, input.lastEventId, input.watch)) yield tracked(id, tick);
  }),
});
