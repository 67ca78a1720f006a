/**
 * Hash skew: for the hashing schedulers (sh, mh, dh) a real server's share of
 * new connections should follow its share of the weights (sh and mh weigh
 * their buckets; dh gives every server with a weight above 0 the same number).
 * When a share stays away from that beyond a threshold for minutes, the
 * hash has too little to spread (few clients, few destinations). Pure: fed
 * with the real servers' cumulative connection counters and the time.
 */
import type { ServiceEntry } from '../ipvs/model';
import { destinationId, serviceId } from '../ipvs/ids';
import { formatDestination, formatServiceKey } from '../ipvs/format';
import { serviceArg } from '../snapshot/keys';

export const HASHING_SCHEDULERS = ['sh', 'mh', 'dh'] as const;

export interface SkewOptions {
  /** the shares are compared over this much of the latest history */
  windowMs: number;
  /** an alarm needs the skew to hold this long */
  holdMs: number;
  /** |share - expected share| at or above this (0..1) is skew */
  threshold: number;
  /** fewer new connections than this in the window say nothing */
  minConns: number;
}

// 30 connections put an even split's share within ±0.2 at about 2 standard deviations; the hold time does the rest
export const DEFAULT_SKEW: SkewOptions = { windowMs: 60_000, holdMs: 180_000, threshold: 0.2, minConns: 30 };

export interface SkewServer {
  id: string;
  label: string;
  weight: number;
  /** share of the window's new connections, 0..1 */
  share: number;
  /** share its weight calls for, 0..1 */
  expected: number;
}

export interface SkewAlarm {
  service: string;
  label: string;
  scheduler: string;
  /** ms since epoch the skew began */
  since: number;
  /** new connections in the window */
  conns: number;
  servers: SkewServer[];
  cause: string;
  /** the scheduler flag that helps, when one does */
  flag: string | null;
  /** the ipvsadm command that sets it */
  fix: string | null;
}

interface Point { at: number; conns: Map<string, number> }
interface Track { points: Point[]; badSince: number | null; last: Omit<SkewAlarm, 'since'> | null }

export class SkewDetector {
  private readonly tracks = new Map<string, Track>();

  constructor(private readonly opts: SkewOptions = DEFAULT_SKEW) {}

  /** One look at the table (each real server's cumulative connection counter) at time `at`. */
  observe(at: number, services: readonly ServiceEntry[]): void {
    const seen = new Set<string>();
    for (const s of services) {
      if (!(HASHING_SCHEDULERS as readonly string[]).includes(s.scheduler)) continue;
      const id = serviceId(s.key);
      seen.add(id);
      let t = this.tracks.get(id);
      if (!t) this.tracks.set(id, (t = { points: [], badSince: null, last: null }));
      t.points.push({ at, conns: new Map(s.destinations.map((d) => [destinationId(d), d.stats.conns])) });
      // keep the newest point at or before the window's start, and everything after it
      while (t.points.length > 2 && t.points[1]!.at <= at - this.opts.windowMs) t.points.shift();
      const judged = this.judge(s, t.points);
      if (judged) {
        t.badSince ??= at;
        t.last = judged;
      } else {
        t.badSince = null;
        t.last = null;
      }
    }
    for (const id of this.tracks.keys()) if (!seen.has(id)) this.tracks.delete(id);
  }

  /** Services whose skew has held for holdMs. */
  alarms(now: number): SkewAlarm[] {
    const out: SkewAlarm[] = [];
    for (const t of this.tracks.values()) {
      if (t.badSince !== null && t.last && now - t.badSince >= this.opts.holdMs) out.push({ ...t.last, since: t.badSince });
    }
    return out.sort((a, b) => a.label.localeCompare(b.label));
  }

  private judge(s: ServiceEntry, points: readonly Point[]): Omit<SkewAlarm, 'since'> | null {
    const first = points[0]!, last = points[points.length - 1]!;
    // the window must be covered: a young track says nothing yet
    if (last.at - first.at < this.opts.windowMs * 0.9) return null;
    const live = s.destinations.filter((d) => d.weight > 0);
    if (live.length < 2) return null;
    const deltas = live.map((d) => {
      const id = destinationId(d);
      const before = first.conns.get(id);
      // a server added inside the window has no baseline: judge it next window
      return before === undefined ? null : Math.max(0, (last.conns.get(id) ?? before) - before);
    });
    if (deltas.some((x) => x === null)) return null;
    const total = (deltas as number[]).reduce((a, b) => a + b, 0);
    if (total < this.opts.minConns) return null;
    const weightSum = live.reduce((a, d) => a + d.weight, 0);
    const servers: SkewServer[] = live.map((d, i) => ({
      id: destinationId(d), label: formatDestination(d), weight: d.weight,
      share: deltas[i]! / total,
      expected: s.scheduler === 'dh' ? 1 / live.length : d.weight / weightSum,
    }));
    if (!servers.some((x) => Math.abs(x.share - x.expected) >= this.opts.threshold)) return null;
    return { service: serviceId(s.key), label: formatServiceKey(s.key), scheduler: s.scheduler, conns: total, servers, ...why(s) };
  }
}

function why(s: ServiceEntry): Pick<SkewAlarm, 'cause' | 'flag' | 'fix'> {
  if (s.scheduler === 'dh') {
    return { cause: 'dh hashes the destination address only: few destination addresses (a cache cluster in front of few origins) land on few servers.', flag: null, fix: null };
  }
  const port = `${s.scheduler}-port`;
  if (s.flags.sched2) {
    return { cause: `${s.scheduler} hashes address and port (${port} is set): the traffic comes from very few connections, or a few long-lived clients open most of them.`, flag: null, fix: null };
  }
  const flags = [port, ...(s.flags.sched1 ? [`${s.scheduler}-fallback`] : [])].join(',');
  return {
    cause: `${s.scheduler} hashes the client address only: few client addresses (a proxy, a NAT gateway, a load generator) carry the load, and each always lands on the same server.`,
    flag: port,
    fix: `ipvsadm -E ${serviceArg(s.key)} -s ${s.scheduler} -b ${flags}${s.flags.persistent ? ` -p ${s.timeout}` : ''}`,
  };
}
