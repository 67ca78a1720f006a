import type { KnownScheduler } from '@/lib/ipvs/model';
import { schedulerFlagNames } from '@/lib/ipvs/rules';

/** One line per scheduler, for the form's select (semantics from the kernel sources). */
export const SCHEDULER_HELP: Record<KnownScheduler, string> = {
  rr: 'Round robin: each available server in turn, weights ignored (except 0).',
  wrr: 'Weighted round robin: new connections in proportion to weight.',
  lc: 'Least connections: the server with the fewest (active×256 + inactive).',
  wlc: 'Weighted least connections: fewest connections per unit of weight (default).',
  lblc: 'Locality-based least connections: sticks each destination IP to one server (caches).',
  lblcr: 'LBLC with replication: a set of servers per destination IP, grown under load.',
  dh: 'Destination hashing: a static hash of the destination IP picks the server.',
  sh: 'Source hashing: a static hash of the client IP (optionally port) picks the server.',
  sed: 'Shortest expected delay: minimises (active + 1) / weight.',
  nq: 'Never queue: an idle server if there is one, otherwise shortest expected delay.',
  fo: 'Weighted failover: always the available server with the highest weight.',
  ovf: 'Weighted overflow: highest weight until its active connections exceed its weight.',
  mh: 'Maglev hashing: consistent hash of the client IP, minimal reshuffle on changes.',
};

export { schedulerFlagNames };

export type SchedulerFlagKey = 'sched1' | 'sched2' | 'sched3';

/**
 * The flags a scheduler reads, with its own names: in the kernel only sh and
 * mh look at them (fallback, port); every other in-tree scheduler ignores
 * all three, so the forms offer none. A scheduler the console does not know
 * (an out-of-tree module) gets the three generic ones.
 */
export function usableSchedulerFlags(scheduler: string): { key: SchedulerFlagKey; name: string; help: string }[] {
  if (scheduler === 'sh' || scheduler === 'mh') {
    return [
      { key: 'sched1', name: `${scheduler}-fallback`, help: 'When the chosen server is unavailable (weight 0 or over its threshold), pick another instead of dropping.' },
      { key: 'sched2', name: `${scheduler}-port`, help: 'Hash the client port as well as its address: spreads many connections from few clients.' },
    ];
  }
  if ((Object.keys(SCHEDULER_HELP) as string[]).includes(scheduler)) return [];
  return (['sched1', 'sched2', 'sched3'] as const).map((key, i) => ({ key, name: `flag-${i + 1}`, help: 'A flag for an out-of-tree scheduler.' }));
}

/** The flags to offer in a form: those the scheduler reads, plus any that is set (so it can be seen and cleared). */
export function shownSchedulerFlags(scheduler: string, set: Record<SchedulerFlagKey, boolean>): { key: SchedulerFlagKey; name: string; help: string }[] {
  const usable = usableSchedulerFlags(scheduler);
  const names = schedulerFlagNames(scheduler);
  const extra = (['sched1', 'sched2', 'sched3'] as const)
    .filter((k, i) => set[k] && !usable.some((u) => u.key === k) && names[i] !== undefined)
    .map((key) => ({ key, name: names[Number(key.slice(-1)) - 1]!, help: `${scheduler} does not read this flag; the kernel keeps it but it has no effect.` }));
  return [...usable, ...extra];
}
