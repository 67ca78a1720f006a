/**
 * `health.*` procedures: per real server state, the transition timeline,
 * check configuration, a dry-run "check now", maintenance, and live
 * transitions. Mounted by the agent's router; the subsystem comes from the
 * context (null when this agent runs without health checks).
 */
import { tracked } from '@trpc/server';
import { z } from 'zod';
import { UnsupportedError } from '@/lib/errors';
import { destinationKeySchema, serviceKeySchema } from '@/lib/schemas/ipvs';
import { checkSchema, healthServiceSchema } from '@/lib/schemas/health';
import type { AgentContext } from '../context';
import { operatorProcedure, router, viewerProcedure } from '../trpc';
import type { HealthService } from '../../health/service';

function need(ctx: AgentContext): HealthService {
  const h = ctx.health;
  if (!h) throw new UnsupportedError('health checks are not running on this agent');
  return h;
}


const serviceFilter = z.object({ service: serviceKeySchema.optional() }).default({});
const destRef = z.object({ service: serviceKeySchema, destination: destinationKeySchema });

export const healthRouter = router({
  list: viewerProcedure.input(serviceFilter).query(({ ctx, input }) => need(ctx).list(input.service)),
  history: viewerProcedure
    .input(z.object({ service: serviceKeySchema.optional(), limit: z.number().int().min(1).max(2000).default(200) }).default({ limit: 200 }))
    .query(({ ctx, input }) => need(ctx).history({ limit: input.limit, ...(input.service ? { service: input.service } : {}) })),
  config: router({
    get: viewerProcedure.input(serviceFilter).query(({ ctx, input }) => need(ctx).getConfig(input.service)),
    set: operatorProcedure.input(z.object({ config: healthServiceSchema })).mutation(({ ctx, input }) => need(ctx).setConfig(input.config)),
    remove: operatorProcedure.input(z.object({ service: serviceKeySchema })).mutation(async ({ ctx, input }) => {
      await need(ctx).removeConfig(input.service);
      return { removed: true };
    }),
  }),
  /** Dry run: runs the configured checks (or the one given) once; nothing in the table changes. */
  checkNow: operatorProcedure
    .input(destRef.extend({ check: checkSchema.optional() }))
    .mutation(({ ctx, input, signal }) => need(ctx).checkNow(
      input.service, input.destination, input.check, signal, `${ctx.auth!.role}:${ctx.auth!.tokenName}`,
    )),
  /** The scripts misc checks may name (the agent's checks folder), each with what would stop it from running. */
  scripts: operatorProcedure.query(({ ctx }) => need(ctx).scripts()),
  maintenance: router({
    set: operatorProcedure
      .input(destRef.extend({ on: z.boolean() }))
      .mutation(({ ctx, input }) => need(ctx).setMaintenance(input.service, input.destination, input.on, {
        role: ctx.auth.role, tokenName: ctx.auth.tokenName, ...(ctx.auth.actor !== undefined ? { actor: ctx.auth.actor } : {}), remote: ctx.remote,
      })),
  }),
  onTransition: viewerProcedure
    .input(z.object({ lastEventId: z.string().regex(/^\d+$/).nullish() }).default({}))
    .subscription(async function* ({ ctx, input, signal }) {
      const after = input.lastEventId ? Number(input.lastEventId) : undefined;
      for await (const e of need(ctx).transitions(signal, after)) yield tracked(String(e.id), e);
    }),
});
