/**
 * Answers from the history store, bounded: one service with at most
 * MAX_DESTS of its real servers (history.get), or every service's
 * sparkline figures squeezed to SPARK_BUCKETS points (history.overview).
 */
import { HISTORY_FIELDS, type HistoryAxis, type HistoryRange, type HistoryStore, type HistoryValues } from './rings';

export const MAX_DESTS = 64;
export const SPARK_BUCKETS = 60;
export const MAX_OVERVIEW_SERVICES = 2000;

export interface ServiceHistory extends HistoryAxis {
  range: HistoryRange;
  /** null: the agent knows no such service */
  service: HistoryValues | null;
  dests: { id: string; v: HistoryValues }[];
  /** real servers left out past MAX_DESTS */
  truncated: number;
}

export function readService(store: HistoryStore, sid: string, range: HistoryRange, now: number): ServiceHistory {
  const a = store.axis(range, now);
  const own = store.get(sid, null);
  const service = own ? store.values(own, a) : null;
  const dests: ServiceHistory['dests'] = [];
  let truncated = 0;
  if (own) {
    for (const [id, d] of store.services.get(sid)!.dests) {
      if (dests.length >= MAX_DESTS) {
        truncated++;
        continue;
      }
      dests.push({ id, v: store.values(d, a) });
    }
  }
  return { range, at: a.axis.at, ms: a.axis.ms, service, dests, truncated };
}

export interface OverviewHistory {
  range: HistoryRange;
  /** end of each bucket */
  at: number[];
  /**
   * per service id: new connections/s, packets/s and bytes/s (in + out), a value per bucket (null: no data);
   * null for a service that carried no traffic in the time kept (most of a large table: it costs 4 bytes, not 700)
   */
  services: Record<string, { cps: (number | null)[]; pps: (number | null)[]; bps: (number | null)[] } | null>;
}

/** Every service's rates in at most `buckets` time-weighted averages over `range`. */
export function readOverview(store: HistoryStore, range: HistoryRange, now: number, buckets = SPARK_BUCKETS): OverviewHistory {
  const a = store.axis(range, now);
  const n = a.axis.at.length;
  const per = Math.max(1, Math.ceil(n / buckets));
  const at: number[] = [];
  for (let b = 0; b * per < n; b++) at.push(a.axis.at[Math.min(n, (b + 1) * per) - 1]!);
  const services: OverviewHistory['services'] = {};
  let count = 0;
  for (const [key, svc] of store.services) {
    if (!svc.own) continue;
    if (++count > MAX_OVERVIEW_SERVICES) break;
    if (!svc.own.data) {
      services[key] = null;
      continue;
    }
    const v = store.values(svc.own, a);
    const sum = (fs: readonly (typeof HISTORY_FIELDS)[number][]) => bucketed(n, per, a.axis.ms, (i) => {
      let t = 0;
      for (const f of fs) {
        const x = v[f][i];
        if (x === null || x === undefined) return null;
        t += x;
      }
      return t;
    });
    services[key] = { cps: sum(['cps']), pps: sum(['inPps', 'outPps']), bps: sum(['inBps', 'outBps']) };
  }
  return { range, at, services };
}

/** Time-weighted averages of `per` points each; a bucket with no value is null. */
function bucketed(n: number, per: number, ms: readonly number[], value: (i: number) => number | null): (number | null)[] {
  const out: (number | null)[] = [];
  for (let s = 0; s < n; s += per) {
    let num = 0;
    let w = 0;
    for (let i = s; i < Math.min(n, s + per); i++) {
      const x = value(i);
      if (x === null) continue;
      num += x * ms[i]!;
      w += ms[i]!;
    }
    out.push(w > 0 ? Math.round((num / w) * 1000) / 1000 : null);
  }
  return out;
}
