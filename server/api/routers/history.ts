/** history.*: the agent's rate history (server/live/history.ts), so a page's charts are full when it opens. */
import { z } from 'zod';
import { readOverview, readService } from '@/lib/history/read';
import { router, viewerProcedure } from '../trpc';

const range = z.enum(['15m', '1h', '24h']);

export const historyRouter = router({
  /** One service and up to 64 of its real servers: every tick for 15 minutes, per minute beyond. */
  get: viewerProcedure
    .input(z.object({ service: z.string().min(1).max(128), range: range.default('15m') }))
    .query(({ ctx, input }) => (ctx.history ? readService(ctx.history.store, input.service, input.range, Date.now()) : null)),
  /** Every service's new connections/s, packets/s and bytes/s over the range in at most 60 points, for sparklines. */
  overview: viewerProcedure
    .input(z.object({ range: range.default('15m') }))
    .query(({ ctx, input }) => (ctx.history ? readOverview(ctx.history.store, input.range, Date.now()) : null)),
});
