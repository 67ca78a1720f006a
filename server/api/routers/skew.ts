/** skew.*: services whose hashing scheduler spreads new connections away from the weights (server/live/skew.ts). */
import type { SkewAlarm } from '@/lib/live/hash-skew';
import { router, viewerProcedure } from '../trpc';

export const skewRouter = router({
  list: viewerProcedure.query(({ ctx }): SkewAlarm[] => ctx.skew?.alarms() ?? []),
});
