'use client';
import { skipToken, useMutation, useQuery } from '@tanstack/react-query';
import { useCallback, useState } from 'react';
import { RANGE_MS } from '@/lib/history/rings';
import { RANGE_WORDS } from '@/components/data/history-series';
import { errorText, useDirectorAccess, useDirectorId, usePatchServices, useServices, useStats } from '@/components/data/hooks';
import { replyPatch } from '@/lib/agent/table-patch';
import { useTRPC } from '@/components/data/trpc';
import type { ServiceRowLive } from '@/components/services/ServiceTable';
import { OverviewView, type SparkRange } from '@/components/views/OverviewView';
import { DraftBanner } from '@/components/changeset/DraftBanner';
import { useDraft, useStageEdit } from '@/components/changeset/useDraft';

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
  const [sparkRange, setSparkRange] = useState<SparkRange>('live');
  // longer sparklines come from the agent's history, read again once per point they hold (60 points)
  const past = useQuery({
    ...trpc.history.overview.queryOptions(sparkRange === 'live' ? skipToken : { range: sparkRange }),
    refetchInterval: sparkRange === 'live' ? false : RANGE_MS[sparkRange] / 60,
    retry: false,
  });
  const live = useCallback((sid: string): ServiceRowLive => {
    if (sparkRange !== 'live' && past.data) {
      const h = past.data.services[sid];
      const z = (a: readonly (number | null)[] | undefined) => (a ? a.map((v) => v ?? 0) : EMPTY);
      return { sample: stats.service(sid), cps: z(h?.cps), pps: z(h?.pps), bps: z(h?.bps), span: `last ${RANGE_WORDS[sparkRange]}` };
    }
    const h = stats.services.get(sid);
    if (!h) {
      const idle = stats.idleSparkline();
      return { sample: stats.service(sid), cps: idle, pps: idle, bps: idle };
    }
    return { sample: stats.service(sid), cps: h.cps.toArray(), pps: h.pps.toArray(), bps: h.bps.toArray() };
    // stats.version makes rows re-read on each tick
  }, [stats, stats.version, sparkRange, past.data]);
  const draft = useDraft();
  const stage = useStageEdit();
  const cpsOf = useCallback((sid: string) => stats.service(sid)?.cps ?? 0, [stats]);
  return (
    <>
    <DraftBanner count={draft.data?.edits.length ?? 0} href={`/d/${encodeURIComponent(id)}/draft`} />
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
      onStageCreate={async (spec) => { await stage({ op: 'service.create', service: spec, destinations: [] }); }}
      disabledReason={access.disabledReason}
      sparkRange={sparkRange}
      onSparkRange={setSparkRange}
    />
    </>
  );
}
