/**
 * Rates from kernel counter deltas, pure.
 *
 * The kernel's own estimator rates (Stats.cps etc.) are smoothed over ~2 s
 * windows; these are exact per-interval rates from the cumulative counters.
 * A counter that goes down means the counters were zeroed or the object was
 * re-created: that interval has no rate (null), never a negative one.
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

export const RATE_FIELDS = ['cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
export type RateField = (typeof RATE_FIELDS)[number];

/**
 * Fixed-size ring of rate samples (900 = 15 minutes at 1 s). A sample
 * without a rate (reset, first tick) is stored as NaN and comes out as null,
 * which uPlot draws as a gap. Memory is fixed: 6 Float64Arrays of `capacity`.
 */
export class RateWindow {
  private readonly t: Float64Array;
  private readonly cols: Record<RateField, Float64Array>;
  private head = 0;
  private count = 0;

  constructor(readonly capacity = 900) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`capacity must be a positive integer, got ${capacity}`);
    this.t = new Float64Array(capacity);
    this.cols = {
      cps: new Float64Array(capacity), inPps: new Float64Array(capacity), outPps: new Float64Array(capacity),
      inBps: new Float64Array(capacity), outBps: new Float64Array(capacity),
    };
  }

  get size(): number {
    return this.count;
  }

  /** `timeMs`: sample time (epoch ms); rates null for a gap. */
  push(timeMs: number, rates: Rates | null): void {
    this.t[this.head] = timeMs;
    for (const f of RATE_FIELDS) this.cols[f][this.head] = rates ? rates[f] : NaN;
    this.head = (this.head + 1) % this.capacity;
    if (this.count < this.capacity) this.count++;
  }

  /** Oldest first: times in seconds (uPlot's x) and one column per field. */
  columns(): { t: number[] } & Record<RateField, (number | null)[]> {
    const start = (this.head - this.count + this.capacity) % this.capacity;
    const out = { t: [] as number[], cps: [], inPps: [], outPps: [], inBps: [], outBps: [] } as
      { t: number[] } & Record<RateField, (number | null)[]>;
    for (let i = 0; i < this.count; i++) {
      const j = (start + i) % this.capacity;
      out.t.push(this.t[j]! / 1000);
      for (const f of RATE_FIELDS) {
        const v = this.cols[f][j]!;
        out[f].push(Number.isNaN(v) ? null : v);
      }
    }
    return out;
  }

  /** The newest sample, or undefined when empty. */
  latest(): { timeMs: number; rates: Rates | null } | undefined {
    if (this.count === 0) return undefined;
    const j = (this.head - 1 + this.capacity) % this.capacity;
    if (Number.isNaN(this.cols.cps[j]!)) return { timeMs: this.t[j]!, rates: null };
    const rates = {} as Rates;
    for (const f of RATE_FIELDS) rates[f] = this.cols[f][j]!;
    return { timeMs: this.t[j]!, rates };
  }
}

/**
 * Tracks the previous Stats per key (service or destination) and turns each
 * new reading into a rate. Keys not seen in a tick are forgotten, so a
 * re-created object starts fresh.
 */
export class RateTracker {
  private prev = new Map<string, { stats: Stats; timeMs: number }>();

  /** Returns rates per key for this tick (null where no rate is possible yet). */
  tick(timeMs: number, readings: Iterable<[string, Stats]>): Map<string, Rates | null> {
    const next = new Map<string, { stats: Stats; timeMs: number }>();
    const out = new Map<string, Rates | null>();
    for (const [key, stats] of readings) {
      const p = this.prev.get(key);
      const r = p ? rateBetween(p.stats, stats, timeMs - p.timeMs) : null;
      out.set(key, r && r.ok ? r.rates : null);
      next.set(key, { stats, timeMs });
    }
    this.prev = next;
    return out;
  }
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

/** newConns for connectionShares from two readings; a reset counts as unknown (0 with reset flag). */
export function newConnsBetween(prev: Stats | undefined, cur: Stats): { newConns: number; reset: boolean } {
  if (!prev) return { newConns: 0, reset: true };
  if (cur.conns < prev.conns) return { newConns: 0, reset: true };
  return { newConns: cur.conns - prev.conns, reset: false };
}
