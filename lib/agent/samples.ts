/**
 * Per-tick samples of the IPVS table, with the rates the agent computes once
 * for every console (lib/agent/live-wire.ts sends them as values). Pure: the
 * agent's hub feeds it the sampler's reads; tests feed it literals.
 */
import type { DestinationState, ServiceEntry, Stats } from '../ipvs/model';
import { HOLD_AGE_CAP_MS, advanceRates, roundRate, sameCounters } from './director-rates';
import type { StatSample, StatsState, StatsStateService } from './events';
import { keptDestinationId, keptServiceId } from '../ipvs/ids';

export { ESTIMATOR_PERIOD_MS, roundRate } from './director-rates';

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
    // the encoder skips what is identical); a service with nothing new is kept whole
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
 * The service's samples that an entry object was last found to keep whole. The sampler hands out the same
 * frozen entry while nothing about the service changed, and samples are never modified, so the check
 * stands, and keepsWhole over every real server is not run again for a service that did not change. One map per kind of check: a check with counters read (`keptRead`)
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
