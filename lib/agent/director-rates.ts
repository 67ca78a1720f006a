/**
 * Director's own rates (the r* fields of StatSample) from one object's
 * cumulative counters. Pure; run once per object per tick, in the agent
 * (lib/agent/samples.ts), whose values go to every console as they are.
 */
import { rateBetween } from '../rates';
import type { StatSample } from './events';

export const COUNTER_FIELDS = ['conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes'] as const;
export const DIRECTOR_RATE_FIELDS = ['rCps', 'rInPps', 'rOutPps', 'rInBps', 'rOutBps'] as const;
export const KERNEL_RATE_FIELDS = ['kCps', 'kInPps', 'kOutPps', 'kInBps', 'kOutBps'] as const;
export type Counters = Pick<StatSample, (typeof COUNTER_FIELDS)[number]>;
export type DirectorRates = Pick<StatSample, (typeof DIRECTOR_RATE_FIELDS)[number]>;
export type KernelRates = Pick<StatSample, (typeof KERNEL_RATE_FIELDS)[number]>;

/**
 * Rates keep 3 significant digits (and at most two decimals): what the console
 * shows, and a steady rate then stays the same number from tick to tick, so
 * ticks need not carry it again.
 */
export function roundRate(x: number): number {
  // whole numbers (rates over whole seconds usually are) without toPrecision, which every
  // console recomputing every rate each tick would feel; the same result to the bit
  if (x > 0 && x < 1e15 && Number.isInteger(x)) {
    if (x < 1000) return x;
    let unit = 10;
    while (x >= unit * 1000) unit *= 10;
    const rest = x % unit;
    // toPrecision picks the larger of two equally near numbers
    return rest * 2 >= unit ? x - rest + unit : x - rest;
  }
  if (x === 0 || !Number.isFinite(x)) return 0;
  const r = Number(x.toPrecision(3));
  return Math.abs(r) >= 100 ? r : Math.round(r * 100) / 100;
}

/**
 * Linux sums its per-CPU counters only when the rate estimator runs (every
 * 2 s, since per-CPU counters came in 2.6.39; so does the lab's 6.1), so
 * the counters a dump returns move in 2 s steps. A rate
 * over a 1 s tick would read 0, then twice the truth. So a rate is taken
 * between the last two readings that moved, and held while the counters
 * may merely not have been summed yet.
 */
export const ESTIMATOR_PERIOD_MS = 2000;
const HOLD_MS = ESTIMATOR_PERIOD_MS + 600;
/**
 * How long counters have stood still stops mattering past 2 estimator
 * periods (for a clock that does not step back), so the age saturates
 * here: a full tick then carries a short number, not the time since an
 * idle service last saw traffic.
 */
export const HOLD_AGE_CAP_MS = 2 * ESTIMATOR_PERIOD_MS + 1;

/**
 * Two movements of the counters are two runs of the estimator, a whole
 * number of periods apart. Readings a tick apart place each movement within
 * its tick, so the window is the period count nearest the time between
 * them, and at least one: a rate over the tick alone, after a reading taken
 * long after the one before (the first once a subscriber joins), read twice
 * the truth (lab: 4.86/s for 2.0/s).
 *
 * A reading taken longer than a period after the one before places its
 * movement anywhere in the last period, so two period counts fit `spanMs`,
 * its floor and its ceiling (a join 5.3 s after the last sample read 2.25/s,
 * then 1.5/s, for a steady 2/s). The kernel's own estimate, an average over
 * the last seconds, picks between the two; `tie` when it cannot tell.
 */
function wholePeriods(prev: Counters, cur: Counters & KernelRates, spanMs: number, tie: 'lo' | 'hi'): number {
  const lo = Math.max(1, Math.floor(spanMs / ESTIMATOR_PERIOD_MS));
  const hi = Math.max(1, Math.ceil(spanMs / ESTIMATOR_PERIOD_MS));
  if (lo === hi) return lo * ESTIMATOR_PERIOD_MS;
  const a = rateBetween(prev, cur, lo * ESTIMATOR_PERIOD_MS);
  const b = rateBetween(prev, cur, hi * ESTIMATOR_PERIOD_MS);
  if (!a.ok || !b.ok) return spanMs;
  const off = (r: number, k: number) => (r === k ? 0 : Math.abs(r - k) / Math.max(r, k));
  let ea = 0, eb = 0;
  for (let i = 0; i < RATE_OF.length; i++) {
    const [rf, kf] = RATE_OF[i]!;
    ea += off(a.rates[rf], cur[kf]);
    eb += off(b.rates[rf], cur[kf]);
  }
  return (ea < eb || (ea === eb && tie === 'lo') ? lo : hi) * ESTIMATOR_PERIOD_MS;
}
/**
 * The window of a movement seen a tick after the reading before: the period
 * count nearest `spanMs`. Near the middle between two counts (3 s: a run of
 * the estimator came late, or a tick early) either fits, and rounding halved
 * one reading in two (lab: 1.00/s dipped to 0.50/s for 2-4 ticks), so there
 * the kernel's estimate picks, and rounding breaks a tie.
 */
function tickWindow(prev: Counters, cur: Counters & KernelRates, spanMs: number): number {
  const periods = spanMs / ESTIMATOR_PERIOD_MS;
  const frac = periods - Math.floor(periods);
  if (periods > 1 && frac >= 0.25 && frac <= 0.75) return wholePeriods(prev, cur, spanMs, frac < 0.5 ? 'lo' : 'hi');
  return Math.max(1, Math.round(periods)) * ESTIMATOR_PERIOD_MS;
}
const RATE_OF = [['cps', 'kCps'], ['inPps', 'kInPps'], ['outPps', 'kOutPps'], ['inBps', 'kInBps'], ['outBps', 'kOutBps']] as const;

/** The same five counters (a StatSample, a kernel Stats or the namespace totals). */
export function sameCounters(a: Counters, b: Counters): boolean {
  return a.conns === b.conns && a.inPkts === b.inPkts && a.outPkts === b.outPkts && a.inBytes === b.inBytes && a.outBytes === b.outBytes;
}

/**
 * One new reading of an object. `prev` is its previous reading (counters
 * and the rates shown then), `ageMs` how long its counters had stood still
 * at that reading (summed reading intervals; 0 when they had just moved),
 * `cur` the new counters, read `dtMs` after `prev`. Writes the new rates to
 * `out` (which may be `cur`, not `prev`) and returns the new age.
 */
export function advanceRates(prev: Counters & DirectorRates, ageMs: number, cur: Counters & KernelRates, dtMs: number, out: DirectorRates): number {
  if (sameCounters(prev, cur)) {
    const age = Math.min(ageMs + Math.max(0, dtMs), HOLD_AGE_CAP_MS);
    const hold = age <= HOLD_MS;
    out.rCps = hold ? prev.rCps : 0;
    out.rInPps = hold ? prev.rInPps : 0;
    out.rOutPps = hold ? prev.rOutPps : 0;
    out.rInBps = hold ? prev.rInBps : 0;
    out.rOutBps = hold ? prev.rOutBps : 0;
    return age;
  }
  const sinceMoved = ageMs + dtMs;
  // after a quiet spell the counters moved within the last estimator period, not over all of it
  const spanMs = sinceMoved <= 2 * ESTIMATOR_PERIOD_MS ? sinceMoved : Math.max(dtMs, ESTIMATOR_PERIOD_MS);
  const windowMs = dtMs > ESTIMATOR_PERIOD_MS
    ? wholePeriods(prev, cur, spanMs, 'hi')
    : tickWindow(prev, cur, spanMs);
  const r = rateBetween(prev, cur, windowMs);
  out.rCps = r.ok ? roundRate(r.rates.cps) : 0;
  out.rInPps = r.ok ? roundRate(r.rates.inPps) : 0;
  out.rOutPps = r.ok ? roundRate(r.rates.outPps) : 0;
  out.rInBps = r.ok ? roundRate(r.rates.inBps) : 0;
  out.rOutBps = r.ok ? roundRate(r.rates.outBps) : 0;
  return 0;
}
