/**
 * The compact form of stats ticks on the WebSocket. A tick in object form
 * repeats every id and field name; at 1,000 busy services that was about
 * 500 kB a tick. On the wire instead:
 *   - every service and destination gets a small number once (the first tick
 *     a client sees names all of its objects; later ones name only new ones);
 *   - a changed object is `number, mask, values...` in one flat number array,
 *     the mask saying which fields follow (in FIELD_ORDER);
 *   - in a delta, cumulative counters travel as increments over the previous
 *     tick (a few digits instead of up to 20);
 *   - in a delta, Director's rates (r*) do not travel: the decoder computes
 *     them from the counters with the agent's own function (advanceRates),
 *     knowing which objects were read and over what time. That function
 *     keeps one number of state per object besides its last reading (how
 *     long its counters have stood still), which a full tick carries. A
 *     rate travels only where that computation would not give the agent's
 *     value (never, when the agent's samples come from sampleTable).
 * Numbers are assigned by the encoder for the life of the agent and never
 * reused, so one encoding of a tick serves every subscriber.
 */
import {
  advanceRates, COUNTER_FIELDS, DIRECTOR_RATE_FIELDS, HOLD_AGE_CAP_MS, KERNEL_RATE_FIELDS, type Counters, type DirectorRates, type KernelRates,
} from './director-rates';
import { EMPTY_SAMPLE, type ServiceTickRow, type StatSample, type StatsState, type StatsStateService, type StatsTick } from './events';

export const WIRE_VERSION = 3;

/**
 * Field order on the wire (the mask's bit i is FIELD_ORDER[i]): what a busy
 * object sends every tick comes first, so its mask stays a short number.
 */
export const FIELD_ORDER = [
  ...COUNTER_FIELDS,
  ...KERNEL_RATE_FIELDS,
  'active', 'inactive', 'persistent',
  ...DIRECTOR_RATE_FIELDS,
] as const satisfies readonly (keyof StatSample)[];
/** Fields that are cumulative counters (increments in a delta): bits 0..4. */
const COUNTERS = COUNTER_FIELDS.length;
const R_FIRST = FIELD_ORDER.indexOf(DIRECTOR_RATE_FIELDS[0]);
/**
 * Bit after the sample's fields: the object's hold age (advanceRates), in a
 * full tick where it is not the tick's `a`. An object new in a delta was
 * just read for the first time: age 0.
 */
const HOLD_BIT = FIELD_ORDER.length;

export interface WireTick {
  /** format version */
  w: typeof WIRE_VERSION;
  seq: number;
  at: number;
  intervalMs: number;
  /** true: replace the client's state; false: apply to the state of tick seq-1 */
  full: boolean;
  /** names of objects new to the client: [num, serviceId] or [num, serviceNum, destinationId] */
  n: ([number, string] | [number, number, string])[];
  /** changed objects: num, mask, then one value per set bit */
  r: number[];
  /** numbers of removed objects (a removed service takes its destinations along) */
  x: number[];
  /**
   * Delta only. Services' counters are read every tick, over intervalMs.
   * Their real servers' counters: absent, likewise; else only those of the
   * services listed here as `serviceNum, ms since their previous reading`
   * pairs were read (the others' counters and rates stay as they were).
   */
  d?: number[];
  /** Full only: the hold age of every object whose row does not give one (absent: HOLD_AGE_CAP_MS). */
  a?: number;
}

/** Anything with a format version is meant for TickDecoder, which refuses versions it does not know. */
export function isWireTick(t: unknown): t is WireTick {
  return typeof t === 'object' && t !== null && 'w' in t;
}

/** The real servers' reading interval of service `id` as sampleTable takes it (null: not read). */
function destDtOf(id: string, intervalMs: number, destDtMs: ReadonlyMap<string, number | null> | undefined): number | null {
  return destDtMs?.has(id) ? (destDtMs.get(id) ?? null) : intervalMs;
}

/** What advanceRates reads of an object after a change (a literal: this runs for every changed object every tick). */
function readingAfter(p: StatSample, c: Partial<StatSample>): Counters & KernelRates & DirectorRates {
  return {
    conns: c.conns ?? p.conns, inPkts: c.inPkts ?? p.inPkts, outPkts: c.outPkts ?? p.outPkts, inBytes: c.inBytes ?? p.inBytes, outBytes: c.outBytes ?? p.outBytes,
    kCps: c.kCps ?? p.kCps, kInPps: c.kInPps ?? p.kInPps, kOutPps: c.kOutPps ?? p.kOutPps, kInBps: c.kInBps ?? p.kInBps, kOutBps: c.kOutBps ?? p.kOutBps,
    rCps: c.rCps ?? p.rCps, rInPps: c.rInPps ?? p.rInPps, rOutPps: c.rOutPps ?? p.rOutPps, rInBps: c.rInBps ?? p.rInBps, rOutBps: c.rOutBps ?? p.rOutBps,
  };
}

function sameRates(a: DirectorRates, b: DirectorRates): boolean {
  return a.rCps === b.rCps && a.rInPps === b.rInPps && a.rOutPps === b.rOutPps && a.rInBps === b.rInBps && a.rOutBps === b.rOutBps;
}

/** Numbers for ids, shared by every tick one encoder makes. */
export class TickEncoder {
  private next = 1;
  private readonly services = new Map<string, number>();
  private readonly dests = new Map<string, Map<string, number>>();
  /**
   * Hold age by number, as every decoder that follows the delta stream holds
   * it (absent: 0); a full tick hands it to a joining client.
   */
  private readonly ages = new Map<number, number>();
  /** Rates a delta had to carry because the decoder's computation gives another value (0 for the hub's own samples). */
  explicitRates = 0;

  private svcNum(id: string): number {
    let n = this.services.get(id);
    if (n === undefined) {
      n = this.next++;
      this.services.set(id, n);
    }
    return n;
  }

  private destNum(sid: string, did: string): number {
    let m = this.dests.get(sid);
    if (!m) {
      m = new Map();
      this.dests.set(sid, m);
    }
    let n = m.get(did);
    if (n === undefined) {
      n = this.next++;
      m.set(did, n);
    }
    return n;
  }

  /**
   * `tick` as it goes on the wire. `prev` is the state the delta applies to
   * (its counters turn absolute values into increments, and rates are
   * computed from it); not needed for a full tick. `destDtMs` is what
   * sampleTable was given: which services' real servers were read, over
   * what time (absent: all, over intervalMs).
   */
  encode(tick: StatsTick, prev: StatsState | null, destDtMs?: ReadonlyMap<string, number | null>): WireTick {
    const out: WireTick = { w: WIRE_VERSION, seq: tick.seq, at: tick.at, intervalMs: tick.intervalMs, full: tick.full, n: [], r: [], x: [] };
    for (const id of tick.removed) {
      const n = this.services.get(id);
      if (n !== undefined) {
        out.x.push(n);
        this.ages.delete(n);
      }
      for (const dn of this.dests.get(id)?.values() ?? []) this.ages.delete(dn);
      // a service that comes back gets new numbers, so no client mixes the two
      this.services.delete(id);
      this.dests.delete(id);
    }
    const base = tick.full ? null : prev;
    const explicit = base ? this.advance(tick, base, destDtMs, out) : new Map<number, Partial<DirectorRates>>();
    const age = tick.full ? this.commonAge(tick) : null;
    if (age !== null && age !== HOLD_AGE_CAP_MS) out.a = age;
    for (const row of tick.services) this.encodeService(row, base, age, explicit, out);
    // objects that did not change but whose computed rates would
    for (const [num, rates] of explicit) push(out.r, num, {}, rates, undefined, null, false);
    return out;
  }

  /**
   * A service's samples (kept as the same object while nothing about it changes) whose every object was
   * settled for the decoder: rates 0, age at the cap. Advancing them again changes nothing, so a tick skips
   * them without a look at their real servers (at 1,000 services, most of the encoder's time under traffic).
   */
  private readonly settledServices = new WeakSet<StatsStateService>();

  /**
   * Runs the decoder's rate computation for every object it already has and
   * was read this tick, keeping the ages in step; returns, by number, the
   * rates that computation gets wrong (they must travel). Fills `out.d`.
   */
  private advance(tick: StatsTick, prev: StatsState, destDtMs: ReadonlyMap<string, number | null> | undefined, out: WireTick): Map<number, Partial<DirectorRates>> {
    const explicit = new Map<number, Partial<DirectorRates>>();
    const rows = new Map<string, ServiceTickRow>();
    for (const row of tick.services) rows.set(row.id, row);
    const removed = new Set(tick.removed);
    if (destDtMs) out.d = [];
    const predicted = { ...EMPTY_SAMPLE } as DirectorRates;
    /** true: unchanged, rates 0 and age at the cap, so the computation gives p again whatever the interval */
    const one = (num: number, p: StatSample, change: Partial<StatSample> | undefined, dtMs: number | null): boolean => {
      // unchanged and settled (rates 0, age saturated): the computation gives p again, and most of a large table is here
      if (!change && p.rCps === 0 && p.rInPps === 0 && p.rOutPps === 0 && p.rInBps === 0 && p.rOutBps === 0) {
        const atCap = (this.ages.get(num) ?? 0) >= HOLD_AGE_CAP_MS;
        if (dtMs === null || atCap) return atCap;
      }
      const cur = change ? readingAfter(p, change) : p;
      if (dtMs === null) {
        for (const f of DIRECTOR_RATE_FIELDS) predicted[f] = p[f];
      } else {
        const age = advanceRates(p, this.ages.get(num) ?? 0, cur, dtMs, predicted);
        if (age === 0) this.ages.delete(num);
        else this.ages.set(num, age);
      }
      if (sameRates(predicted, cur)) return false;
      const send: Partial<DirectorRates> = {};
      for (const f of DIRECTOR_RATE_FIELDS) {
        if (predicted[f] !== cur[f]) {
          send[f] = cur[f];
          this.explicitRates++;
        }
      }
      explicit.set(num, send);
      return false;
    };
    for (const [sid, p] of prev) {
      if (removed.has(sid)) continue;
      const row = rows.get(sid);
      const sn = this.svcNum(sid);
      const dt = p.dests.size === 0 ? null : destDtOf(sid, tick.intervalMs, destDtMs);
      // the same samples as a tick that found every object settled, and nothing new: nothing to compute, and
      // no interval to send (a decoder that skips them gets what advancing them gives: rates 0, age at the cap);
      // sent for every service read, the intervals were 9 of the 10 kB of a tick under traffic at 1,000 services
      if (!row && this.settledServices.has(p)) continue;
      if (dt !== null) out.d?.push(sn, dt);
      let settled = one(sn, p.v, row?.v, tick.intervalMs) && !row;
      if (p.dests.size > 0) {
        const changes = row && new Map(row.dests.map((d) => [d.id, d.v]));
        for (const [did, pd] of p.dests) {
          if (row?.removedDests.includes(did)) continue;
          settled = one(this.destNum(sid, did), pd, changes?.get(did), dt) && settled;
        }
      }
      if (settled) this.settledServices.add(p);
    }
    return explicit;
  }

  /**
   * The most frequent hold age in a full tick, which then need not travel per
   * object: after a start every age is 0, later most objects are idle (at the cap).
   */
  private commonAge(tick: StatsTick): number {
    const count = new Map<number, number>([[HOLD_AGE_CAP_MS, 0]]);
    const one = (num: number) => {
      const a = this.ages.get(num) ?? 0;
      count.set(a, (count.get(a) ?? 0) + 1);
    };
    // the same numbering order as encodeService, so nothing is numbered differently
    for (const row of tick.services) {
      one(this.svcNum(row.id));
      for (const d of row.dests) one(this.destNum(row.id, d.id));
    }
    let best = HOLD_AGE_CAP_MS;
    for (const [a, n] of count) if (n > count.get(best)!) best = a;
    return best;
  }

  /** `fullAge`: in a full tick, the age its objects have unless their row says otherwise; null in a delta. */
  private encodeService(row: ServiceTickRow, prev: StatsState | null, fullAge: number | null, explicit: Map<number, Partial<DirectorRates>>, out: WireTick): void {
    const p = prev?.get(row.id);
    const known = p !== undefined;
    const sn = this.svcNum(row.id);
    if (!known) out.n.push([sn, row.id]);
    this.encodeObject(sn, row.v, p?.v, fullAge, explicit, out);
    const dm = this.dests.get(row.id);
    for (const did of row.removedDests) {
      const n = dm?.get(did);
      if (n !== undefined) {
        out.x.push(n);
        this.ages.delete(n);
      }
      dm?.delete(did);
    }
    for (const d of row.dests) {
      const pd = p?.dests.get(d.id);
      const dn = this.destNum(row.id, d.id);
      if (!pd) out.n.push([dn, sn, d.id]);
      this.encodeObject(dn, d.v, pd, fullAge, explicit, out);
    }
  }

  private encodeObject(num: number, v: Partial<StatSample>, base: StatSample | undefined, fullAge: number | null, explicit: Map<number, Partial<DirectorRates>>, out: WireTick): void {
    let age: number | null = null;
    let rates: Partial<DirectorRates> | undefined;
    if (base) {
      rates = explicit.get(num);
      explicit.delete(num);
    } else {
      // new to the client: its rates are state, not a computation's result
      rates = {};
      for (const f of DIRECTOR_RATE_FIELDS) if (v[f] !== undefined) rates[f] = v[f];
      if (fullAge !== null) {
        const a = this.ages.get(num) ?? 0;
        if (a !== fullAge) age = a;
      } else {
        this.ages.delete(num);
      }
    }
    // an object whose only change is computed still gets its (empty) row, so the decoded tick keeps its order
    push(out.r, num, v, rates, base, age, Object.keys(v).length > 0);
  }
}

/**
 * Appends one object's row: `v`'s fields but the rates, which come from
 * `rates`; nothing when no field is set unless `always`. Counters become
 * increments over `base`.
 */
function push(r: number[], num: number, v: Partial<StatSample>, rates: Partial<DirectorRates> | undefined, base: StatSample | undefined, age: number | null, always: boolean): void {
  let mask = 0;
  const vals: number[] = [];
  for (let i = 0; i < FIELD_ORDER.length; i++) {
    const f = FIELD_ORDER[i]!;
    const x = i < R_FIRST ? v[f] : rates?.[f as keyof DirectorRates];
    if (x === undefined) continue;
    mask |= 1 << i;
    vals.push(base && i < COUNTERS ? x - base[f] : x);
  }
  if (age !== null) {
    mask |= 1 << HOLD_BIT;
    vals.push(age);
  }
  if (mask === 0 && !always) return;
  r.push(num, mask, ...vals);
}

export class WireDecodeError extends Error {}

interface DecodedObject {
  sid: string;
  /** null for a service */
  did: string | null;
  /** the service's number (its own for a service) */
  svc: number;
  /** the client's values in FIELD_ORDER, rates included (an array: this runs for every object every tick) */
  vals: number[];
  /** hold age (advanceRates) */
  age: number;
  /** seq of the tick that named it */
  born: number;
  /** seq of the last tick that had its row */
  seen: number;
}

const R = R_FIRST;
/** Counters and the kernel's rates (FIELD_ORDER 0..9), what advanceRates reads of a new reading. */
function countersOf(a: number[]): Counters & KernelRates {
  return {
    conns: a[0]!, inPkts: a[1]!, outPkts: a[2]!, inBytes: a[3]!, outBytes: a[4]!,
    kCps: a[5]!, kInPps: a[6]!, kOutPps: a[7]!, kInBps: a[8]!, kOutBps: a[9]!,
  };
}
function readingOf(a: number[]) {
  return {
    conns: a[0]!, inPkts: a[1]!, outPkts: a[2]!, inBytes: a[3]!, outBytes: a[4]!,
    rCps: a[R]!, rInPps: a[R + 1]!, rOutPps: a[R + 2]!, rInBps: a[R + 3]!, rOutBps: a[R + 4]!,
  };
}

/**
 * Turns wire ticks back into StatsTick (absolute values, string ids) for
 * applyStatsTick. Keeps what it needs of the client's state: the names, the
 * last values and the hold age of every object.
 */
export class TickDecoder {
  private objects = new Map<number, DecodedObject>();
  /** service number -> its destinations' numbers */
  private byService = new Map<number, Set<number>>();
  private lastSeq = -1;

  /** null when a delta does not follow the last tick decoded (wait for a full tick). */
  decode(w: WireTick): StatsTick | null {
    if (w.w !== WIRE_VERSION) throw new WireDecodeError(`unknown tick format ${String(w.w)}`);
    if (w.full) {
      this.objects.clear();
      this.byService.clear();
    } else if (this.lastSeq === -1 || w.seq !== this.lastSeq + 1) {
      return null;
    }
    this.lastSeq = w.seq;
    const removed: string[] = [];
    const rows = new Map<string, ServiceTickRow>();
    const rowOf = (sid: string) => {
      let row = rows.get(sid);
      if (!row) {
        row = { id: sid, v: {}, dests: [], removedDests: [] };
        rows.set(sid, row);
      }
      return row;
    };
    const emit = (o: DecodedObject, v: Partial<StatSample>) => {
      const row = rowOf(o.sid);
      if (o.did === null) Object.assign(row.v, v);
      else row.dests.push({ id: o.did, v });
    };
    for (const n of w.x) {
      const o = this.objects.get(n);
      if (!o) continue;
      if (o.did === null) {
        removed.push(o.sid);
        for (const d of this.byService.get(n) ?? []) this.objects.delete(d);
        this.byService.delete(n);
      } else {
        rowOf(o.sid).removedDests.push(o.did);
        this.byService.get(o.svc)?.delete(n);
      }
      this.objects.delete(n);
    }
    const newAge = w.full ? (w.a ?? HOLD_AGE_CAP_MS) : 0;
    const zeros = () => new Array<number>(FIELD_ORDER.length).fill(0);
    for (const e of w.n) {
      if (e.length === 2) {
        this.objects.set(e[0], { sid: e[1], did: null, svc: e[0], vals: zeros(), age: newAge, born: w.seq, seen: -1 });
        this.byService.set(e[0], new Set());
      } else {
        const svc = this.objects.get(e[1]);
        if (!svc || svc.did !== null) throw new WireDecodeError(`destination ${e[0]} names unknown service ${e[1]}`);
        this.objects.set(e[0], { sid: svc.sid, did: e[2], svc: e[1], vals: zeros(), age: newAge, born: w.seq, seen: -1 });
        this.byService.get(e[1])!.add(e[0]);
      }
    }
    let destDt: Map<number, number> | null = null;
    if (!w.full && w.d) {
      destDt = new Map();
      for (let i = 0; i + 1 < w.d.length; i += 2) destDt.set(w.d[i]!, w.d[i + 1]!);
    }
    const dtOf = (o: DecodedObject): number | null => (o.did === null || !destDt ? w.intervalMs : (destDt.get(o.svc) ?? null));
    const computed = { ...EMPTY_SAMPLE } as DirectorRates;
    /**
     * A known object's new reading, its other fields already in `o.vals`: rates computed unless
     * they travelled (bits in `sent`); changed ones go to `v`. Returns whether any did.
     */
    const advance = (o: DecodedObject, prev: Counters & DirectorRates, sent: number, v: Partial<StatSample>): boolean => {
      const dt = dtOf(o);
      const a = o.vals;
      if (dt !== null) o.age = advanceRates(prev, o.age, countersOf(a), dt, computed);
      else for (const f of DIRECTOR_RATE_FIELDS) computed[f] = prev[f];
      let changed = false;
      for (let k = 0; k < DIRECTOR_RATE_FIELDS.length; k++) {
        const f = DIRECTOR_RATE_FIELDS[k]!;
        if (!((sent >> (R + k)) & 1)) a[R + k] = computed[f];
        if (a[R + k] !== prev[f]) {
          v[f] = a[R + k];
          changed = true;
        }
      }
      return changed;
    };

    const r = w.r;
    let i = 0;
    while (i < r.length) {
      const num = r[i++]!;
      const mask = r[i++]!;
      const o = this.objects.get(num);
      if (!o) throw new WireDecodeError(`tick ${w.seq} has a row for unnamed object ${num}`);
      const fresh = o.born === w.seq;
      o.seen = w.seq;
      const a = o.vals;
      const prev = fresh ? null : readingOf(a);
      const v: Partial<StatSample> = {};
      let changed = false;
      for (let b = 0; b <= HOLD_BIT; b++) {
        if (!((mask >> b) & 1)) continue;
        if (i >= r.length) throw new WireDecodeError(`tick ${w.seq}: row of object ${num} is cut short`);
        const x = r[i++]!;
        if (b === HOLD_BIT) {
          o.age = x;
          continue;
        }
        // counters: absolute for an object the client did not have, else increments
        a[b] = b < COUNTERS && !fresh ? a[b]! + x : x;
        if (fresh || b < R) {
          v[FIELD_ORDER[b]!] = a[b]!;
          changed = true;
        }
      }
      if (prev) {
        // an age that travelled is the one after this reading
        const age = (mask >> HOLD_BIT) & 1 ? o.age : null;
        if (advance(o, prev, mask, v)) changed = true;
        if (age !== null) o.age = age;
      }
      if (fresh || changed) emit(o, v);
    }
    // objects named in this tick but without a row are all zeros; they must still appear
    for (const e of w.n) {
      const o = this.objects.get(e[0])!;
      if (o.seen === w.seq) continue;
      o.seen = w.seq;
      emit(o, {});
    }
    if (!w.full) {
      // read objects without a row: their counters stood still, and their hold ages grow
      const still = (o: DecodedObject | undefined) => {
        if (!o || o.seen === w.seq) return;
        const v: Partial<StatSample> = {};
        // the encoder sends a row for every object whose rates change, so this is for safety only
        if (advance(o, readingOf(o.vals), 0, v)) emit(o, v);
      };
      for (const [sn, dests] of this.byService) {
        still(this.objects.get(sn));
        if (!destDt || destDt.has(sn)) for (const dn of dests) still(this.objects.get(dn));
      }
    }
    return { seq: w.seq, at: w.at, intervalMs: w.intervalMs, full: w.full, services: [...rows.values()], removed };
  }
}
