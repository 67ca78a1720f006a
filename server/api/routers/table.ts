/** table.*: what changed in the table, whoever changed it (the hub's change feed). */
import { tracked } from '@trpc/server';
import { tickInput } from '@/lib/schemas/api';
import { router, viewerProcedure } from '../trpc';

export const tableRouter = router({
  onChange: viewerProcedure.input(tickInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, event } of ctx.hub.changes(signal, input.lastEventId)) yield tracked(id, event);
  }),
});
