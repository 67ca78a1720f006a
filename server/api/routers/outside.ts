/** outside.*: changes made to the table by other tools (ipvsadm, keepalived), and adopting or reverting them. */
import { z } from 'zod';
import { PreconditionError } from '@/lib/errors';
import type { AgentContext } from '../context';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

const idInput = z.object({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) });

function watchOf(ctx: AgentContext) {
  if (!ctx.outside) throw new PreconditionError('this agent does not watch for outside changes');
  return ctx.outside;
}

export const outsideRouter = router({
  /** The outside changes now; the table is read first when the last reading is older than a tick. */
  list: viewerProcedure.query(async ({ ctx }) => {
    const w = watchOf(ctx);
    // a reading failure is the table's to report (services.list); the list says when it last compared
    await ctx.hub.table({ maxAgeMs: ctx.hub.tickMs }).catch(() => undefined);
    return w.status();
  }),
  /** Take outside change `id` as Director's own (journaled as "outside (adopted by <user>)"). */
  adopt: operatorProcedure.input(idInput).mutation(({ ctx, input }) => watchOf(ctx).adopt(ctx, input.id)),
  /** Put back what Director last wrote for the service of outside change `id` (journaled). */
  revert: operatorProcedure.input(idInput).mutation(({ ctx, input }) => watchOf(ctx).revert(ctx, input.id)),
});
