/** sync.*: IPVS connection synchronisation daemons (ipvsadm --start-daemon). */
import { router, viewerProcedure } from '../trpc';

export const syncRouter = router({
  list: viewerProcedure.query(({ ctx }) => ctx.backend.listDaemons()),
});
