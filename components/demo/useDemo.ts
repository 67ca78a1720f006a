'use client';
import { useSearchParams } from 'next/navigation';
import { useEffect, useMemo } from 'react';
import { setLiveState } from '../data/live-status';
import { GRAPH_POINTS, statsStoreFor, type StatsStore } from '../data/stats-store';
import { useStats } from '../data/hooks';
import { useMe } from '../data/session';
import { demoFeed, demoServices } from './demo-data';

let started = false;
let seq = 0;

/** Demo services and a stats store fed by synthetic ticks (with 15 minutes of history prefilled). */
export function useDemo(): { services: ReturnType<typeof demoServices>; stats: StatsStore; disabledReason: string | null } {
  const params = useSearchParams();
  const extra = Number(params.get('n') ?? 0) || 0;
  const services = useMemo(() => demoServices(extra), [extra]);
  const store = statsStoreFor(`__demo__${extra}`);
  const demoTick = useMemo(() => demoFeed(services), [services]);
  useEffect(() => {
    if (!started || store.lastSeq === -1) {
      started = true;
      const now = Date.now();
      // 15 minutes of history for the small demo; the 1,000-service one measures live ticks only.
      for (let i = extra > 0 ? 0 : GRAPH_POINTS; i > 0; i--) store.apply(demoTick(++seq, now - i * 1000));
    }
    setLiveState({ kind: 'live', since: Date.now() });
    const t = setInterval(() => store.apply(demoTick(++seq, Date.now())), 1000);
    return () => clearInterval(t);
  }, [demoTick, store, extra]);
  useStats(`__demo__${extra}`);
  const me = useMe();
  const viewer = params.get('role') === 'viewer' || me.data?.user.role === 'viewer';
  return {
    services, stats: store,
    disabledReason: viewer ? `Signed in as ${me.data?.user.name ?? 'a viewer'} (viewer): changing rules needs the operator role.` : null,
  };
}

/** Demo mutations do nothing and say so. */
export async function demoWrite(): Promise<void> {
  await new Promise((r) => setTimeout(r, 300));
  throw new Error('Demo pages do not change anything: no director is connected.');
}
