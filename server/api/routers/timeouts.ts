/** timeouts.*: IPVS's global TCP, TCP FIN and UDP timeouts (ipvsadm --set). */
import { timeoutsSetInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const timeoutsRouter = router({
  get: viewerProcedure.query(({ ctx }) => ctx.backend.getTimeouts()),
  set: operatorProcedure.input(timeoutsSetInput).mutation(({ ctx, input }) => ops.setTimeouts(ctx, input)),
});
