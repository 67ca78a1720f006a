/**
 * The director-wide writes ipvsadm has besides single services: clear the
 * table (-C), start and stop the connection sync daemon. Each runs under the
 * write lock with one journal entry; undo puts back the table a clear removed
 * and the daemon a start or stop changed.
 */
import { IpvsError } from '@/lib/ipvs/errors';
import type { SyncDaemon, SyncDaemonConfig, SyncState } from '@/lib/ipvs/model';
import { readDaemon } from './daemon-state';
import type { JournalObject } from '@/lib/journal/types';
import { destSpecOf, journaled, specOf, write, type WriteCtx } from './ops';

/** ipvsadm -C: every service goes; the entry holds each one, so undo can add them back. */
export function clearTable(ctx: WriteCtx) {
  return write(ctx, async () => {
    const table = await ctx.backend.dump();
    const planned: JournalObject[] = table.map((s) => ({
      kind: 'service', key: s.key, before: { ...specOf(s), destinations: s.destinations.map(destSpecOf) }, after: null,
    }));
    const { entry } = await journaled(ctx, 'table.clear', planned, async () => {
      await ctx.backend.flush();
      return { objects: planned, value: null };
    }, {
      // a flush that failed part way: the services that are gone
      remainsOf: async () => {
        const left = await ctx.backend.dump();
        return planned.filter((o) => o.kind === 'service' && !left.some((s) => JSON.stringify(s.key) === JSON.stringify(o.key)));
      },
    });
    return { removed: planned.length, journalId: entry.id };
  });
}

const planOf = (cfg: SyncDaemonConfig): SyncDaemon => ({
  state: cfg.state, interface: cfg.interface, syncId: cfg.syncId,
  maxLen: cfg.maxLen ?? 0, group: cfg.group ?? '', port: cfg.port ?? 0, ttl: cfg.ttl ?? 0,
});

export function startDaemon(ctx: WriteCtx, cfg: SyncDaemonConfig) {
  return write(ctx, async () => {
    const running = await readDaemon(ctx.backend, cfg.state);
    if (running) {
      throw new IpvsError('daemon_exists', `a ${cfg.state} sync daemon already runs (on ${running.interface}, syncid ${running.syncId}); stop it first`);
    }
    const { value, entry } = await journaled(ctx, 'sync.start', [{ kind: 'daemon', state: cfg.state, before: null, after: planOf(cfg) }], async () => {
      await ctx.backend.startDaemon(cfg);
      const after = await readDaemon(ctx.backend, cfg.state);
      return { objects: [{ kind: 'daemon', state: cfg.state, before: null, after }], value: after };
    }, {
      remainsOf: async () => {
        const now = await readDaemon(ctx.backend, cfg.state);
        return now ? [{ kind: 'daemon', state: cfg.state, before: null, after: now }] : [];
      },
    });
    return { daemon: value, journalId: entry.id };
  });
}

export function stopDaemon(ctx: WriteCtx, state: SyncState) {
  return write(ctx, async () => {
    const before = await readDaemon(ctx.backend, state);
    if (!before) throw new IpvsError('daemon_not_running', `no ${state} sync daemon runs`);
    const planned: JournalObject[] = [{ kind: 'daemon', state, before, after: null }];
    const { entry } = await journaled(ctx, 'sync.stop', planned, async () => {
      await ctx.backend.stopDaemon(state);
      return { objects: planned, value: null };
    });
    return { stopped: before, journalId: entry.id };
  });
}
