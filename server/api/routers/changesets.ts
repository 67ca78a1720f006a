/** changesets.*: the director's draft of staged edits, its diff and verdict, and applying it as one change (server/changeset). */
import { z } from 'zod';
import { tracked } from '@trpc/server';
import { restoreProgressInput } from '@/lib/schemas/api';
import * as cs from '../../changeset/changesets';
import { canaryOptionsSchema, canaryStatus, stopCanary } from '../../changeset/canary';
import { followRestore } from '../../table/snapshot-ops';
import { operatorProcedure, router, viewerProcedure } from '../trpc';

/** What the console knows of the fleet: the VIPs other directors serve, for the verdict's vip-elsewhere rule. */
const othersSchema = z.array(z.object({
  director: z.string().min(1).max(128),
  vips: z.array(z.string().min(1).max(64)).max(4096),
}).strict()).max(64).nullable().default(null);

const progressIdSchema = restoreProgressInput.shape.progressId;

export const changesetsRouter = router({
  /** The draft with its diff against the live table and the verdict. */
  get: viewerProcedure.input(z.object({ others: othersSchema }).strict().default({ others: null }))
    .query(({ ctx, input }) => cs.preview(ctx, input.others)),
  /** Stage one edit (the same shapes as services.* and destinations.*), checked against the live table with the draft's other edits. */
  stage: operatorProcedure.input(z.object({ edit: z.unknown() }).strict()).mutation(({ ctx, input }) => cs.stage(ctx, input.edit)),
  unstage: operatorProcedure.input(z.object({ id: z.number().int().positive().max(Number.MAX_SAFE_INTEGER) }).strict())
    .mutation(({ ctx, input }) => cs.unstage(ctx, input.id)),
  discard: operatorProcedure.mutation(({ ctx }) => cs.discard(ctx)),
  // "apply" is reserved by tRPC routers (Function.prototype.apply on callers)
  commit: operatorProcedure.input(z.object({
    rev: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
    acknowledge: z.boolean().default(false),
    progressId: progressIdSchema.optional(),
    canary: canaryOptionsSchema.optional(),
    others: othersSchema,
  }).strict()).mutation(({ ctx, input }) => cs.applyDraft(ctx, {
    rev: input.rev, acknowledge: input.acknowledge, others: input.others,
    ...(input.progressId ? { progressId: input.progressId } : {}), ...(input.canary ? { canary: input.canary } : {}),
  })),
  /** Operations done / total of the apply started with the same progressId; subscribe before calling commit. */
  onProgress: operatorProcedure.input(restoreProgressInput).subscription(async function* ({ input, signal }) {
    let seq = 0;
    for await (const p of followRestore(input.progressId, signal)) yield tracked(String(++seq), p);
  }),
  /** The canary of the last change set applied with one. */
  canary: viewerProcedure.query(({ ctx }) => canaryStatus(ctx.backend)),
  stopCanary: operatorProcedure.mutation(({ ctx }) => stopCanary(ctx.backend, `stopped by ${ctx.auth.actor ?? ctx.auth.tokenName}`)),
});
