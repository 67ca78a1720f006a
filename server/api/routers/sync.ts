/** sync.*: IPVS connection synchronisation daemons (ipvsadm --start-daemon). */
import { syncStartInput, syncStopInput } from '@/lib/schemas/api';
import * as settings from '../../table/settings-ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const syncRouter = router({
  list: viewerProcedure.query(({ ctx }) => ctx.backend.listDaemons()),
  /** ipvsadm --start-daemon; undo stops it */
  start: operatorProcedure.input(syncStartInput).mutation(({ ctx, input }) => settings.startDaemon(ctx, input)),
  /** ipvsadm --stop-daemon; undo starts it again as it ran */
  stop: operatorProcedure.input(syncStopInput).mutation(({ ctx, input }) => settings.stopDaemon(ctx, input.state)),
});
