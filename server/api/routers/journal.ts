/** journal.*: the record of every change made through the agent, and undo of any one whose objects are as it left them. */
import { z } from 'zod';
import { journalListInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const journalRouter = router({
  list: viewerProcedure.input(journalListInput).query(({ ctx, input }) => ctx.journal.list(input)),
  /** The newest change that can be undone (no input: a bare POST works, as it always did). */
  undo: operatorProcedure.mutation(({ ctx }) => ops.undo(ctx)),
  /** Change `id`, whatever came after it, while what it touched is as it left it. */
  undoEntry: operatorProcedure.input(z.object({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }))
    .mutation(({ ctx, input }) => ops.undo(ctx, input.id)),
});
