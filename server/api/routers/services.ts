/** services.*: the virtual services, as the hub serves them, changed through the one writer (server/table/ops.ts). */
import type { ServedService } from '@/lib/agent/events';
import type { CompactTable } from '@/lib/agent/table-compact';
import { summarizeTable, tableVips, type TableSummary } from '@/lib/agent/table-summary';
import { serviceCreateInput, serviceGetInput, serviceListInput, serviceRefInput, serviceUpdateInput } from '@/lib/schemas/api';
import * as ops from '../../table/ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

export const servicesRouter = router({
  /** The table as the hub last read it (each service says when: readAt); see serviceListInput for fresher reads. */
  list: viewerProcedure.input(serviceListInput).query(({ ctx, input }): Promise<ServedService[]> => ctx.hub.table(input)),
  /**
   * list in compact form (lib/agent/table-compact.ts, decodeCompactTable gives back list's objects): for a
   * client that reads a large table whole. Encoded once per sample and served to every caller until the next.
   */
  listCompact: viewerProcedure.input(serviceListInput).query(({ ctx, input }): Promise<CompactTable> => ctx.hub.compactTable(input)),
  /** The table in a few numbers (the fleet page's row): a few hundred bytes whatever the table's size. */
  summary: viewerProcedure.query(async ({ ctx }): Promise<TableSummary> => summarizeTable(await ctx.hub.table({ maxAgeMs: ctx.hub.tickMs }))),
  /** The VIP addresses this director serves (distinct, sorted, at most 4096): another director's change-set verdict asks. */
  vips: viewerProcedure.query(async ({ ctx }) => tableVips(await ctx.hub.table({ maxAgeMs: ctx.hub.tickMs }))),
  get: viewerProcedure.input(serviceGetInput).query(({ ctx, input }): Promise<ServedService> => ctx.hub.service(input.key, input)),
  create: operatorProcedure
    .input(serviceCreateInput)
    .mutation(({ ctx, input }) => ops.createService(ctx, input.service, input.destinations)),
  update: operatorProcedure
    .input(serviceUpdateInput)
    .mutation(({ ctx, input }) => ops.updateService(ctx, input.key, input.patch)),
  remove: operatorProcedure.input(serviceRefInput).mutation(({ ctx, input }) => ops.removeService(ctx, input.key)),
});
