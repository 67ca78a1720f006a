/** table.*: what changed in the table, whoever changed it (the hub's change feed); clearing it (ipvsadm -C). */
import { tracked } from '@trpc/server';
import { tickInput } from '@/lib/schemas/api';
import * as settings from '../../table/settings-ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const tableRouter = router({
  /** ipvsadm -C: remove every service; undo puts the table back */
  clear: operatorProcedure.mutation(({ ctx }) => settings.clearTable(ctx)),
  onChange: viewerProcedure.input(tickInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, event } of ctx.hub.changes(signal, input.lastEventId)) yield tracked(id, event);
  }),
});
