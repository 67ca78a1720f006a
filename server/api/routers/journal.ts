/** journal.*: the record of every change made through the agent, and undo of any one whose objects are as it left them. */
import { z } from 'zod';
import { journalListInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const journalRouter = router({
  list: viewerProcedure.input(journalListInput).query(({ ctx, input }) => ctx.journal.list(input)),
  /** Without an id: the newest change that can be undone. */
  undo: operatorProcedure.input(z.object({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).optional())
    .mutation(({ ctx, input }) => ops.undo(ctx, input?.id)),
});
