/**
 * The compact form of stats ticks on the WebSocket. A tick in object form
 * repeats every id and field name; at 1,000 busy services that was about
 * 500 kB a tick. On the wire instead:
 *   - every service and destination gets a small number once (the first tick
 *     a client sees names all of its objects; later ones name only new ones);
 *   - a changed object is `number, mask, values...` in one flat number array,
 *     the mask saying which fields follow (in FIELD order);
 *   - in a delta, cumulative counters travel as increments over the previous
 *     tick (a few digits instead of up to 20).
 * Numbers are assigned by the encoder for the life of the agent and never
 * reused, so one encoding of a tick serves every subscriber.
 */
import { type ServiceTickRow, type StatSample, type StatsState, type StatsTick } from './events';

/** Field order on the wire (the mask's bit i is FIELD_ORDER[i]); append only. */
export const FIELD_ORDER = [
  'conns', 'inPkts', 'outPkts', 'inBytes', 'outBytes',
  'kCps', 'kInPps', 'kOutPps', 'kInBps', 'kOutBps',
  'rCps', 'rInPps', 'rOutPps', 'rInBps', 'rOutBps',
  'active', 'inactive', 'persistent',
] as const satisfies readonly (keyof StatSample)[];
/** Fields that are cumulative counters: increments in a delta. */
const COUNTER_BITS = 0b11111;

export interface WireTick {
  /** format version */
  w: 1;
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
}

export function isWireTick(t: unknown): t is WireTick {
  return typeof t === 'object' && t !== null && (t as { w?: unknown }).w === 1;
}

/** Numbers for ids, shared by every tick one encoder makes. */
export class TickEncoder {
  private next = 1;
  private readonly services = new Map<string, number>();
  private readonly dests = new Map<string, Map<string, number>>();

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
   * (its counters turn absolute values into increments); not needed for a full tick.
   */
  encode(tick: StatsTick, prev: StatsState | null): WireTick {
    const out: WireTick = { w: 1, seq: tick.seq, at: tick.at, intervalMs: tick.intervalMs, full: tick.full, n: [], r: [], x: [] };
    for (const id of tick.removed) {
      const n = this.services.get(id);
      if (n !== undefined) out.x.push(n);
      // a service that comes back gets new numbers, so no client mixes the two
      this.services.delete(id);
      this.dests.delete(id);
    }
    for (const row of tick.services) this.encodeService(row, tick.full ? null : prev, out);
    return out;
  }

  private encodeService(row: ServiceTickRow, prev: StatsState | null, out: WireTick): void {
    const p = prev?.get(row.id);
    const known = p !== undefined;
    const sn = this.svcNum(row.id);
    if (!known) out.n.push([sn, row.id]);
    push(out.r, sn, row.v, p?.v);
    const dm = this.dests.get(row.id);
    for (const did of row.removedDests) {
      const n = dm?.get(did);
      if (n !== undefined) out.x.push(n);
      dm?.delete(did);
    }
    for (const d of row.dests) {
      const pd = p?.dests.get(d.id);
      const dn = this.destNum(row.id, d.id);
      if (!pd) out.n.push([dn, sn, d.id]);
      push(out.r, dn, d.v, pd);
    }
  }
}

/** Appends one object's row; nothing when no field is set. Counters become increments over `base`. */
function push(r: number[], num: number, v: Partial<StatSample>, base: StatSample | undefined): void {
  let mask = 0;
  const vals: number[] = [];
  for (let i = 0; i < FIELD_ORDER.length; i++) {
    const f = FIELD_ORDER[i]!;
    const x = v[f];
    if (x === undefined) continue;
    mask |= 1 << i;
    vals.push(base && (COUNTER_BITS >> i) & 1 ? x - base[f] : x);
  }
  if (mask === 0) return;
  r.push(num, mask, ...vals);
}

export class WireDecodeError extends Error {}

/**
 * Turns wire ticks back into StatsTick (absolute values, string ids) for
 * applyStatsTick. Keeps what it needs of the client's state: the names and
 * the last counters of every object.
 */
export class TickDecoder {
  private names = new Map<number, { sid: string; did: string | null }>();
  private counters = new Map<number, number[]>();
  private byService = new Map<string, Set<number>>();
  private lastSeq = -1;

  /** null when a delta does not follow the last tick decoded (wait for a full tick). */
  decode(w: WireTick): StatsTick | null {
    if (w.w !== 1) throw new WireDecodeError(`unknown tick format ${String(w.w)}`);
    if (w.full) {
      this.names.clear();
      this.counters.clear();
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
    for (const n of w.x) {
      const name = this.names.get(n);
      if (!name) continue;
      if (name.did === null) {
        removed.push(name.sid);
        for (const d of this.byService.get(name.sid) ?? []) { this.names.delete(d); this.counters.delete(d); }
        this.byService.delete(name.sid);
      } else {
        rowOf(name.sid).removedDests.push(name.did);
        this.byService.get(name.sid)?.delete(n);
      }
      this.names.delete(n);
      this.counters.delete(n);
    }
    for (const e of w.n) {
      if (e.length === 2) {
        this.names.set(e[0], { sid: e[1], did: null });
        this.byService.set(e[1], new Set());
      } else {
        const svc = this.names.get(e[1]);
        if (!svc || svc.did !== null) throw new WireDecodeError(`destination ${e[0]} names unknown service ${e[1]}`);
        this.names.set(e[0], { sid: svc.sid, did: e[2] });
        this.byService.get(svc.sid)?.add(e[0]);
      }
    }
    const r = w.r;
    let i = 0;
    while (i < r.length) {
      const num = r[i++]!;
      const mask = r[i++]!;
      const name = this.names.get(num);
      if (!name) throw new WireDecodeError(`tick ${w.seq} has a row for unnamed object ${num}`);
      let c = this.counters.get(num);
      const fresh = c === undefined;
      if (!c) {
        c = [0, 0, 0, 0, 0];
        this.counters.set(num, c);
      }
      const v: Partial<StatSample> = {};
      for (let b = 0; b < FIELD_ORDER.length; b++) {
        if (!((mask >> b) & 1)) continue;
        if (i >= r.length) throw new WireDecodeError(`tick ${w.seq}: row of object ${num} is cut short`);
        const x = r[i++]!;
        if (b < 5) {
          // counters: absolute for an object the client did not have, else increments
          c[b] = fresh ? x : c[b]! + x;
          v[FIELD_ORDER[b]!] = c[b]!;
        } else {
          v[FIELD_ORDER[b]!] = x;
        }
      }
      const row = rowOf(name.sid);
      if (name.did === null) Object.assign(row.v, v);
      else row.dests.push({ id: name.did, v });
    }
    // objects named in this tick but without a row are all zeros; they must still appear
    for (const e of w.n) {
      const name = this.names.get(e[0])!;
      if (!this.counters.has(e[0])) this.counters.set(e[0], [0, 0, 0, 0, 0]);
      const row = rowOf(name.sid);
      if (name.did !== null && !row.dests.some((d) => d.id === name.did)) row.dests.push({ id: name.did, v: {} });
    }
    return { seq: w.seq, at: w.at, intervalMs: w.intervalMs, full: w.full, services: [...rows.values()], removed };
  }
}
