'use client';
import { useMutation } from '@tanstack/react-query';
import { useCallback } from 'react';
import { errorText, useDirectorAccess, useDirectorId, usePatchServices, useServices, useStats } from '@/components/data/hooks';
import { replyPatch } from '@/lib/agent/table-patch';
import { useTRPC } from '@/components/data/trpc';
import type { ServiceRowLive } from '@/components/services/ServiceTable';
import { OverviewView } from '@/components/views/OverviewView';

const EMPTY: number[] = [];

export default function OverviewPage() {
  const id = useDirectorId();
  const trpc = useTRPC();
  const patch = usePatchServices();
  const access = useDirectorAccess(id);
  const services = useServices();
  const stats = useStats(id);
  const create = useMutation(trpc.services.create.mutationOptions({
    onSuccess: (r) => patch(replyPatch(r)),
  }));
  const live = useCallback((sid: string): ServiceRowLive => {
    const h = stats.services.get(sid);
    return { sample: stats.service(sid), cps: h?.cps.toArray() ?? EMPTY, pps: h?.pps.toArray() ?? EMPTY, bps: h?.bps.toArray() ?? EMPTY };
    // stats.version makes rows re-read on each tick
  }, [stats, stats.version]);
  const cpsOf = useCallback((sid: string) => stats.service(sid)?.cps ?? 0, [stats]);
  return (
    <OverviewView
      directorName={access.name}
      services={services.data}
      loading={services.isPending}
      error={errorText(services.error)}
      onRetry={() => void services.refetch()}
      live={live}
      cpsOf={cpsOf}
      hrefFor={(sid) => `/d/${encodeURIComponent(id)}/s/${encodeURIComponent(sid)}`}
      onCreate={async (spec) => { await create.mutateAsync({ service: spec, destinations: [] }); }}
      disabledReason={access.disabledReason}
    />
  );
}
