/** snapshot.*: export the table, plan a restore, restore it (server/table/snapshot-ops.ts). */
import { tracked } from '@trpc/server';
import { snapshotApplyInput, snapshotExportInput, snapshotPlanInput, restoreProgressInput } from '@/lib/schemas/api';
import * as snap from '../../table/snapshot-ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const snapshotRouter = router({
  export: viewerProcedure.input(snapshotExportInput).query(({ ctx, input }) => snap.exportSnapshot(ctx, input.format, { thresholds: input.thresholds })),
  /** What a restore would do, without doing it. */
  plan: viewerProcedure.input(snapshotPlanInput).query(({ ctx, input }) => snap.planSnapshot(ctx, input.format, input.text, input.prune)),
  // "apply" is reserved by tRPC routers (Function.prototype.apply on callers); "restore" as in ipvsadm -R
  restore: operatorProcedure.input(snapshotApplyInput)
    .mutation(({ ctx, input }) => snap.restoreSnapshot(ctx, input.format, input.text, input.prune, input.progressId)),
  /** Operations done / total of the restore started with the same progressId; subscribe before calling restore. */
  onRestoreProgress: operatorProcedure.input(restoreProgressInput).subscription(async function* ({ input, signal }) {
    let seq = 0;
    for await (const p of snap.followRestore(input.progressId, signal)) yield tracked(String(++seq), p);
  }),
});
