/**
 * The agent's API as production agents serve it. The console's client type is
 * `LabAppRouter` (server/lab/app-router.ts): this plus the lab's procedures,
 * which only an agent started by the lab's launcher answers.
 * Reads and subscriptions need a viewer (or operator) token; writes need an operator token.
 */
import os from 'node:os';
import { tracked } from '@trpc/server';
import type { ConnSummaryTick, DrainProgress, ServedService } from '@/lib/agent/events';
import { PERSISTENCE_CAVEAT } from '@/lib/agent/events';
import { UnsupportedError } from '@/lib/errors';
import { IpvsError } from '@/lib/ipvs/errors';
import {
  connectionsListInput, destinationCreateInput, destinationRefInput, destinationUpdateInput, journalListInput,
  serviceCreateInput, serviceGetInput, serviceListInput, serviceRefInput, serviceUpdateInput, snapshotApplyInput, snapshotExportInput,
  snapshotPlanInput, statsTickInput, tickInput, timeoutsSetInput, zeroInput, restoreProgressInput,
} from '@/lib/schemas/api';
import type { AgentContext } from './context';
import * as ops from '../table/ops';
import * as snap from '../table/snapshot-ops';
import { sleep } from './sleep';
import { operatorProcedure, router, viewerProcedure } from './trpc';
import { healthRouter } from './health';
import { haRouter } from './ha';

function needConns(ctx: AgentContext) {
  if (!ctx.conns) {
    throw new UnsupportedError('the connection table reader is not available on this agent');
  }
  return ctx.conns;
}

const servicesRouter = router({
  /** The table as the hub last read it (each service says when: readAt); `fresh` reads every real server now. */
  list: viewerProcedure.input(serviceListInput).query(({ ctx, input }): Promise<ServedService[]> => ctx.hub.table({ fresh: input.fresh })),
  get: viewerProcedure.input(serviceGetInput).query(({ ctx, input }): Promise<ServedService> => ctx.hub.service(input.key, { fresh: input.fresh })),
  create: operatorProcedure
    .input(serviceCreateInput)
    .mutation(({ ctx, input }) => ops.createService(ctx, input.service, input.destinations)),
  update: operatorProcedure
    .input(serviceUpdateInput)
    .mutation(({ ctx, input }) => ops.updateService(ctx, input.key, input.patch)),
  remove: operatorProcedure.input(serviceRefInput).mutation(({ ctx, input }) => ops.removeService(ctx, input.key)),
});

const destinationsRouter = router({
  create: operatorProcedure
    .input(destinationCreateInput)
    .mutation(({ ctx, input }) => ops.createDestination(ctx, input.service, input.destination)),
  update: operatorProcedure
    .input(destinationUpdateInput)
    .mutation(({ ctx, input }) => ops.updateDestination(ctx, input.service, input.destination, input.patch)),
  remove: operatorProcedure
    .input(destinationRefInput)
    .mutation(({ ctx, input }) => ops.removeDestination(ctx, input.service, input.destination)),
  /** Quiesce: weight 0, so no new connections; follow with onDrain. */
  drain: operatorProcedure.input(destinationRefInput).mutation(async ({ ctx, input }) => {
    const r = await ops.updateDestination(ctx, input.service, input.destination, { weight: 0 }, 'destinations.drain');
    return { ...r, caveat: r.service.flags.persistent ? PERSISTENCE_CAVEAT : null };
  }),
  /** Progress of a drain, every tick, until active connections reach 0 (or the destination goes away). */
  onDrain: viewerProcedure.input(destinationRefInput.extend(tickInput.unwrap().shape)).subscription(async function* ({ ctx, input, signal }) {
    let seq = 0;
    while (!signal?.aborted) {
      const svc = await ctx.backend.getService(input.service).catch((e: unknown) => {
        if (e instanceof IpvsError && e.code === 'service_not_found') return null;
        throw e;
      });
      const dest = svc ? await ops.readDestination(ctx.backend, input.service, input.destination) : null;
      const progress: DrainProgress = {
        service: input.service,
        destination: input.destination,
        at: Date.now(),
        weight: dest?.weight ?? 0,
        active: dest?.activeConns ?? 0,
        inactive: dest?.inactiveConns ?? 0,
        persistent: dest?.persistentConns ?? 0,
        done: dest !== null && dest.activeConns === 0,
        gone: dest === null,
        caveat: svc?.flags.persistent ? PERSISTENCE_CAVEAT : null,
      };
      yield tracked(String(++seq), progress);
      if (progress.done || progress.gone) return;
      await sleep(ctx.hub.tickMs, signal);
    }
  }),
});

const statsRouter = router({
  zero: operatorProcedure.input(zeroInput).mutation(({ ctx, input }) => ops.zeroCounters(ctx, input.key)),
  /** Ticks in the compact wire form of lib/agent/tick-wire.ts (decode with TickDecoder). */
  onTick: viewerProcedure.input(statsTickInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, tick } of ctx.hub.stats(signal, input.lastEventId, input.watch)) yield tracked(id, tick);
  }),
});

const timeoutsRouter = router({
  get: viewerProcedure.query(({ ctx }) => ctx.backend.getTimeouts()),
  set: operatorProcedure.input(timeoutsSetInput).mutation(({ ctx, input }) => ops.setTimeouts(ctx, input)),
});

const snapshotRouter = router({
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

const connectionsRouter = router({
  /** One page of the connection table, filtered on the agent (the table can hold millions of entries). */
  list: viewerProcedure.input(connectionsListInput).query(({ ctx, input, signal }) => {
    const conns = needConns(ctx);
    const d = input.destination;
    return conns.list(
      {
        filter: {
          ...(input.service ? { service: input.service } : {}),
          ...(d ? { destination: { address: d.address, port: d.port } } : {}),
          ...(input.state ? { state: input.state } : {}),
          ...(input.client ? { client: input.client } : {}),
          ...(input.protocol ? { protocol: input.protocol } : {}),
        },
        offset: input.cursor,
        limit: input.limit,
      },
      signal,
    );
  }),
  summary: viewerProcedure.query(async ({ ctx }) => (await needConns(ctx).summary(ctx.hub.tickMs)).summary),
  onSummary: viewerProcedure.input(tickInput).subscription(async function* ({ ctx, signal }) {
    const conns = needConns(ctx);
    let seq = 0;
    while (!signal?.aborted) {
      const { at, summary } = await conns.summary(ctx.hub.tickMs);
      const tick: ConnSummaryTick = { seq: ++seq, at, summary };
      yield tracked(String(seq), tick);
      await sleep(ctx.hub.tickMs, signal);
    }
  }),
});

const syncRouter = router({
  list: viewerProcedure.query(({ ctx }) => ctx.backend.listDaemons()),
});

const tableRouter = router({
  onChange: viewerProcedure.input(tickInput).subscription(async function* ({ ctx, input, signal }) {
    for await (const { id, event } of ctx.hub.changes(signal, input.lastEventId)) yield tracked(id, event);
  }),
});

const journalRouter = router({
  list: viewerProcedure.input(journalListInput).query(({ ctx, input }) => ctx.journal.list(input)),
  undo: operatorProcedure.mutation(({ ctx }) => ops.undoLast(ctx)),
});

const authRouter = router({
  whoami: viewerProcedure.query(({ ctx }) => ({ role: ctx.auth.role, tokenName: ctx.auth.tokenName })),
});

export const appRouter = router({
  info: viewerProcedure.query(async ({ ctx }) => ({
    ipvs: await ctx.backend.info(),
    agent: {
      version: ctx.version,
      hostname: os.hostname(),
      startedAt: ctx.startedAt,
      tickMs: ctx.hub.tickMs,
      connections: ctx.conns !== null,
      directorId: ctx.directorId ?? os.hostname(),
    },
  })),
  services: servicesRouter,
  destinations: destinationsRouter,
  stats: statsRouter,
  timeouts: timeoutsRouter,
  snapshot: snapshotRouter,
  connections: connectionsRouter,
  sync: syncRouter,
  table: tableRouter,
  journal: journalRouter,
  auth: authRouter,
  health: healthRouter,
  /** high availability: VRRP state, ZooKeeper lease, fencing, sync daemons */
  ha: haRouter,
  // no lab.*: only the lab's own launcher serves it (server/lab/app-router.ts)
});

export type AppRouter = typeof appRouter;
