/**
 * The agent's rate history: per service and per real server, the rates of
 * every tick for the last TICK_SLOTS ticks (15 minutes at one a second) and a
 * per-minute average for the last MINUTE_SLOTS minutes (24 hours).
 *
 * Memory is a fixed cost per series that ever carried traffic (BYTES_PER_SERIES,
 * typed arrays only) and a few dozen bytes for one that never did; the
 * store refuses to allocate past `maxBytes`. Every series shares one time
 * axis (the tick slot's time, the minute slot's minute), and rates are kept
 * as 16-bit log codes (within 0.05 % of the value), half of what Float32 costs.
 */

export const HISTORY_FIELDS = ['cps', 'inPps', 'outPps', 'inBps', 'outBps'] as const;
export type HistoryField = (typeof HISTORY_FIELDS)[number];
const F = HISTORY_FIELDS.length;

export const TICK_SLOTS = 900;
export const MINUTE_SLOTS = 1440;
export const MINUTE_MS = 60_000;

/** Codes per doubling of (1 + value): 2^(1/1489) - 1 ≈ 0.047 % between neighbouring codes. */
const K = 1489;
/** The largest code for a value (about 1.7e13, 136 Tbit/s); 0xffff means "not read this tick". */
const MAX_CODE = 0xfffe;
export const MISSING = 0xffff;

export function encodeRate(v: number): number {
  if (!(v > 0)) return 0;
  const c = Math.round(Math.log2(1 + v) * K);
  return c > MAX_CODE ? MAX_CODE : c;
}

export function decodeRate(c: number): number {
  return c === 0 ? 0 : 2 ** (c / K) - 1;
}

/** What one series with traffic costs: its codes, its minute accumulators, and the objects around them. */
export function bytesPerSeries(tickSlots: number, minuteSlots: number): number {
  return 2 * F * (tickSlots + minuteSlots) + 8 * F + SERIES_OVERHEAD;
}
/** A series object, its Map entry and the two typed arrays' headers (V8, measured loosely on the high side). */
const SERIES_OVERHEAD = 400;
/** A series that never carried traffic: its Map entry, key string and object. */
export const BYTES_PER_IDLE_SERIES = 200;

export interface Series {
  /** when the object was first seen: before it, the history has nothing */
  since: number;
  /** generation of the last tick that named it */
  seen: number;
  /** tick codes then minute codes, F per slot; null while every rate has been 0 */
  data: Uint16Array | null;
  /** this minute's rate × ms, per field */
  sums: Float64Array | null;
}

export interface ServiceSeries {
  /** null when the service itself was refused (maxBytes reached) */
  own: Series | null;
  dests: Map<string, Series>;
}

export interface HistoryOptions {
  tickSlots?: number;
  minuteSlots?: number;
  /** refuse to give more series storage past this many bytes (default 48 MiB) */
  maxBytes?: number;
}

export type HistoryRange = '15m' | '1h' | '24h';
export const RANGE_MS: Record<HistoryRange, number> = { '15m': 15 * 60_000, '1h': 60 * 60_000, '24h': 24 * 60 * 60_000 };

/** Points of one read: their times (end of what each rate covers) and the ms each covers. */
export interface HistoryAxis {
  at: number[];
  ms: number[];
}

/** One series over an axis: a value per point per field, null where it had none. */
export type HistoryValues = Record<HistoryField, (number | null)[]>;

/** Series key of a real server: its service's id, a space, its own id (neither contains a space). */
export function destinationKey(sid: string, did: string): string {
  return `${sid} ${did}`;
}

export class HistoryStore {
  readonly tickSlots: number;
  readonly minuteSlots: number;
  readonly maxBytes: number;
  readonly perSeries: number;
  /** time of each tick slot (NaN: empty) and the ms its rates cover */
  readonly tickAt: Float64Array;
  readonly tickMs: Float64Array;
  private tickNext = 0;
  /** the minute (ms / 60 000) each minute slot holds, -1 for none */
  readonly minuteOf: Float64Array;
  /** the minute being accumulated (-1 before the first tick) and the ms of ticks in it */
  private curMinute = -1;
  private minuteWeight = 0;
  /** by service id: its series and its real servers' (by real-server id) */
  readonly services = new Map<string, ServiceSeries>();
  private count = 0;
  private lastSid: string | null = null;
  private lastSvc: ServiceSeries | null = null;
  private gen = 0;
  private slot = -1;
  private weight = 0;
  private at = 0;
  private allocated = 0;
  /** series that had traffic but got no storage (maxBytes reached) since start */
  refused = 0;

  constructor(opts: HistoryOptions = {}) {
    this.tickSlots = opts.tickSlots ?? TICK_SLOTS;
    this.minuteSlots = opts.minuteSlots ?? MINUTE_SLOTS;
    this.maxBytes = opts.maxBytes ?? 48 * 1024 * 1024;
    this.perSeries = bytesPerSeries(this.tickSlots, this.minuteSlots);
    this.tickAt = new Float64Array(this.tickSlots).fill(Number.NaN);
    this.tickMs = new Float64Array(this.tickSlots);
    this.minuteOf = new Float64Array(this.minuteSlots).fill(-1);
  }

  /** Bytes held: the shared axes, every series with storage, and the idle ones' entries. */
  bytes(): number {
    return 16 * this.tickSlots + 8 * this.minuteSlots + this.allocated * this.perSeries + (this.count - this.allocated) * BYTES_PER_IDLE_SERIES;
  }

  /** Series with storage (they carried traffic in the time kept). */
  get storedSeries(): number {
    return this.allocated;
  }

  /** Starts a tick at `at` whose rates cover `intervalMs`; then put() each object and end(). */
  begin(at: number, intervalMs: number): void {
    // a tick belongs to the minute its interval's middle falls in (an idle sample taken at :00 covers the minute before)
    const m = Math.floor((at - intervalMs / 2) / MINUTE_MS);
    if (this.curMinute >= 0 && m !== this.curMinute) this.closeMinute();
    if (this.curMinute < 0 || m !== this.curMinute) this.curMinute = m;
    this.gen++;
    this.slot = this.tickNext;
    this.tickAt[this.slot] = at;
    this.tickMs[this.slot] = intervalMs;
    this.weight = intervalMs;
    this.minuteWeight += intervalMs;
    this.at = at;
  }

  /** One object's rates at this tick: a service (`did` null) or one of its real servers, after its service. */
  put(sid: string, did: string | null, cps: number, inPps: number, outPps: number, inBps: number, outBps: number): void {
    let svc = sid === this.lastSid ? this.lastSvc : this.services.get(sid);
    if (!svc) {
      svc = { own: null, dests: new Map() };
      this.services.set(sid, svc);
    }
    this.lastSid = sid;
    this.lastSvc = svc;
    let s = did === null ? svc.own : svc.dests.get(did);
    if (!s) {
      if (this.bytes() + BYTES_PER_IDLE_SERIES > this.maxBytes) {
        this.refused++;
        return;
      }
      s = { since: this.at - this.weight, seen: this.gen, data: null, sums: null };
      if (did === null) svc.own = s;
      else svc.dests.set(did, s);
      this.count++;
    }
    s.seen = this.gen;
    if (!s.data) {
      if (!(cps > 0 || inPps > 0 || outPps > 0 || inBps > 0 || outBps > 0)) return;
      if (!this.allocate(s)) return;
    }
    const d = s.data!;
    const sums = s.sums!;
    const i = this.slot * F;
    const w = this.weight;
    d[i] = encodeRate(cps);
    d[i + 1] = encodeRate(inPps);
    d[i + 2] = encodeRate(outPps);
    d[i + 3] = encodeRate(inBps);
    d[i + 4] = encodeRate(outBps);
    sums[0] = sums[0]! + cps * w;
    sums[1] = sums[1]! + inPps * w;
    sums[2] = sums[2]! + outPps * w;
    sums[3] = sums[3]! + inBps * w;
    sums[4] = sums[4]! + outBps * w;
  }

  /**
   * Ends the tick. `complete`: the tick named every object there is, so a
   * series it did not name has gone and is dropped; otherwise such a series
   * shows a hole at this tick.
   */
  end(complete: boolean): void {
    const i = this.slot * F;
    const gone = (s: Series): boolean => {
      if (s.seen === this.gen) return false;
      if (complete) {
        this.count--;
        if (s.data) this.allocated--;
        return true;
      }
      if (s.data) s.data.fill(MISSING, i, i + F);
      return false;
    };
    // by key, then get: a for-of over entries makes a [key, value] array per entry and a forEach a closure per
    // service, 5,000 and 1,000 a tick at 1,000 × 4: most of a quiet tick's garbage
    for (const sid of this.services.keys()) {
      const svc = this.services.get(sid)!;
      if (svc.own && gone(svc.own)) svc.own = null;
      for (const did of svc.dests.keys()) if (gone(svc.dests.get(did)!)) svc.dests.delete(did);
      if (complete && !svc.own && svc.dests.size === 0) this.services.delete(sid);
    }
    this.lastSid = null;
    this.lastSvc = null;
    this.tickNext = (this.slot + 1) % this.tickSlots;
  }

  private allocate(s: Series): boolean {
    if (this.bytes() + this.perSeries - BYTES_PER_IDLE_SERIES > this.maxBytes) {
      this.refused++;
      return false;
    }
    s.data = new Uint16Array(F * (this.tickSlots + this.minuteSlots));
    s.sums = new Float64Array(F);
    this.allocated++;
    return true;
  }

  private closeMinute(): void {
    const slot = this.curMinute % this.minuteSlots;
    const base = (this.tickSlots + slot) * F;
    const w = this.minuteWeight;
    for (const s of this.all()) {
      if (!s.data) continue;
      for (let f = 0; f < F; f++) {
        s.data[base + f] = w > 0 ? encodeRate(s.sums![f]! / w) : 0;
        s.sums![f] = 0;
      }
    }
    this.minuteOf[slot] = this.curMinute;
    this.minuteWeight = 0;
  }

  /** The last closed minute (-1: none yet). */
  get lastMinute(): number {
    return this.curMinute < 0 ? -1 : this.curMinute - 1;
  }

  /**
   * The axis of a read over `range` ending at `now`: for 15 minutes every tick
   * (and closed minutes older than the oldest tick, after a restart); for longer
   * ranges closed minutes only (the chart folds live ticks into minutes).
   */
  axis(range: HistoryRange, now: number): { axis: HistoryAxis; ticks: number[]; minutes: number[] } {
    const from = now - RANGE_MS[range];
    const ticks: number[] = [];
    if (range === '15m') {
      for (let k = 0; k < this.tickSlots; k++) {
        const slot = (this.tickNext + k) % this.tickSlots;
        const t = this.tickAt[slot]!;
        if (t >= from && t <= now) ticks.push(slot);
      }
    }
    const firstTick = ticks.length ? this.tickAt[ticks[0]!]! - this.tickMs[ticks[0]!]! : Infinity;
    const minutes: number[] = [];
    const last = Math.floor(now / MINUTE_MS) - 1;
    for (let m = Math.max(last - this.minuteSlots + 1, Math.floor(from / MINUTE_MS)); m <= last; m++) {
      const slot = m % this.minuteSlots;
      if (this.minuteOf[slot] !== m) continue;
      if ((m + 1) * MINUTE_MS > firstTick) break;
      minutes.push(slot);
    }
    const at: number[] = [];
    const ms: number[] = [];
    for (const slot of minutes) {
      at.push((this.minuteOf[slot]! + 1) * MINUTE_MS);
      ms.push(MINUTE_MS);
    }
    for (const slot of ticks) {
      at.push(this.tickAt[slot]!);
      ms.push(this.tickMs[slot]!);
    }
    return { axis: { at, ms }, ticks, minutes };
  }

  private *all(): Generator<Series> {
    for (const svc of this.services.values()) {
      if (svc.own) yield svc.own;
      yield* svc.dests.values();
    }
  }

  /** The series of a service (`did` null) or of one of its real servers; undefined when the store has none. */
  get(sid: string, did: string | null): Series | undefined {
    const svc = this.services.get(sid);
    return (did === null ? svc?.own : svc?.dests.get(did)) ?? undefined;
  }

  /** One series' values on an axis from axis(). */
  values(s: Series, a: { axis: HistoryAxis; ticks: number[]; minutes: number[] }): HistoryValues {
    const out = Object.fromEntries(HISTORY_FIELDS.map((f) => [f, new Array<number | null>(a.axis.at.length)])) as HistoryValues;
    const slots = [...a.minutes.map((m) => (this.tickSlots + m) * F), ...a.ticks.map((t) => t * F)];
    for (let p = 0; p < slots.length; p++) {
      // a point whose time ended before the object existed says nothing about it
      const before = a.axis.at[p]! <= s.since;
      for (let f = 0; f < F; f++) {
        const c = s.data ? s.data[slots[p]! + f]! : 0;
        out[HISTORY_FIELDS[f]!][p] = before || c === MISSING ? null : round(decodeRate(c));
      }
    }
    return out;
  }

  /** For the file: every series with storage, keyed as destinationKey() does. */
  *stored(): Generator<[string, Series]> {
    for (const [sid, svc] of this.services) {
      if (svc.own?.data) yield [sid, svc.own];
      for (const [did, d] of svc.dests) if (d.data) yield [destinationKey(sid, did), d];
    }
  }

  /**
   * Restores minutes kept in a file (lib/history/file.ts): the minute axis and
   * each series' minute codes. Call on an empty store, before the first tick.
   */
  restore(minuteOf: Float64Array, series: Iterable<{ key: string; since: number; minutes: Uint16Array }>): void {
    if (minuteOf.length !== this.minuteSlots) throw new Error(`history: ${minuteOf.length} minute slots, expected ${this.minuteSlots}`);
    this.minuteOf.set(minuteOf);
    for (const r of series) {
      const sp = r.key.indexOf(' ');
      const sid = sp < 0 ? r.key : r.key.slice(0, sp);
      const did = sp < 0 ? null : r.key.slice(sp + 1);
      if (this.get(sid, did)) continue;
      const s: Series = { since: r.since, seen: this.gen, data: null, sums: null };
      if (!this.allocate(s)) break;
      s.data!.set(r.minutes, this.tickSlots * F);
      let svc = this.services.get(sid);
      if (!svc) this.services.set(sid, (svc = { own: null, dests: new Map() }));
      if (did === null) svc.own = s;
      else svc.dests.set(did, s);
      this.count++;
    }
  }

  /** One series' minute codes (a view, F per slot). */
  minuteCodes(s: Series): Uint16Array {
    return s.data!.subarray(this.tickSlots * F);
  }
}

/** Three significant decimals are more than a chart or a tooltip shows, and keep the answer small. */
function round(v: number): number {
  return v >= 1000 ? Math.round(v) : Math.round(v * 1000) / 1000;
}
