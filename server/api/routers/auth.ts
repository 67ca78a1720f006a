/** auth.*: what the caller's token is. */
import { router, viewerProcedure } from '../trpc';

export const authRouter = router({
  whoami: viewerProcedure.query(({ ctx }) => ({ role: ctx.auth.role, tokenName: ctx.auth.tokenName })),
});
