/**
 * One director's table in a few numbers: what the fleet page shows per row.
 * The agent computes it (services.summary) so the fleet page reads a few
 * hundred bytes per director instead of the whole table.
 */

interface SummarizedService {
  destinations: ReadonlyArray<{ weight: number }>;
  stats: { cps: number; inBps: number; outBps: number };
}

export interface TableSummary {
  services: number;
  /** real servers with a weight above 0, of all real servers */
  up: number;
  total: number;
  /** new connections per second, summed over services */
  cps: number;
  /** bits per second in and out, summed over services */
  bps: number;
  /** services with no real server taking new connections: every new request to them is dropped */
  withoutServer: number;
}

/** Services that have no real server taking new connections. */
export function servicesWithoutServer<S extends { destinations: ReadonlyArray<{ weight: number }> }>(services: readonly S[]): S[] {
  return services.filter((s) => !s.destinations.some((d) => d.weight > 0));
}

export function summarizeTable(services: readonly SummarizedService[]): TableSummary {
  let up = 0, total = 0, cps = 0, bps = 0, withoutServer = 0;
  for (const s of services) {
    let any = false;
    for (const d of s.destinations) if (d.weight > 0) { up++; any = true; }
    if (!any) withoutServer++;
    total += s.destinations.length;
    cps += s.stats.cps;
    bps += s.stats.inBps + s.stats.outBps;
  }
  return { services: services.length, up, total, cps, bps, withoutServer };
}

/** At most this many VIPs in services.vips (the change-set verdict's othersSchema takes as many per director). */
export const MAX_VIPS = 4096;

/**
 * The distinct VIP addresses a table serves (fwmark services have none of
 * their own), sorted, for other directors' change-set verdicts.
 */
export function tableVips(services: ReadonlyArray<{ key: { kind: string; address?: string } }>, max = MAX_VIPS): { vips: string[]; truncated: boolean } {
  const set = new Set<string>();
  for (const s of services) if (s.key.kind === 'addr' && s.key.address) set.add(s.key.address);
  const all = [...set].sort();
  return { vips: all.slice(0, max), truncated: all.length > max };
}
