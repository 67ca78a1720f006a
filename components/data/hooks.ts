'use client';
/**
 * Hooks that connect a director's pages to its agent (through the console).
 * Pages compose these with the views; no IPVS logic lives in app/.
 */
import { useQuery, useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useParams } from 'next/navigation';
import { useCallback, useMemo, useSyncExternalStore } from 'react';
import { patchServices, type TablePatch } from '@/lib/agent/table-patch';
import { canOperate, useMe } from './session';
import { servicesOffThread } from './services-off-thread';
import { statsStoreFor, type StatsStore } from './stats-store';
import { useTRPC } from './trpc';

export function useDirectorId(): string {
  const p = useParams<{ director: string }>();
  return decodeURIComponent(p.director);
}

type Me = NonNullable<ReturnType<typeof useMe>['data']>;

/** The director's display name and why operator controls are disabled (null: allowed), from who is signed in. */
export function directorAccess(me: Me | null | undefined, directorId: string): { name: string; disabledReason: string | null } {
  const d = me?.directors.find((x) => x.id === directorId) as { id: string; name: string; role?: 'viewer' | 'operator' } | undefined;
  if (!me) return { name: directorId, disabledReason: 'Checking your role…' };
  if (!canOperate(me.user.role)) return { name: d?.name ?? directorId, disabledReason: `Signed in as ${me.user.name} (viewer): changing rules needs the operator role.` };
  if (d?.role === 'viewer') return { name: d.name, disabledReason: 'The console holds only a viewer token for this director; ask an administrator to configure its operator token.' };
  return { name: d?.name ?? directorId, disabledReason: null };
}

export function useDirectorAccess(directorId: string): { name: string; disabledReason: string | null } {
  return directorAccess(useMe().data, directorId);
}

/**
 * Keeps a director's live feeds open while any of its pages is shown: stats
 * ticks into the per-director store, table changes into the services query
 * (so edits made elsewhere, e.g. with ipvsadm, appear without reload).
 */
export function useLiveFeed(directorId: string): void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const store = statsStoreFor(directorId);
  // on a service page, ask the agent to read that service's real servers every tick (the graph needs them)
  const shown = useParams<{ service?: string }>().service;
  const watch = shown ? [decodeURIComponent(shown)] : [];
  if (shown) store.graph(watch[0]!);
  useSubscription(trpc.stats.onTick.subscriptionOptions({ watch }, {
    onData: (e) => store.apply(e.data),
  }));
  const patch = usePatchServices();
  useSubscription(trpc.table.onChange.subscriptionOptions({}, {
    // a list kept from before this feed started (the pages were left, or the link was down) missed its events
    onStarted: () => {
      const key = trpc.services.list.queryKey();
      if (qc.getQueryData(key) !== undefined && qc.getQueryState(key)?.fetchStatus === 'idle') void qc.invalidateQueries({ queryKey: key });
    },
    onData: (e) => {
      // events carry the changed services; only a subscriber that missed some must read the whole table again
      if (e.data.resync) void qc.invalidateQueries({ queryKey: trpc.services.pathKey() });
      else patch(e.data);
      void qc.invalidateQueries({ queryKey: trpc.journal.pathKey() });
    },
  }));
}

/** Patches the cached services.list with a change event or a mutation's reply (see lib/agent/table-patch.ts). */
export function usePatchServices(): (p: TablePatch) => void {
  const trpc = useTRPC();
  const qc = useQueryClient();
  return useCallback((p: TablePatch) => {
    qc.setQueryData(trpc.services.list.queryKey(), (old) => patchServices(old, p));
  }, [qc, trpc]);
}

/**
 * The director's live stats; the caller re-renders once per animation frame at
 * most, and not at all while the tab is hidden (ticks still land in the store,
 * so the page is current the moment it shows again).
 */
export function useStats(directorId: string): StatsStore {
  const store = statsStoreFor(directorId);
  const subscribe = useMemo(() => frameBatched(store.subscribe), [store]);
  useSyncExternalStore(subscribe, store.getVersion, () => 0);
  return store;
}

function frameBatched(subscribe: (l: () => void) => () => void): (l: () => void) => () => void {
  return (listener) => {
    let frame = 0;
    const onVisible = () => { if (document.visibilityState === 'visible') listener(); };
    const off = subscribe(() => {
      if (frame !== 0 || document.visibilityState === 'hidden') return;
      frame = requestAnimationFrame(() => { frame = 0; listener(); });
    });
    document.addEventListener('visibilitychange', onVisible);
    return () => {
      off();
      if (frame !== 0) cancelAnimationFrame(frame);
      document.removeEventListener('visibilitychange', onVisible);
    };
  };
}

export function useServices() {
  const trpc = useTRPC();
  const director = useDirectorId();
  // Read once; change events and mutation replies patch it (useLiveFeed, usePatchServices).
  const opts = trpc.services.list.queryOptions(undefined, { staleTime: Infinity });
  // read and parsed in a worker (services-off-thread.ts); through tRPC where there are no workers
  return useQuery({ ...opts, queryFn: (ctx) => servicesOffThread(director, ctx.signal) ?? opts.queryFn!(ctx) });
}

/** Error text that says what to do. */
export function errorText(e: unknown): string | null {
  if (!e) return null;
  const msg = e instanceof Error ? e.message : String(e);
  if (/fetch failed|Failed to fetch|NetworkError/i.test(msg)) return 'The console server did not answer. Check that it is running, then reload.';
  if (/Not signed in|UNAUTHORIZED/i.test(msg)) return 'Your session ended. Reload the page to sign in again.';
  return msg;
}

export function useStableCallback<A extends unknown[], R>(fn: (...a: A) => R): (...a: A) => R {
  // keeps the first fn: callers rely on a stable identity
  return useCallback(fn, []);
}
