/**
 * The one sampler shared by every subscriber: it reads the kernel table once
 * per tick, computes per-object samples and rates, and fans out stats deltas
 * and table-change events. Subscribers never touch the kernel themselves, so
 * 50 clients cost the kernel what one does.
 *
 * The kernel has no all-destinations dump, so reading every real server's
 * counters costs one GET_DEST dump per service. With a `structure` source
 * (/proc/net/ip_vs) a tick costs one GET_SERVICE dump, one file read and at
 * most `destBudget` GET_DEST dumps whatever the table's size: services whose
 * real servers changed in the file go first, then the ones read longest ago.
 * See dest-sweep.ts.
 */
import type { Logger } from 'pino';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { ServiceEntry, ServiceKey } from '@/lib/ipvs/model';
import type { ProcIpvs } from '@/lib/proc/ip-vs';
import { DestSweep } from './dest-sweep';
import type { StatsState, StatsTick, TableChangeEvent } from '@/lib/agent/events';
import { deltaTick, fullTick, sampleTable } from '@/lib/agent/samples';
import { diffTables } from '@/lib/agent/table-diff';

export interface TableHubOptions {
  backend: IpvsBackend;
  log: Logger;
  tickMs?: number;
  /** change events kept for subscribers that resume with a lastEventId */
  keepEvents?: number;
  /**
   * Cheap read of the destination structure (/proc/net/ip_vs). Without it
   * every tick reads every service's destinations.
   */
  structure?: () => Promise<ProcIpvs>;
  /** GET_DEST dumps per tick when `structure` is given (default 32). */
  destBudget?: number;
}

interface Sample {
  seq: number;
  at: number;
  entries: ServiceEntry[];
  state: StatsState;
  /** from the previous sample to this one; null for the first */
  delta: StatsTick | null;
  intervalMs: number;
  full?: StatsTick;
}

/** Event ids carry the hub's epoch so ids from before an agent restart never match. */
function eventId(epoch: string, seq: number): string {
  return `${epoch}:${seq}`;
}

function parseEventId(epoch: string, id: string | null | undefined): number | null {
  if (!id) return null;
  const [e, s] = id.split(':');
  if (e !== epoch || s === undefined || !/^\d+$/.test(s)) return null;
  return Number(s);
}

export class TableHub {
  readonly tickMs: number;
  private readonly epoch = Date.now().toString(36);
  private current: Sample | null = null;
  private events: TableChangeEvent[] = [];
  /** seq of the newest event no longer held (resuming before it needs a resync) */
  private droppedUpTo = 0;
  private readonly keepEvents: number;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private failing = false;
  private closed = false;
  private readonly sweep: DestSweep | null;
  samples = 0;

  constructor(private readonly opts: TableHubOptions) {
    this.tickMs = opts.tickMs ?? 1000;
    this.keepEvents = opts.keepEvents ?? 256;
    this.sweep = opts.structure
      ? new DestSweep({ backend: opts.backend, structure: opts.structure, budget: opts.destBudget ?? 32 })
      : null;
  }

  /** Begin ticking. Idempotent. */
  start(): void {
    if (this.timer || this.closed) return;
    void this.sampleNow();
    this.timer = setInterval(() => void this.sampleNow(), this.tickMs);
    this.timer.unref();
  }

  latest(): ServiceEntry[] | null {
    return this.current?.entries ?? null;
  }

  /**
   * Sample now (after a write) so change events do not wait for the next
   * tick. `services` names what was written (null: every service), so its
   * destinations are re-read even where /proc shows no difference
   * (thresholds, tunnel settings, zeroed counters).
   */
  poke(services?: readonly (ServiceKey | null)[]): void {
    if (services) this.sweep?.markDirty(services);
    if (this.timer) void this.sampleNow();
  }

  /** Take one sample; concurrent calls share it, and a call during a sample schedules one more. */
  sampleNow(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.takeSample();
        } while (this.again && !this.closed);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  private async takeSample(): Promise<void> {
    let entries: ServiceEntry[];
    let destDtMs: ReadonlyMap<string, number | null> | undefined;
    try {
      if (this.sweep) ({ entries, destDtMs } = await this.sweep.read());
      else entries = await this.opts.backend.dump();
    } catch (err) {
      if (this.closed) return; // the backend is being closed under an in-flight sample
      // log the first failure of a run, not one per tick
      if (!this.failing) this.opts.log.error({ err }, 'cannot read the IPVS table');
      this.failing = true;
      return;
    }
    if (this.failing) this.opts.log.info('reading the IPVS table again');
    this.failing = false;
    const at = Date.now();
    const prev = this.current;
    const seq = (prev?.seq ?? 0) + 1;
    const intervalMs = prev ? at - prev.at : 0;
    const state = sampleTable(entries, prev?.state ?? null, intervalMs, destDtMs);
    const delta = prev ? deltaTick(prev.state, state, seq, at, intervalMs) : null;
    this.current = { seq, at, entries, state, delta, intervalMs };
    this.samples++;
    if (prev) {
      const changes = diffTables(prev.entries, entries);
      if (changes.length) {
        this.events.push({ seq, at, changes, resync: false });
        if (this.events.length > this.keepEvents) {
          const dropped = this.events.splice(0, this.events.length - this.keepEvents);
          this.droppedUpTo = dropped[dropped.length - 1]!.seq;
        }
      }
    }
    const ws = [...this.waiters];
    this.waiters.clear();
    for (const w of ws) w();
  }

  /** Resolves at the next sample, or when `signal` aborts (listener removed either way). */
  private nextSample(signal: AbortSignal | undefined): Promise<void> {
    return new Promise((resolve) => {
      if (signal?.aborted || this.closed) return resolve();
      const done = () => {
        this.waiters.delete(done);
        signal?.removeEventListener('abort', done);
        resolve();
      };
      this.waiters.add(done);
      signal?.addEventListener('abort', done, { once: true });
    });
  }

  private fullOf(s: Sample): StatsTick {
    return (s.full ??= fullTick(s.state, s.seq, s.at, s.intervalMs));
  }

  /**
   * Stats ticks for one subscriber: a full tick first (or after a gap), then
   * only what changed. A subscriber resuming from the tick just before the
   * current one gets the delta instead of everything.
   */
  async *stats(signal: AbortSignal | undefined, lastEventId?: string | null): AsyncGenerator<{ id: string; tick: StatsTick }> {
    let sent = parseEventId(this.epoch, lastEventId) ?? -1;
    while (!signal?.aborted && !this.closed) {
      const cur = this.current;
      if (cur && cur.seq !== sent) {
        const tick = sent === cur.seq - 1 && cur.delta ? cur.delta : this.fullOf(cur);
        sent = cur.seq;
        yield { id: eventId(this.epoch, cur.seq), tick };
        continue;
      }
      await this.nextSample(signal);
    }
  }

  /**
   * Table change events. A subscriber resuming from an id still held gets
   * what it missed; one resuming from an unknown id gets `resync`.
   */
  async *changes(signal: AbortSignal | undefined, lastEventId?: string | null): AsyncGenerator<{ id: string; event: TableChangeEvent }> {
    const resumed = parseEventId(this.epoch, lastEventId);
    let seen: number;
    if (resumed !== null && resumed >= this.droppedUpTo && resumed <= (this.current?.seq ?? 0)) {
      seen = resumed;
    } else {
      seen = this.current?.seq ?? 0;
      if (lastEventId) {
        yield { id: eventId(this.epoch, seen), event: { seq: seen, at: Date.now(), changes: [], resync: true } };
      }
    }
    while (!signal?.aborted && !this.closed) {
      const upTo = this.current?.seq ?? 0;
      const pending = this.events.filter((e) => e.seq > seen && e.seq <= upTo);
      for (const e of pending) yield { id: eventId(this.epoch, e.seq), event: e };
      seen = Math.max(seen, upTo);
      // samples taken while we were yielding are handled without waiting for another
      if ((this.current?.seq ?? 0) === upTo) await this.nextSample(signal);
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    for (const w of [...this.waiters]) w();
  }
}
