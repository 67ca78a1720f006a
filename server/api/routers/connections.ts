/** connections.*: the kernel's connection table, paged and summarised on the agent (server/live/conn-source.ts). */
import { tracked } from '@trpc/server';
import type { ConnSummaryTick } from '@/lib/agent/events';
import { UnsupportedError } from '@/lib/errors';
import { connectionsLensInput, connectionsListInput, tickInput } from '@/lib/schemas/api';
import type { AgentContext } from '../context';
import { sleep } from '@/lib/sleep';
import { router, viewerProcedure } from '../trpc';

function needConns(ctx: AgentContext) {
  if (!ctx.conns) {
    throw new UnsupportedError('the connection table reader is not available on this agent');
  }
  return ctx.conns;
}
export const connectionsRouter = router({
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
  /** The persistence lens: a client's (or a service's) templates, where each points, time left; per real server, when they expire. */
  lens: viewerProcedure.input(connectionsLensInput).query(({ ctx, input, signal }) => {
    const conns = needConns(ctx);
    if (!conns.lens) throw new UnsupportedError('the persistence lens is not available on this agent');
    return conns.lens({
      filter: { ...(input.service ? { service: input.service } : {}), ...(input.client ? { client: input.client } : {}) },
      limit: input.limit,
    }, signal);
  }),
  summary: viewerProcedure.query(async ({ ctx, signal }) => (await needConns(ctx).summary(ctx.hub.tickMs, signal)).summary),
  onSummary: viewerProcedure.input(tickInput).subscription(async function* ({ ctx, signal }) {
    const conns = needConns(ctx);
    let seq = 0;
    while (!signal?.aborted) {
      // a walk of a large table stops when its last subscriber goes: the subscription just ends
      const walked = await conns.summary(ctx.hub.tickMs, signal).catch((e: unknown) => {
        if (signal?.aborted) return null;
        throw e;
      });
      if (!walked) return;
      const { at, summary } = walked;
      const tick: ConnSummaryTick = { seq: ++seq, at, summary };
      yield tracked(String(seq), tick);
      await sleep(ctx.hub.tickMs, signal);
    }
  }),
});
