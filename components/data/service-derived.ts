/**
 * Per-service figures derived from the stats store for the service page:
 * graph series (15 minutes), a stable colour per real server, and shares of
 * new connections over the last minute beside shares of weight.
 */
import { destinationId } from '@/lib/ipvs/ids';
import type { ServiceEntry } from '@/lib/ipvs/model';
import type { RateSeries } from '../charts/RateChart';
import { computeShares, type Share } from '../services/shares';
import type { StatsStore } from './stats-store';
import type { ChartHistory } from './history-series';

/** Distinguishable on light and dark backgrounds; none reuses a connection-state colour. */
export const SERIES_COLORS = ['#3b7dd8', '#d9822b', '#2ba39b', '#c2478f', '#7a6fd6', '#8f9a2b', '#d04f4f', '#5a8f5e', '#b07a52', '#4d9bc2'];

export function destinationColors(s: ServiceEntry): Map<string, string> {
  const m = new Map<string, string>();
  s.destinations.forEach((d, i) => m.set(destinationId(d), SERIES_COLORS[i % SERIES_COLORS.length]!));
  return m;
}

export function chartData(store: StatsStore, sid: string, s: ServiceEntry, metric: 'cps' | 'bps', colors: ReadonlyMap<string, string>): { times: number[]; series: RateSeries[] } {
  const times = store.times.toArray();
  const series = s.destinations.map((d) => {
    const did = destinationId(d);
    const h = store.destination(sid, did);
    const vals = h ? h[metric].toArray() : [];
    // Align to the shared time axis (a ring shorter than the axis started later).
    const padded = vals.length < times.length ? [...new Array<number>(times.length - vals.length).fill(Number.NaN), ...vals] : vals;
    return { label: did, color: colors.get(did) ?? '#888', values: padded };
  });
  return { times, series };
}

/** Shares over the last `window` ticks (sum of per-tick rates ∝ new connections, the interval being constant). */
export function shareMap(store: StatsStore, sid: string, s: ServiceEntry, window = 60): Map<string, Share> {
  const rows = s.destinations.map((d) => {
    const did = destinationId(d);
    const h = store.destination(sid, did);
    return { id: did, weight: d.weight, newConns: h ? h.cps.sumLast(window) : 0 };
  });
  // NaN padding counts as nothing.
  for (const r of rows) if (Number.isNaN(r.newConns)) r.newConns = 0;
  return new Map(computeShares(rows).map((x) => [x.id, x]));
}

/** The same graph from the agent's history with live ticks appended (history-series.ts). */
export function chartFromHistory(h: ChartHistory, s: ServiceEntry, metric: 'cps' | 'bps', colors: ReadonlyMap<string, string>): { times: number[]; intervals: number[]; series: RateSeries[] } {
  const series = s.destinations.map((d) => {
    const did = destinationId(d);
    const v = h.dests.get(did);
    return { label: did, color: colors.get(did) ?? '#888', values: v ? v[metric] : new Array<number>(h.at.length).fill(Number.NaN) };
  });
  return { times: h.at, intervals: h.ms, series };
}
