/**
 * Per-tick samples of the IPVS table and what changed between two of them.
 * Pure: the agent's sampler feeds it dumps; tests feed it literals.
 */
import type { DestinationState, ServiceEntry, Stats } from '../ipvs/model';
import { HOLD_AGE_CAP_MS, advanceRates, roundRate, sameCounters } from './director-rates';
import {
  EMPTY_SAMPLE, type DestinationTickRow, type ServiceTickRow, type StatSample, type StatsState, type StatsStateService, type StatsTick,
} from './events';
import { keptDestinationId, keptServiceId } from '../ipvs/ids';

export { ESTIMATOR_PERIOD_MS, roundRate } from './director-rates';

const FIELDS = Object.keys(EMPTY_SAMPLE) as (keyof StatSample)[];
const round = roundRate;

/** How long each sample's counters had stood still (see advanceRates); the previous sample's counters are the other half of the rate state. */
const holdAges = new WeakMap<StatSample, number>();

function sampleOf(stats: Stats, prev: StatSample | undefined, dtMs: number, conns: { a: number; i: number; p: number }): StatSample {
  const s: StatSample = {
    conns: stats.conns, inPkts: stats.inPkts, outPkts: stats.outPkts, inBytes: stats.inBytes, outBytes: stats.outBytes,
    kCps: round(stats.cps), kInPps: round(stats.inPps), kOutPps: round(stats.outPps), kInBps: round(stats.inBps), kOutBps: round(stats.outBps),
    rCps: 0, rInPps: 0, rOutPps: 0, rInBps: 0, rOutBps: 0,
    active: conns.a, inactive: conns.i, persistent: conns.p,
  };
  holdAges.set(s, prev ? advanceRates(prev, holdAges.get(prev) ?? 0, s, dtMs, s) : 0);
  return s;
}

function destSample(d: DestinationState, prev: StatSample | undefined, dtMs: number | null): StatSample {
  const conns = { a: d.activeConns, i: d.inactiveConns, p: d.persistentConns };
  if (dtMs === null && prev) return carried(prev, conns);
  return sampleOf(d.stats, prev, dtMs ?? 0, conns);
}

/**
 * A destination whose counters were not re-read this tick: counters and
 * rates stay as last read (so does the hold age, which only grows with real
 * readings), connection counts are the fresh ones.
 */
function carried(prev: StatSample, conns: { a: number; i: number; p: number }): StatSample {
  const s: StatSample = { ...prev, active: conns.a, inactive: conns.i, persistent: conns.p };
  holdAges.set(s, holdAges.get(prev) ?? 0);
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
    const id = keptServiceId(e);
    const p = prev?.get(id);
    const ddt: number | null = destDtMs?.has(id) ? (destDtMs.get(id) ?? null) : dtMs;
    // an idle object read again gives the sample it already has: keep that object (no garbage, and
    // deltaTick and the encoder skip what is identical); a service with nothing new is kept whole
    if (p && (keptWholeBy(e, ddt) === p || keepsWhole(e, p, ddt))) {
      (ddt === null ? keptCarried : keptRead).set(e, p);
      next.set(id, p);
      continue;
    }
    const dests = new Map<string, StatSample>();
    let a = 0, i = 0, pc = 0;
    for (const d of e.destinations) {
      const did = keptDestinationId(d);
      const pd = p?.dests.get(did);
      dests.set(did, pd && reusable(pd, d, ddt) ? pd : destSample(d, pd, ddt));
      a += d.activeConns;
      i += d.inactiveConns;
      pc += d.persistentConns;
    }
    const v = p && unchangedSettled(p.v, e.stats, a, i, pc) ? p.v : sampleOf(e.stats, p?.v, dtMs, { a, i, p: pc });
    next.set(id, { v, dests });
  }
  return next;
}

/**
 * The service's samples that an entry object was last found to keep whole. The sweep hands out the same
 * entry while nothing about the service changed, and entries and samples are never modified, so the check
 * stands: at 1,000 services with traffic on a few, keepsWhole over every real server was the largest part
 * of sampling (CPU profile in the lab). One map per kind of check: a check with counters read (`keptRead`)
 * also holds where they were carried, not the other way round.
 */
const keptRead = new WeakMap<ServiceEntry, StatsStateService>();
const keptCarried = new WeakMap<ServiceEntry, StatsStateService>();

function keptWholeBy(e: ServiceEntry, ddt: number | null): StatsStateService | undefined {
  return keptRead.get(e) ?? (ddt === null ? keptCarried.get(e) : undefined);
}

/** A reading of `d` would give `pd` again: carried with the same counts, or settled with the same counters. */
function reusable(pd: StatSample, d: DestinationState, ddt: number | null): boolean {
  return ddt === null
    ? sameConns(pd, d.activeConns, d.inactiveConns, d.persistentConns)
    : unchangedSettled(pd, d.stats, d.activeConns, d.inactiveConns, d.persistentConns);
}

/** Every destination and the service itself would keep their samples (checked without allocating). */
function keepsWhole(e: ServiceEntry, p: { v: StatSample; dests: ReadonlyMap<string, StatSample> }, ddt: number | null): boolean {
  if (p.dests.size !== e.destinations.length) return false;
  let a = 0, i = 0, pc = 0;
  for (const d of e.destinations) {
    const pd = p.dests.get(keptDestinationId(d));
    if (!pd || !reusable(pd, d, ddt)) return false;
    a += d.activeConns;
    i += d.inactiveConns;
    pc += d.persistentConns;
  }
  return unchangedSettled(p.v, e.stats, a, i, pc);
}

function sameConns(s: StatSample, a: number, i: number, p: number): boolean {
  return s.active === a && s.inactive === i && s.persistent === p;
}

/** `s` is settled and a reading of `stats` with these connection counts would give it again. */
function unchangedSettled(s: StatSample, stats: Stats, a: number, i: number, p: number): boolean {
  return sameConns(s, a, i, p) && sameCounters(s, stats) && s.kCps === round(stats.cps) && s.kInPps === round(stats.inPps)
    && s.kOutPps === round(stats.outPps) && s.kInBps === round(stats.inBps) && s.kOutBps === round(stats.outBps) && settledSample(s);
}

function settledSample(s: StatSample): boolean {
  return s.rCps === 0 && s.rInPps === 0 && s.rOutPps === 0 && s.rInBps === 0 && s.rOutBps === 0
    && (holdAges.get(s) ?? 0) >= HOLD_AGE_CAP_MS;
}

/**
 * Every object's Director rates are 0 and its counters have stood still long
 * enough that another reading of the same counters changes nothing: the
 * state after such a reading is this one, and its delta is empty.
 */
export function isSettled(state: StatsState): boolean {
  for (const s of state.values()) {
    if (!settledSample(s.v)) return false;
    for (const d of s.dests.values()) if (!settledSample(d)) return false;
  }
  return true;
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

/** shared empty list (never mutated: rows are built once and only read) */
const NONE: string[] = [];

/** Only what differs between two states: changed fields, new and removed objects. */
export function deltaTick(prev: StatsState, next: StatsState, seq: number, at: number, intervalMs: number): StatsTick {
  const services: ServiceTickRow[] = [];
  const removed: string[] = [];
  for (const id of prev.keys()) if (!next.has(id)) removed.push(id);
  for (const [id, s] of next) {
    const p = prev.get(id);
    if (p === s) continue; // kept whole by sampleTable: nothing changed
    if (!p) {
      services.push({ id, v: nonZero(s.v), removedDests: [], dests: [...s.dests].map(([did, v]) => ({ id: did, v: nonZero(v) })) });
      continue;
    }
    const dests: DestinationTickRow[] = [];
    let kept = 0;
    for (const [did, v] of s.dests) {
      const pv = p.dests.get(did);
      if (pv) kept++;
      if (pv === v) continue;
      const ch = pv ? changedFields(pv, v) : nonZero(v);
      if (ch) dests.push({ id: did, v: ch });
    }
    // every previous real server still there: nothing removed (the common case, without a list per service)
    const removedDests = kept === p.dests.size ? NONE : [...p.dests.keys()].filter((did) => !s.dests.has(did));
    const v = changedFields(p.v, s.v);
    if (v || dests.length || removedDests.length) services.push({ id, v: v ?? {}, dests, removedDests });
  }
  return { seq, at, intervalMs, full: false, services, removed };
}
