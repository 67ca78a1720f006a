/**
 * Which services the connections page draws in its histogram: the ones with entries, busiest first
 * (every service on a small table). Found from the summary's services rather than by walking the
 * whole table, so a summary tick costs what the busy services cost, not what 10,000 idle ones do.
 */
import { keptServiceId } from '@/lib/ipvs/ids';
import type { ServiceEntry } from '@/lib/ipvs/model';
import type { SummaryIndex } from './summary-index';

/** Small tables show every service, busy or not; large ones only the busy ones. */
export const SHOW_ALL_UP_TO = 20;

/** Each service by its kept id, with its place in the list (the order ties keep). */
export type ServicesById = ReadonlyMap<string, { s: ServiceEntry; at: number }>;

export function servicesById(services: readonly ServiceEntry[]): ServicesById {
  const m = new Map<string, { s: ServiceEntry; at: number }>();
  services.forEach((s, at) => m.set(keptServiceId(s), { s, at }));
  return m;
}

export interface BusyService { s: ServiceEntry; sid: string; total: number }

/** The services to draw, most entries first (ties in list order), and how many are left out for having none. */
export function busyServices(services: readonly ServiceEntry[], byId: ServicesById, summary: SummaryIndex | undefined): { busy: BusyService[]; idle: number } {
  const totalOf = (sid: string) => {
    const byState = summary?.byService.get(sid);
    return byState ? Object.values(byState).reduce((a, b) => a + b, 0) : 0;
  };
  const found: Array<BusyService & { at: number }> = [];
  if (services.length <= SHOW_ALL_UP_TO) {
    services.forEach((s, at) => { const sid = keptServiceId(s); found.push({ s, sid, total: totalOf(sid), at }); });
  } else {
    for (const sid of summary?.byService.keys() ?? []) {
      const e = byId.get(sid);
      const total = totalOf(sid);
      if (e && total > 0) found.push({ s: e.s, sid, total, at: e.at });
    }
  }
  found.sort((a, b) => b.total - a.total || a.at - b.at);
  return { busy: found.map(({ s, sid, total }) => ({ s, sid, total })), idle: services.length - found.length };
}
