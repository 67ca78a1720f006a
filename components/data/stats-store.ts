/**
 * Live statistics of one director as the browser sees them: the agent's
 * ticks applied to one LiveTable (no rate logic here) plus short histories for sparklines (per
 * service) and a 15-minute history for per-server graphs (per destination) of the services a page
 * has graphed (`graph`): at 10,000 services, 15 minutes of every real server would be 300 MB of
 * rings, allocated by the first tick. Fixed-size typed rings, so memory does not grow with time;
 * none for a service whose rates were 0 all along.
 */
import { LiveTable, type LiveSample, type WireTick } from '@/lib/agent/live-wire';

export const SPARK_POINTS = 60;
export const GRAPH_POINTS = 900;

/** A ring of the last `size` values, oldest first when read. */
export class Ring {
  private readonly buf: Float64Array;
  private next = 0;
  private filled = 0;
  constructor(readonly size: number) {
    this.buf = new Float64Array(size);
  }
  push(v: number): void {
    this.buf[this.next] = v;
    this.next = (this.next + 1) % this.size;
    if (this.filled < this.size) this.filled++;
  }
  get length(): number {
    return this.filled;
  }
  toArray(): number[] {
    const out = new Array<number>(this.filled);
    const start = (this.next - this.filled + this.size) % this.size;
    for (let i = 0; i < this.filled; i++) out[i] = this.buf[(start + i) % this.size]!;
    return out;
  }
  /** Sum of the newest `n` values. */
  sumLast(n: number): number {
    let s = 0;
    const k = Math.min(n, this.filled);
    for (let i = 1; i <= k; i++) {
      const v = this.buf[(this.next - i + this.size) % this.size]!;
      if (!Number.isNaN(v)) s += v;
    }
    return s;
  }
}

export interface ServiceHistory {
  cps: Ring;
  pps: Ring;
  bps: Ring;
}

export interface DestinationHistory {
  cps: Ring;
  bps: Ring;
}

export class StatsStore {
  /** the live state, the one copy the browser keeps (rates as the agent computed them) */
  readonly table = new LiveTable();
  /** sparkline history by service id, from its first non-zero rate (none: idle all along) */
  readonly services = new Map<string, ServiceHistory>();
  /** per service id, per destination id: the services in `graphed` */
  readonly destinationsBySvc = new Map<string, Map<string, DestinationHistory>>();
  /** services whose real servers' history is kept, from the first time a page graphed them */
  private readonly graphed = new Set<string>();
  /** sample times (ms), shared by every GRAPH_POINTS ring */
  readonly times = new Ring(GRAPH_POINTS);
  /** bumps on every applied tick, for useSyncExternalStore */
  version = 0;
  private readonly listeners = new Set<() => void>();

  get lastSeq(): number {
    return this.table.seq;
  }

  get lastAt(): number {
    return this.table.at;
  }

  /** pieces of a full tick, and the ticks that came after them, not applied yet */
  private readonly queue: WireTick[] = [];

  /**
   * A tick from the agent; a delta that does not follow the previous tick is dropped (the agent sends a full tick on resume).
   * The pieces of a full tick are applied one per task (the browser may deliver several messages in one); the tick counts
   * once its last piece is in.
   */
  apply(tick: WireTick): void {
    if (tick.part === undefined && this.queue.length === 0) {
      this.applyNow(tick);
      return;
    }
    this.queue.push(tick);
    if (this.queue.length === 1) setTimeout(this.drain, 0);
  }

  private readonly drain = (): void => {
    while (this.queue.length > 0) {
      const tick = this.queue.shift()!;
      this.applyNow(tick);
      if (tick.part !== undefined && this.queue.length > 0) {
        setTimeout(this.drain, 0);
        return;
      }
    }
  };

  private applyNow(tick: WireTick): void {
    if (!this.table.apply(tick) || tick.more) return;
    this.times.push(tick.at);
    for (const [sid, svc] of this.table.services) {
      const v = svc.v;
      const cps = v.cps, pps = v.inPps + v.outPps, bps = v.inBps + v.outBps;
      let h = this.services.get(sid);
      if (!h) {
        // made on a service's first non-zero rate, with the zeros before it: most of a large table is idle
        if (cps === 0 && pps === 0 && bps === 0) continue;
        h = { cps: new Ring(SPARK_POINTS), pps: new Ring(SPARK_POINTS), bps: new Ring(SPARK_POINTS) };
        for (let i = Math.min(this.times.length - 1, SPARK_POINTS - 1); i > 0; i--) { h.cps.push(0); h.pps.push(0); h.bps.push(0); }
        this.services.set(sid, h);
      }
      h.cps.push(cps);
      h.pps.push(pps);
      h.bps.push(bps);
    }
    for (const sid of this.graphed) {
      const svc = this.table.services.get(sid);
      if (!svc) continue;
      let dmap = this.destinationsBySvc.get(sid);
      if (!dmap) {
        dmap = new Map();
        this.destinationsBySvc.set(sid, dmap);
      }
      for (const [did, d] of svc.dests) {
        let dh = dmap.get(did);
        if (!dh) {
          dh = { cps: new Ring(GRAPH_POINTS), bps: new Ring(GRAPH_POINTS) };
          // Pad so a destination that appears late lines up with the shared time axis.
          for (let i = 0; i < this.times.length - 1; i++) { dh.cps.push(Number.NaN); dh.bps.push(Number.NaN); }
          dmap.set(did, dh);
        }
        dh.cps.push(d.v.cps);
        dh.bps.push(d.v.inBps + d.v.outBps);
      }
    }
    // Forget histories only when something can have gone: a full tick or explicit removals.
    if (tick.full || tick.x.length > 0) {
      for (const sid of this.services.keys()) if (!this.table.services.has(sid)) this.services.delete(sid);
      for (const [sid, dmap] of this.destinationsBySvc) {
        const svc = this.table.services.get(sid);
        if (!svc) { this.destinationsBySvc.delete(sid); continue; }
        for (const did of dmap.keys()) if (!svc.dests.has(did)) dmap.delete(did);
      }
    }
    this.version++;
    for (const l of this.listeners) l();
  }

  subscribe = (l: () => void): (() => void) => {
    this.listeners.add(l);
    return () => this.listeners.delete(l);
  };

  getVersion = (): number => this.version;

  /** The sparkline of a service idle all along (no history kept): zeros, as many as a history would hold now. */
  idleSparkline(): readonly number[] {
    const n = Math.min(this.times.length, SPARK_POINTS);
    if (this.zeros.length !== n) this.zeros = Object.freeze(new Array<number>(n).fill(0));
    return this.zeros;
  }

  private zeros: readonly number[] = [];

  /** Keep the history of this service's real servers from the next tick on (a service page graphs them). */
  graph(sid: string): void {
    this.graphed.add(sid);
  }

  destination(sid: string, did: string): DestinationHistory | undefined {
    return this.destinationsBySvc.get(sid)?.get(did);
  }

  service(id: string): LiveSample | undefined {
    return this.table.services.get(id)?.v;
  }

  destinationSample(sid: string, did: string): LiveSample | undefined {
    return this.table.services.get(sid)?.dests.get(did)?.v;
  }
}

const stores = new Map<string, StatsStore>();

/** One store per director for the life of the tab, so history survives page changes. */
export function statsStoreFor(directorId: string): StatsStore {
  let s = stores.get(directorId);
  if (!s) {
    s = new StatsStore();
    stores.set(directorId, s);
  }
  return s;
}
