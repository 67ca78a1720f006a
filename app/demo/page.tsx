'use client';
import { useCallback } from 'react';
import { demoWrite, useDemo } from '@/components/demo/useDemo';
import type { ServiceRowLive } from '@/components/services/ServiceTable';
import { OverviewView } from '@/components/views/OverviewView';

const EMPTY: number[] = [];

export default function DemoOverview() {
  const { services, stats, disabledReason } = useDemo();
  const live = useCallback((sid: string): ServiceRowLive => {
    const h = stats.services.get(sid);
    return { sample: stats.service(sid), cps: h?.cps.toArray() ?? EMPTY, pps: h?.pps.toArray() ?? EMPTY, bps: h?.bps.toArray() ?? EMPTY };
    // stats.version makes rows re-read on each tick
  }, [stats, stats.version]);
  return (
    <OverviewView directorName="demo-director (synthetic)" services={services} loading={false} error={null} onRetry={() => {}}
      live={live} cpsOf={(sid) => stats.service(sid)?.cps ?? 0} hrefFor={(sid) => `/demo/s/${encodeURIComponent(sid)}`} onCreate={demoWrite} disabledReason={disabledReason} />
  );
}
