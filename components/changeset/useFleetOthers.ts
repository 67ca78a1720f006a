'use client';
/**
 * The rest of the fleet for this director's change-set verdict: each other
 * director's VIPs (services.vips) and HA groups, read over plain HTTP every
 * 30 s, each on its own so one that hangs holds up none; HA peers left out
 * (lib/changeset/fleet-vips.ts decides).
 */
import { useQueries, useQuery } from '@tanstack/react-query';
import { useMemo } from 'react';
import { fleetOthers, type FleetDirectorVips, type FleetOthers } from '@/lib/changeset/fleet-vips';
import { useMe } from '../data/session';
import { httpClient, useTRPC } from '../data/trpc';

const POLL_MS = 30_000;

async function readVips(d: { id: string; name: string }, signal: AbortSignal): Promise<FleetDirectorVips> {
  const c = httpClient(d.id);
  const [vips, ha] = await Promise.all([
    c.services.vips.query(undefined, { signal }).catch(() => null),
    c.ha.status.query(undefined, { signal }).catch(() => null),
  ]);
  return { id: d.id, name: d.name, vips: vips?.vips ?? null, truncated: vips?.truncated ?? false, haGroups: ha?.enabled ? ha.groups.map((g) => g.name) : null };
}

export function useFleetOthers(director: string): FleetOthers {
  const me = useMe();
  const trpc = useTRPC();
  const others = useMemo(() => (me.data?.directors ?? []).filter((d) => d.id !== director), [me.data, director]);
  const own = useQuery({ ...trpc.ha.status.queryOptions(), refetchInterval: POLL_MS, retry: false });
  const results = useQueries({
    queries: others.map((d) => ({
      queryKey: ['fleet-vips', d.id],
      queryFn: ({ signal }: { signal: AbortSignal }) => readVips(d, AbortSignal.any([signal, AbortSignal.timeout(10_000)])),
      refetchInterval: POLL_MS,
      retry: false,
    })),
  });
  const stamp = results.map((r) => r.dataUpdatedAt).join(',');
  const ownGroups = own.data?.enabled ? own.data.groups.map((g) => g.name) : null;
  const groupsKey = ownGroups?.join('\n') ?? '';
  return useMemo(
    () => fleetOthers({ id: director, haGroups: ownGroups }, others.map((d, i) => results[i]?.data ?? { id: d.id, name: d.name, vips: null, haGroups: null })),
    // results and ownGroups change identity every render; the stamps and names say when data did
    [director, others, stamp, groupsKey],
  );
}
