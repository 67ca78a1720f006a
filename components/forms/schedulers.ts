import type { KnownScheduler } from '@/lib/ipvs/model';

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

/** Names of the three scheduler flag bits as ipvsadm prints them for a scheduler. */
export function schedulerFlagNames(scheduler: string): [string, string, string] {
  if (scheduler === 'sh') return ['sh-fallback', 'sh-port', 'flag-3'];
  if (scheduler === 'mh') return ['mh-fallback', 'mh-port', 'flag-3'];
  return ['flag-1', 'flag-2', 'flag-3'];
}
