/**
 * Rates from kernel counter deltas, pure.
 *
 * The kernel's own estimator rates (Stats.cps etc.) are smoothed over ~2 s
 * windows; these are exact per-interval rates from the cumulative counters.
 * A counter that goes down means the counters were zeroed or the object was
 * re-created: that interval has no rate, never a negative one. The agent
 * computes rates with this (lib/agent/director-rates.ts); consoles get them.
 */
import type { Stats } from './ipvs/model';

export interface Rates {
  /** new connections per second */
  cps: number;
  inPps: number;
  outPps: number;
  /** bytes per second */
  inBps: number;
  outBps: number;
}

export type RateResult =
  | { ok: true; rates: Rates }
  | { ok: false; reason: 'reset' | 'no-time' };

const COUNTERS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const;

export function rateBetween(prev: Pick<Stats, (typeof COUNTERS)[number]>, cur: Pick<Stats, (typeof COUNTERS)[number]>, elapsedMs: number): RateResult {
  if (!(elapsedMs > 0) || !Number.isFinite(elapsedMs)) return { ok: false, reason: 'no-time' };
  for (const k of COUNTERS) if (cur[k] < prev[k]) return { ok: false, reason: 'reset' };
  const s = 1000 / elapsedMs;
  return {
    ok: true,
    rates: {
      cps: (cur.conns - prev.conns) * s,
      inPps: (cur.inPkts - prev.inPkts) * s,
      outPps: (cur.outPkts - prev.outPkts) * s,
      inBps: (cur.inBytes - prev.inBytes) * s,
      outBps: (cur.outBytes - prev.outBytes) * s,
    },
  };
}

export interface ShareInput {
  id: string;
  weight: number;
  /** New connections in the interval (a delta of Stats.conns). */
  newConns: number;
}

export interface Share {
  id: string;
  /** Fraction of the service's new connections that went here (null when there were none). */
  ofNewConns: number | null;
  /** Fraction of the service's total weight (null when all weights are 0). */
  ofWeight: number | null;
  /** ofNewConns − ofWeight: positive = getting more than its weight says (null if either is null). */
  skew: number | null;
}

/**
 * Share of new connections vs share of weight per destination: shows what
 * the scheduler actually does (sh/mh hashing, lc/wlc following load, weight 0
 * draining) next to what weights alone would predict.
 */
export function connectionShares(items: readonly ShareInput[]): Share[] {
  let conns = 0, weight = 0;
  for (const it of items) {
    conns += Math.max(0, it.newConns);
    weight += Math.max(0, it.weight);
  }
  return items.map((it) => {
    const ofNewConns = conns > 0 ? Math.max(0, it.newConns) / conns : null;
    const ofWeight = weight > 0 ? Math.max(0, it.weight) / weight : null;
    return { id: it.id, ofNewConns, ofWeight, skew: ofNewConns !== null && ofWeight !== null ? ofNewConns - ofWeight : null };
  });
}
