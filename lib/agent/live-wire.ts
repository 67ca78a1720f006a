/**
 * Live stats on the WebSocket, and the browser's one copy of them.
 *
 * The agent computes every rate (lib/agent/samples.ts) and sends the values
 * a page shows: per service and per real server its rates and connection
 * counts. In object form a tick repeats every id and field name; on the wire
 * instead:
 *   - every service and real server gets a small number once (the first tick
 *     a client sees names all of its objects; later ones name only new ones);
 *   - a changed object is `number, mask, values...` in one flat number array,
 *     the mask saying which fields follow (bit i is LIVE_FIELDS[i]);
 *   - a delta carries only the fields that changed since the tick before.
 * Numbers are assigned by the encoder for the life of the agent and never
 * reused, so one encoding of a tick serves every subscriber. A full tick of a
 * large table goes out in pieces (`piecesOf`), so that no single message, and
 * no single task of the browser that applies it, holds the whole table.
 */
import type { StatSample, StatsState } from './events';

export const WIRE_VERSION = 5;

/** What a page shows of one object; bit i of a row's mask is LIVE_FIELDS[i]. */
export const LIVE_FIELDS = ['cps', 'inPps', 'outPps', 'inBps', 'outBps', 'active', 'inactive', 'persistent'] as const;
export type LiveField = (typeof LIVE_FIELDS)[number];
/** Rates (per second; bytes per second for the *Bps) as the agent computed them, and connection counts. */
export type LiveSample = Record<LiveField, number>;

export interface WireTick {
  /** format version */
  w: typeof WIRE_VERSION;
  seq: number;
  /** ms since epoch of the sample */
  at: number;
  /** ms covered by the rates */
  intervalMs: number;
  /** true: replace the client's state; false: apply to the state of tick seq-1 */
  full: boolean;
  /** names of objects new to the client: [num, serviceId] or [num, serviceNum, destinationId] */
  n: ([number, string] | [number, number, string])[];
  /** changed objects: num, mask, then one value per set bit */
  r: number[];
  /** numbers of removed objects (a removed service takes its real servers along) */
  x: number[];
  /** a piece of a full tick (0, 1, ...; absent: the whole tick); every piece has the tick's seq */
  part?: number;
  /** more pieces of this tick follow */
  more?: true;
}

/** Services and real servers per piece of a full tick. */
export const PIECE_OBJECTS = 1000;

/** Bits set in a row's mask: how many values follow it. */
function fieldsIn(mask: number): number {
  let n = 0;
  for (let b = 0; b < LIVE_FIELDS.length; b++) n += (mask >> b) & 1;
  return n;
}

/**
 * A full tick as pieces of at most `objects` objects each (itself when it has no more).
 * A full tick names every object and has one row per name, in the same order (TickEncoder.encode).
 */
export function piecesOf(full: WireTick, objects = PIECE_OBJECTS): WireTick[] {
  if (!full.full || full.part !== undefined) throw new Error('piecesOf takes a whole full tick');
  if (full.n.length <= objects) return [full];
  const pieces: WireTick[] = [];
  const r = full.r;
  let i = 0;
  for (let from = 0; from < full.n.length; from += objects) {
    const n = full.n.slice(from, from + objects);
    const start = i;
    for (const name of n) {
      if (r[i] !== name[0]) throw new Error(`full tick ${full.seq}: row ${r[i]} where ${name[0]} was named`);
      i += 2 + fieldsIn(r[i + 1]!);
    }
    const last = from + objects >= full.n.length;
    pieces.push({ ...full, n, r: r.slice(start, i), part: pieces.length, ...(last ? {} : { more: true as const }) });
  }
  return pieces;
}

/** The live fields of an agent sample, in LIVE_FIELDS order. */
function valuesOf(s: StatSample): number[] {
  return [s.rCps, s.rInPps, s.rOutPps, s.rInBps, s.rOutBps, s.active, s.inactive, s.persistent];
}

/** Appends a row: every field that differs from `prev` (every non-zero one without `prev`); nothing when none does. */
function pushRow(r: number[], num: number, s: StatSample, prev: StatSample | undefined, always: boolean): void {
  const vals = valuesOf(s);
  const old = prev ? valuesOf(prev) : null;
  let mask = 0;
  const start = r.length;
  r.push(num, 0);
  for (let i = 0; i < vals.length; i++) {
    const v = vals[i]!;
    if (old ? old[i] === v : v === 0) continue;
    mask |= 1 << i;
    r.push(v);
  }
  if (mask === 0 && !always) r.length = start;
  else r[start + 1] = mask;
}

/** The agent's side: numbers for ids, shared by every tick one encoder makes. */
export class TickEncoder {
  private next = 1;
  private readonly services = new Map<string, number>();
  private readonly dests = new Map<string, Map<string, number>>();

  private svcNum(id: string, out: WireTick): number {
    let n = this.services.get(id);
    if (n === undefined || out.full) {
      n ??= this.next++;
      this.services.set(id, n);
      out.n.push([n, id]);
    }
    return n;
  }

  private destNum(sid: string, sn: number, did: string, out: WireTick): number {
    let m = this.dests.get(sid);
    if (!m) this.dests.set(sid, (m = new Map()));
    let n = m.get(did);
    if (n === undefined || out.full) {
      n ??= this.next++;
      m.set(did, n);
      out.n.push([n, sn, did]);
    }
    return n;
  }

  /**
   * The tick from state `prev` to `next` (a full tick when `prev` is null).
   * Samples kept as the same object since `prev` (lib/agent/samples.ts keeps
   * an unchanged service whole) are skipped without a look at their fields.
   */
  encode(prev: StatsState | null, next: StatsState, seq: number, at: number, intervalMs: number): WireTick {
    const out: WireTick = { w: WIRE_VERSION, seq, at, intervalMs, full: prev === null, n: [], r: [], x: [] };
    if (prev) {
      for (const sid of prev.keys()) {
        if (next.has(sid)) continue;
        const n = this.services.get(sid);
        if (n !== undefined) out.x.push(n);
        // a service that comes back gets new numbers, so no client mixes the two
        this.services.delete(sid);
        this.dests.delete(sid);
      }
    }
    for (const [sid, s] of next) {
      const p = prev?.get(sid);
      if (p === s) continue;
      const sn = this.svcNum(sid, out);
      pushRow(out.r, sn, s.v, p?.v, !p);
      const dm = this.dests.get(sid);
      if (p && dm) {
        for (const [did, n] of dm) {
          if (s.dests.has(did)) continue;
          out.x.push(n);
          dm.delete(did);
        }
      }
      for (const [did, d] of s.dests) {
        const pd = p?.dests.get(did);
        if (pd === d) continue;
        pushRow(out.r, this.destNum(sid, sn, did, out), d, pd, !pd);
      }
    }
    return out;
  }
}

/** Anything with a format version is meant for LiveTable, which refuses versions it does not know. */
export function isWireTick(t: unknown): t is WireTick {
  return typeof t === 'object' && t !== null && 'w' in t;
}

export class WireDecodeError extends Error {}

export interface LiveObject {
  sid: string;
  /** null for a service */
  did: string | null;
  v: LiveSample;
  /** its wire number */
  num: number;
}

export interface LiveService extends LiveObject {
  dests: Map<string, LiveObject>;
}

const zero = (): LiveSample => ({ cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0, active: 0, inactive: 0, persistent: 0 });

/**
 * The browser's side: the live state itself, kept once. Objects are indexed
 * by id (for pages) and by wire number (for ticks); both point at the same
 * objects, whose values ticks overwrite in place. A first tick names every
 * object of the table (30,000 at 10,000 services): two maps and one object
 * per name, nothing more.
 */
export class LiveTable {
  readonly services = new Map<string, LiveService>();
  private readonly byNum = new Map<number, LiveObject>();
  /** the last whole tick applied (-1: none, or a full tick still coming in pieces) */
  seq = -1;
  at = 0;
  intervalMs = 0;
  /** the piece of a full tick expected next, while one is coming in */
  private expect: { seq: number; part: number } | null = null;

  /**
   * Applies one tick, or one piece of a full tick. Returns false (and changes
   * nothing) for a delta that does not follow the last tick applied, or a piece
   * that does not follow the last piece: the agent sends a full tick on resume.
   */
  apply(w: WireTick): boolean {
    if (w.w !== WIRE_VERSION) throw new WireDecodeError(`unknown tick format ${String(w.w)}`);
    const part = w.part ?? 0;
    if (w.full && part === 0) {
      this.services.clear();
      this.byNum.clear();
    } else if (w.full ? this.expect?.seq !== w.seq || this.expect.part !== part : this.seq === -1 || w.seq !== this.seq + 1) {
      return false;
    }
    for (const n of w.x) this.remove(n);
    for (const e of w.n) {
      if (e.length === 2) {
        const s: LiveService = { sid: e[1], did: null, v: zero(), num: e[0], dests: new Map() };
        this.services.set(e[1], s);
        this.byNum.set(e[0], s);
      } else {
        const s = this.byNum.get(e[1]);
        if (!s || s.did !== null) throw new WireDecodeError(`tick ${w.seq}: real server ${e[0]} names unknown service ${e[1]}`);
        const d: LiveObject = { sid: s.sid, did: e[2], v: zero(), num: e[0] };
        (s as LiveService).dests.set(e[2], d);
        this.byNum.set(e[0], d);
      }
    }
    const r = w.r;
    let i = 0;
    while (i < r.length) {
      const num = r[i++]!;
      const mask = r[i++]!;
      const o = this.byNum.get(num);
      if (!o) throw new WireDecodeError(`tick ${w.seq} has a row for unnamed object ${num}`);
      for (let b = 0; b < LIVE_FIELDS.length; b++) {
        if (!((mask >> b) & 1)) continue;
        if (i >= r.length) throw new WireDecodeError(`tick ${w.seq}: row of object ${num} is cut short`);
        o.v[LIVE_FIELDS[b]!] = r[i++]!;
      }
    }
    this.expect = w.more ? { seq: w.seq, part: part + 1 } : null;
    this.seq = w.more ? -1 : w.seq;
    this.at = w.at;
    this.intervalMs = w.intervalMs;
    return true;
  }

  private remove(n: number): void {
    const o = this.byNum.get(n);
    if (!o) return;
    this.byNum.delete(n);
    if (o.did === null) {
      this.services.delete(o.sid);
      for (const d of (o as LiveService).dests.values()) this.byNum.delete(d.num);
    } else {
      this.services.get(o.sid)?.dests.delete(o.did);
    }
  }
}
