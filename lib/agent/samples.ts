/**
 * Per-tick samples of the IPVS table and what changed between two of them.
 * Pure: the agent's sampler feeds it dumps; tests feed it literals.
 */
import { ZERO_STATS, type DestinationState, type ServiceEntry, type Stats } from '../ipvs/model';
import { rateBetween } from '../rates';
import {
  EMPTY_SAMPLE, type DestinationTickRow, type ServiceTickRow, type StatSample, type StatsState, type StatsTick,
} from './events';
import { destinationId, serviceId } from './ids';

const FIELDS = Object.keys(EMPTY_SAMPLE) as (keyof StatSample)[];

/**
 * Rates keep 3 significant digits (and at most two decimals): what the console
 * shows, and a steady rate then stays the same number from tick to tick, so
 * ticks need not carry it again.
 */
export function roundRate(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return 0;
  const r = Number(x.toPrecision(3));
  return Math.abs(r) >= 100 ? r : Math.round(r * 100) / 100;
}
const round = roundRate;


/**
 * Linux 6.2+ sums its per-CPU counters only when the rate estimator runs
 * (every 2 s), so the counters a dump returns move in 2 s steps. A rate
 * over a 1 s tick would read 0, then twice the truth. So a rate is taken
 * between the last two readings that moved (the anchor), and held while
 * the counters may merely not have been summed yet.
 */
export const ESTIMATOR_PERIOD_MS = 2000;
const HOLD_MS = ESTIMATOR_PERIOD_MS + 600;

interface Anchor {
  stats: Pick<Stats, 'conns' | 'inPkts' | 'outPkts' | 'inBytes' | 'outBytes'>;
  /** time since the counters last moved */
  ageMs: number;
}
const anchors = new WeakMap<StatSample, Anchor>();

function sameCounters(a: Anchor['stats'], b: Stats): boolean {
  return a.conns === b.conns && a.inPkts === b.inPkts && a.outPkts === b.outPkts && a.inBytes === b.inBytes && a.outBytes === b.outBytes;
}

function sampleOf(stats: Stats, prev: StatSample | undefined, dtMs: number, conns: { a: number; i: number; p: number }): StatSample {
  const s: StatSample = {
    conns: stats.conns, inPkts: stats.inPkts, outPkts: stats.outPkts, inBytes: stats.inBytes, outBytes: stats.outBytes,
    kCps: round(stats.cps), kInPps: round(stats.inPps), kOutPps: round(stats.outPps), kInBps: round(stats.inBps), kOutBps: round(stats.outBps),
    rCps: 0, rInPps: 0, rOutPps: 0, rInBps: 0, rOutBps: 0,
    active: conns.a, inactive: conns.i, persistent: conns.p,
  };
  const counters = { conns: stats.conns, inPkts: stats.inPkts, outPkts: stats.outPkts, inBytes: stats.inBytes, outBytes: stats.outBytes };
  if (!prev) {
    anchors.set(s, { stats: counters, ageMs: 0 });
    return s;
  }
  const anchor = anchors.get(prev) ?? { stats: counters, ageMs: 0 };
  if (sameCounters(anchor.stats, stats)) {
    const ageMs = anchor.ageMs + Math.max(0, dtMs);
    anchors.set(s, { stats: anchor.stats, ageMs });
    if (ageMs <= HOLD_MS) {
      s.rCps = prev.rCps; s.rInPps = prev.rInPps; s.rOutPps = prev.rOutPps; s.rInBps = prev.rInBps; s.rOutBps = prev.rOutBps;
    }
    return s;
  }
  anchors.set(s, { stats: counters, ageMs: 0 });
  // after a quiet spell the counters moved within the last estimator period, not over all of it
  const sinceMoved = anchor.ageMs + dtMs;
  const windowMs = sinceMoved <= 2 * ESTIMATOR_PERIOD_MS ? sinceMoved : Math.max(dtMs, ESTIMATOR_PERIOD_MS);
  // a reset (ZERO, re-created object) or no elapsed time leaves that tick's rates at 0, never negative
  const r = rateBetween({ ...ZERO_STATS, ...anchor.stats }, stats, windowMs);
  if (r.ok) {
    s.rCps = round(r.rates.cps);
    s.rInPps = round(r.rates.inPps);
    s.rOutPps = round(r.rates.outPps);
    s.rInBps = round(r.rates.inBps);
    s.rOutBps = round(r.rates.outBps);
  }
  return s;
}

function destSample(d: DestinationState, prev: StatSample | undefined, dtMs: number | null): StatSample {
  const conns = { a: d.activeConns, i: d.inactiveConns, p: d.persistentConns };
  if (dtMs === null && prev) return carried(prev, conns);
  return sampleOf(d.stats, prev, dtMs ?? 0, conns);
}

/**
 * A destination whose counters were not re-read this tick: counters and
 * rates stay as last read (so is the anchor, whose age only grows with real
 * readings), connection counts are the fresh ones.
 */
function carried(prev: StatSample, conns: { a: number; i: number; p: number }): StatSample {
  const s: StatSample = { ...prev, active: conns.a, inactive: conns.i, persistent: conns.p };
  const anchor = anchors.get(prev);
  if (anchor) anchors.set(s, anchor);
  return s;
}

/**
 * The state after one dump, given the state of the previous dump `dtMs` earlier (null for the first).
 * `destDtMs` (by service id) serves samplers that re-read destination counters only for some
 * services per tick: the time since that service's destinations were last read, or null when
 * they were not read this tick (their counters and rates carry over). Absent ids use `dtMs`.
 */
export function sampleTable(
  entries: readonly ServiceEntry[], prev: StatsState | null, dtMs: number, destDtMs?: ReadonlyMap<string, number | null>,
): StatsState {
  const next: StatsState = new Map();
  for (const e of entries) {
    const id = serviceId(e.key);
    const p = prev?.get(id);
    const dests = new Map<string, StatSample>();
    const ddt: number | null = destDtMs?.has(id) ? (destDtMs.get(id) ?? null) : dtMs;
    let a = 0, i = 0, pc = 0;
    for (const d of e.destinations) {
      const did = destinationId(d);
      dests.set(did, destSample(d, p?.dests.get(did), ddt));
      a += d.activeConns;
      i += d.inactiveConns;
      pc += d.persistentConns;
    }
    next.set(id, { v: sampleOf(e.stats, p?.v, dtMs, { a, i, p: pc }), dests });
  }
  return next;
}

function changedFields(prev: StatSample, next: StatSample): Partial<StatSample> | null {
  let out: Partial<StatSample> | null = null;
  for (const f of FIELDS) {
    if (prev[f] !== next[f]) (out ??= {})[f] = next[f];
  }
  return out;
}

/** Fields that are not 0: a client starts every object from EMPTY_SAMPLE, so zeros need not travel. */
function nonZero(v: StatSample): Partial<StatSample> {
  const out: Partial<StatSample> = {};
  for (const f of FIELDS) if (v[f] !== 0) out[f] = v[f];
  return out;
}

/** Everything in `state`, as a tick that replaces a client's state. */
export function fullTick(state: StatsState, seq: number, at: number, intervalMs: number): StatsTick {
  const services: ServiceTickRow[] = [];
  for (const [id, s] of state) {
    services.push({
      id, v: nonZero(s.v), removedDests: [],
      dests: [...s.dests].map(([did, v]) => ({ id: did, v: nonZero(v) })),
    });
  }
  return { seq, at, intervalMs, full: true, services, removed: [] };
}

/** Only what differs between two states: changed fields, new and removed objects. */
export function deltaTick(prev: StatsState, next: StatsState, seq: number, at: number, intervalMs: number): StatsTick {
  const services: ServiceTickRow[] = [];
  const removed: string[] = [];
  for (const id of prev.keys()) if (!next.has(id)) removed.push(id);
  for (const [id, s] of next) {
    const p = prev.get(id);
    if (!p) {
      services.push({ id, v: nonZero(s.v), removedDests: [], dests: [...s.dests].map(([did, v]) => ({ id: did, v: nonZero(v) })) });
      continue;
    }
    const dests: DestinationTickRow[] = [];
    for (const [did, v] of s.dests) {
      const pv = p.dests.get(did);
      const ch = pv ? changedFields(pv, v) : nonZero(v);
      if (ch) dests.push({ id: did, v: ch });
    }
    const removedDests = [...p.dests.keys()].filter((did) => !s.dests.has(did));
    const v = changedFields(p.v, s.v);
    if (v || dests.length || removedDests.length) services.push({ id, v: v ?? {}, dests, removedDests });
  }
  return { seq, at, intervalMs, full: false, services, removed };
}
