/** info: what this agent and its kernel are (version, host, tick, IPVS version). */
import os from 'node:os';
import { viewerProcedure } from '../trpc';

export const info = viewerProcedure.query(async ({ ctx }) => ({
  ipvs: await ctx.backend.info(),
  agent: {
    version: ctx.version,
    hostname: os.hostname(),
    startedAt: ctx.startedAt,
    tickMs: ctx.hub.tickMs,
    connections: ctx.conns !== null,
    directorId: ctx.directorId ?? os.hostname(),
  },
}));
