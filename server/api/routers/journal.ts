/** journal.*: the record of every change made through the agent, and undo of the last one. */
import { journalListInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const journalRouter = router({
  list: viewerProcedure.input(journalListInput).query(({ ctx, input }) => ctx.journal.list(input)),
  undo: operatorProcedure.mutation(({ ctx }) => ops.undoLast(ctx)),
});
