/**
 * The agent's one view of the IPVS table: it reads the kernel once per tick,
 * computes per-object samples and rates (the only place rates are computed),
 * and serves the result three ways: as the table services.list/get answer
 * with (each service stamped with when its parts were read: served-table.ts),
 * as change events carrying the changed services (change-feed.ts), and as
 * stats ticks in wire form. This file is the loop: when to sample, what a
 * sample keeps, who is told, and how fresh a served table must be. Nothing
 * else reads the table for a reader, so 50 clients cost the kernel what one does.
 *
 * The kernel has no all-destinations dump, so reading every real server's
 * counters costs one GET_DEST dump per service. With a `structure` source
 * (/proc/net/ip_vs) the sampler (sampler.ts) reads the table at a per-tick
 * cost that does not grow with its size; without one, every tick is a full dump.
 */
import type { Logger } from 'pino';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { DestinationSpec, ServiceEntry, ServiceKey } from '@/lib/ipvs/model';
import { sameDestinationConfig } from '@/lib/ipvs/config';
import type { ProcIpvs } from '@/lib/proc/ip-vs';
import { Sampler, procIpvsFile, procTotalsFile, type Reading, type SamplerOptions } from './sampler';
import type { ServedService, StatsState, TableChangeEvent } from '@/lib/agent/events';
import { formatServiceKey } from '@/lib/ipvs/format';
import { IpvsError } from '@/lib/ipvs/errors';
import { isSettled, sampleTable } from '@/lib/agent/samples';
import { diffTables } from '@/lib/agent/table-diff';
import { piecesOf, TickEncoder, WIRE_VERSION, type WireTick } from '@/lib/agent/live-wire';
import type { CompactTable } from '@/lib/agent/table-compact';
import { ServedTable } from './served-table';
import { ChangeFeed } from './change-feed';

export interface TableHubOptions {
  backend: IpvsBackend;
  log: Logger;
  tickMs?: number;
  /** change events kept for subscribers that resume with a lastEventId */
  keepEvents?: number;
  /**
   * Cheap read of the destination structure (/proc/net/ip_vs): with it the
   * sampler reads the table; without it every tick reads every service's
   * destinations.
   */
  structure?: () => Promise<ProcIpvs>;
  /** The namespace's totals (/proc/net/ip_vs_stats), for the sampler. */
  totals?: SamplerOptions['totals'];
  /** For the sampler: see lib/agent/sampler-knobs.ts. */
  destBudget?: number;
  /**
   * With no subscriber, sample only this often (ms; default 60 s) so /metrics and
   * /healthz stay roughly current without the cost of a tick every second.
   */
  idleSampleMs?: number;
  /**
   * How often the services a console shows (watched) are checked for a change made by another tool
   * (ipvsadm), ms; default a quarter tick. A change found is sampled at once rather than at the next tick.
   */
  watchCheckMs?: number;
}

/**
 * Told of every sample (the outside-change watch, server/table/outside.ts):
 * the one point where table changes noticed by the hub reach anything else.
 */
export interface TableWatcher {
  /** A sample begins; what it returns comes back to `sampled`. */
  starting(): unknown;
  /**
   * The sample ended. `changed`: its configuration differs from the last
   * one's (always true for the first); `complete`: no service was left out.
   */
  sampled(token: unknown, entries: readonly ServiceEntry[], info: { changed: boolean; complete: boolean }): void;
}

/** One sample as listeners see it (server/live/history.ts records it). */
export interface SampleNote {
  at: number;
  /** ms the rates cover; 0 for the first sample */
  intervalMs: number;
  state: StatsState;
  /** the sample holds every service there is (none left out by the sampler) */
  complete: boolean;
}

interface Sample {
  seq: number;
  state: StatsState;
  /** from the previous sample to this one, in wire form; null for the first */
  delta: WireTick | null;
  intervalMs: number;
  /** the full tick of this sample, in pieces (lib/agent/live-wire.ts piecesOf) */
  full?: WireTick[];
  /** memo of isSettled(state) */
  settled?: boolean;
  /** services the sampler left out (their real servers not read yet) */
  missing: number;
  /** the table read, as the API serves it: its time, entries and which services' counters are behind */
  table: ServedTable;
}

/** The same real servers in the same order, configured alike (counters aside). */
function sameDestinationsConfig(a: readonly DestinationSpec[], b: readonly DestinationSpec[]): boolean {
  return a.length === b.length && a.every((d, i) => sameDestinationConfig(d, b[i]!));
}

const NONE_BEHIND: ReadonlyMap<string, number> = new Map();

export class TableHub {
  readonly tickMs: number;
  private current: Sample | null = null;
  private readonly feed: ChangeFeed;
  private waiters = new Set<() => void>();
  private timer: NodeJS.Timeout | null = null;
  private watchTimer: NodeJS.Timeout | null = null;
  private checking = false;
  private readonly watchCheckMs: number;
  private running: Promise<void> | null = null;
  /** when the last sample started (Date.now()): the timer skips a tick that one just took */
  private lastStartedAt = 0;
  private again = false;
  /** the next sample reads every service's real servers (a caller asked for a fresh table) */
  private wantAll = false;
  /** a write happened since the last sample started: the table served must be read again first */
  private stale = false;
  private failing = false;
  private lastError: unknown = null;
  private closed = false;
  private readonly sampler: Sampler | null;
  /** the last reading's services whose real servers' counters were behind it (see Reading.behind) */
  private lastBehind: ReadonlyMap<string, number> = new Map();
  private readonly encoder = new TickEncoder();
  /** subscribers of stats or change events: with none, the hub samples only every idleSampleMs */
  private demand = 0;
  /** service id -> number of subscribers watching it (their destinations are read every tick) */
  private readonly watched = new Map<string, number>();
  private readonly idleSampleMs: number;
  private watcher: TableWatcher | null = null;
  private readonly listeners: ((s: SampleNote) => void)[] = [];
  samples = 0;
  /** samples that found the table unchanged and settled, and cost no sampling or encoding */
  quietSamples = 0;

  constructor(private readonly opts: TableHubOptions) {
    this.tickMs = opts.tickMs ?? 1000;
    this.feed = new ChangeFeed(opts.keepEvents ?? 256);
    this.idleSampleMs = opts.idleSampleMs ?? 60_000;
    this.watchCheckMs = opts.watchCheckMs ?? this.tickMs / 4;
    this.sampler = opts.structure
      ? new Sampler({ backend: opts.backend, structure: opts.structure, totals: opts.totals, destBudget: opts.destBudget })
      : null;
  }

  /** Begin ticking. Idempotent. */
  start(): void {
    if (this.timer || this.closed) return;
    void this.sampleNow();
    this.timer = setInterval(() => {
      // a sample started less than half a tick ago (a subscriber joining between two timer ticks) is this tick's:
      // another one now would give rates over a fraction of a tick
      if (Date.now() - this.lastStartedAt < this.tickMs / 2) return;
      // nobody is watching: no per-second kernel reads, just an occasional refresh
      if (this.demand > 0 || !this.current || Date.now() - this.current.table.at >= this.idleSampleMs - this.tickMs / 2) void this.sampleNow();
    }, this.tickMs);
    this.timer.unref();
    this.checkWatchedWhileAny();
  }

  /** The check between ticks runs only while a console shows a service: each wake-up is system calls (a trap each in user-mode Linux). */
  private checkWatchedWhileAny(): void {
    if (this.timer && this.watched.size > 0) {
      this.watchTimer ??= setInterval(() => void this.checkWatched(), this.watchCheckMs);
      this.watchTimer.unref();
    } else if (this.watchTimer) {
      clearInterval(this.watchTimer);
      this.watchTimer = null;
    }
  }

  /**
   * What a console shows, checked between ticks: each watched service's real servers (one GET_DEST) against
   * the table served. One another tool changed (a weight, a server added or removed) is sampled now, so an
   * open page shows the change within a fraction of a tick plus one sample, not up to a whole tick later.
   * The service's own settings wait for the tick: a GET_SERVICE more each check doubled its cost.
   */
  private async checkWatched(): Promise<void> {
    const cur = this.current;
    if (this.checking || this.running || this.closed || this.demand === 0 || this.watched.size === 0 || !cur) return;
    // a sample that just ended has read them
    if (Date.now() - cur.table.at < this.watchCheckMs) return;
    this.checking = true;
    try {
      for (const id of this.watched.keys()) {
        const e = cur.table.entry(id);
        if (!e) continue;
        const dests = await this.opts.backend.listDestinations(e.key);
        if (this.current !== cur) return; // sampled meanwhile
        if (!sameDestinationsConfig(dests, e.destinations)) {
          this.poke([e.key]);
          return;
        }
      }
    } catch {
      // gone, or the kernel did not answer: the next sample says which
    } finally {
      this.checking = false;
    }
  }

  /** Subscribers of stats or change events right now. */
  get subscribers(): number {
    return this.demand;
  }

  /** The latest table, sampled now if the last sample is older than `maxAgeMs`. */
  async fresh(maxAgeMs: number): Promise<readonly ServiceEntry[] | null> {
    if (!this.current || Date.now() - this.current.table.at > maxAgeMs) await this.sampleNow();
    return this.latest();
  }

  /** Counts a subscriber for the life of a generator; a first one after a quiet spell gets a fresh sample. */
  private join(watch: readonly string[] = []): () => void {
    this.demand++;
    for (const id of watch) this.watched.set(id, (this.watched.get(id) ?? 0) + 1);
    if (watch.length) {
      this.sampler?.watch(this.watched.keys());
      this.checkWatchedWhileAny();
    }
    // a sample already running is fresh enough: a page joins with two subscriptions at once, and a second
    // sample straight after the first would make the next rates come from milliseconds of time
    if (this.timer && !this.running && (!this.current || Date.now() - this.current.table.at > this.tickMs)) void this.sampleNow();
    let left = false;
    return () => {
      if (left) return;
      left = true;
      this.demand--;
      for (const id of watch) {
        const n = (this.watched.get(id) ?? 1) - 1;
        if (n > 0) this.watched.set(id, n);
        else this.watched.delete(id);
      }
      if (watch.length) {
        this.sampler?.watch(this.watched.keys());
        this.checkWatchedWhileAny();
      }
    };
  }

  latest(): readonly ServiceEntry[] | null {
    return this.current?.table.entries ?? null;
  }

  /**
   * The table as the API serves it: the latest sample, each service stamped
   * with when its parts were read (every tick while someone subscribes, every
   * idleSampleMs otherwise). It is read again first after a write through the
   * agent, when it lacks services whose real servers were never read, or when
   * older than `maxAgeMs` if the caller gives one: a read of a large table
   * costs more than serving it, so a caller that needs a bound says so.
   * `fresh`: read every service's real servers now (one GET_DEST dump each),
   * which refreshes the hub for every subscriber too.
   */
  async table(opts: { fresh?: boolean; maxAgeMs?: number } = {}): Promise<ServedService[]> {
    return (await this.sampleFor(opts)).table.services();
  }

  /** table() in compact form (lib/agent/table-compact.ts): the same information, a twentieth of the JSON at 10,000 × 4. */
  async compactTable(opts: { fresh?: boolean; maxAgeMs?: number } = {}): Promise<CompactTable> {
    return (await this.sampleFor(opts)).table.compact();
  }

  /** One service as served (see table()); `fresh` reads its real servers now. Throws service_not_found. */
  async service(key: ServiceKey, opts: { fresh?: boolean; maxAgeMs?: number } = {}): Promise<ServedService> {
    if (opts.fresh) this.sampler?.changed([key]);
    const s = await this.sampleFor({ maxAgeMs: opts.fresh ? -1 : opts.maxAgeMs });
    const found = s.table.get(key);
    if (!found) throw new IpvsError('service_not_found', `virtual service ${formatServiceKey(key)} does not exist`);
    return found;
  }

  private async sampleFor(opts: { fresh?: boolean; maxAgeMs?: number }): Promise<Sample> {
    const cur = this.current;
    if (opts.fresh) await this.sampleNow(true);
    // older than the caller allows, a sample may miss what another tool (ipvsadm) changed: read again (the
    // sampler's cheap path: /proc totals and structure, dumps only where something moved)
    else if (!cur || this.stale || cur.missing > 0 || (opts.maxAgeMs !== undefined && Date.now() - cur.table.at > opts.maxAgeMs)) {
      await this.sampleNow();
      if (this.current && this.current.missing > 0) await this.sampleNow(true);
    }
    if (this.failing || !this.current) throw this.lastError ?? new IpvsError('internal', 'the IPVS table has not been read yet');
    return this.current;
  }

  /**
   * Sample now (after a write) so change events do not wait for the next
   * tick. `services` names what was written (null: every service), so its
   * destinations are re-read even where /proc shows no difference
   * (thresholds, tunnel settings, zeroed counters).
   */
  poke(services?: readonly (ServiceKey | null)[]): void {
    if (services) this.sampler?.changed(services);
    this.stale = true;
    // with nobody subscribed the change is picked up (and diffed) by the next sample
    if (this.timer && this.demand > 0) void this.sampleNow();
  }

  /** Tell `w` of every sample from now on (null: stop). */
  watch(w: TableWatcher | null): void {
    this.watcher = w;
  }

  /** Services just written: the next sample re-reads them (null: all), without sampling now. */
  touch(services: readonly (ServiceKey | null)[]): void {
    this.sampler?.changed(services);
    this.stale = true;
  }

  /** Take one sample; concurrent calls share it, and a call during a sample schedules one more. */
  sampleNow(all = false): Promise<void> {
    if (all) this.wantAll = true;
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          const readAll = this.wantAll;
          this.wantAll = false;
          await this.takeSample(readAll);
        } while (this.again && !this.closed);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Wall ms per stage of sampling since start, for /metrics and the bench (kernel reads: see stageTimes). */
  readonly stageMs = { read: 0, sample: 0, encode: 0, diff: 0 };

  /** Every stage's total ms, the sampler's reads included. */
  stageTimes(): Record<string, number> {
    return { ...this.stageMs, ...(this.sampler ? this.sampler.stageMs : {}), destDumps: this.sampler?.counts.destDumps ?? 0 };
  }

  private async takeSample(all: boolean): Promise<void> {
    this.lastStartedAt = Date.now();
    this.stale = false;
    const watching = this.watcher?.starting();
    const t0 = performance.now();
    let entries: readonly ServiceEntry[];
    let destDtMs: ReadonlyMap<string, number | null> | undefined;
    let unchanged = false;
    let missing = 0;
    let behind: ReadonlyMap<string, number> = NONE_BEHIND;
    try {
      if (this.sampler) ({ entries, destDtMs, unchanged, missing, behind } = this.fromReading(await this.sampler.read({ all })));
      else entries = await this.opts.backend.dump();
    } catch (err) {
      if (this.closed) return; // the backend is being closed under an in-flight sample
      // log the first failure of a run, not one per tick
      if (!this.failing) this.opts.log.error({ err }, 'cannot read the IPVS table');
      this.failing = true;
      this.lastError = err;
      return;
    }
    this.stageMs.read += performance.now() - t0;
    if (this.failing) this.opts.log.info('reading the IPVS table again');
    this.failing = false;
    const at = Date.now();
    const prev = this.current;
    const seq = (prev?.seq ?? 0) + 1;
    const intervalMs = prev ? at - prev.table.at : 0;
    // the table read, with the services whose real servers' counters were read before this sample (a full dump
    // reads them all now)
    const tableOf = (e: readonly ServiceEntry[]) => (prev ? prev.table.next(at, e, behind) : new ServedTable(at, e, behind));
    if (unchanged && prev && (prev.settled ??= isSettled(prev.state))) {
      // the same table, every rate 0 and every hold age saturated: this sample is the last one again
      this.current = {
        seq, state: prev.state, intervalMs, settled: true, missing, table: tableOf(prev.table.entries),
        delta: { w: WIRE_VERSION, seq, at, intervalMs, full: false, n: [], r: [], x: [] },
      };
      this.samples++;
      this.quietSamples++;
      this.watcher?.sampled(watching, prev.table.entries, { changed: false, complete: missing === 0 });
      this.notify(this.current, missing);
      this.wake();
      return;
    }
    let t = performance.now();
    const lap = (stage: keyof TableHub['stageMs']) => {
      const now = performance.now();
      this.stageMs[stage] += now - t;
      t = now;
    };
    const state = sampleTable(entries, prev?.state ?? null, intervalMs, destDtMs);
    lap('sample');
    // encoded once here, whatever the number of subscribers, and before the next sample renumbers anything
    const delta = prev ? this.encoder.encode(prev.state, state, seq, at, intervalMs) : null;
    lap('encode');
    const cur: Sample = { seq, state, delta, intervalMs, missing, table: tableOf(entries) };
    this.current = cur;
    this.samples++;
    let changed = !prev;
    if (prev) {
      const changes = diffTables(prev.table.entries, entries);
      lap('diff');
      changed = changes.length > 0;
      this.feed.record(seq, changes, cur.table);
    }
    this.watcher?.sampled(watching, entries, { changed, complete: missing === 0 });
    this.notify(cur, missing);
    this.wake();
  }

  /** Calls `fn` after every sample, with its rates (the history's one hook). */
  onSample(fn: (s: SampleNote) => void): void {
    this.listeners.push(fn);
  }

  private notify(s: Sample, missing: number): void {
    for (const fn of this.listeners) {
      try {
        fn({ at: s.table.at, intervalMs: s.intervalMs, state: s.state, complete: missing === 0 });
      } catch (err) {
        this.opts.log.error({ err }, 'a sample listener failed');
      }
    }
  }

  /**
   * A reading as sampleTable takes it: by service id, the ms between the two last times its real servers'
   * counters were known current, or null when they were not this time (their samples carry over); absent:
   * current both times, the sample's interval.
   */
  private fromReading(r: Reading) {
    const before = this.lastBehind;
    const destDtMs = new Map<string, number | null>();
    for (const id of r.behind.keys()) destDtMs.set(id, null);
    if (before !== r.behind) for (const [id, at] of before) if (!r.behind.has(id)) destDtMs.set(id, r.at - at);
    this.lastBehind = r.behind;
    return { entries: r.services, destDtMs, unchanged: r.unchanged, missing: r.missing, behind: r.behind };
  }

  private wake(): void {
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

  private fullOf(s: Sample): WireTick[] {
    return (s.full ??= piecesOf(this.encoder.encode(null, s.state, s.seq, s.table.at, s.intervalMs)));
  }

  /**
   * Stats ticks for one subscriber, in wire form (lib/agent/live-wire.ts): a
   * full tick first (or after a gap; in pieces for a large table), then only what changed. A subscriber
   * resuming from the tick just before the current one gets the delta
   * instead of everything. `watch` names services whose real servers' counters
   * are read every tick (a service page) rather than in the budgeted turns.
   */
  async *stats(signal: AbortSignal | undefined, lastEventId?: string | null, watch: readonly string[] = []): AsyncGenerator<{ id: string; tick: WireTick }> {
    const leave = this.join(watch);
    try {
      let sent = this.feed.seqOf(lastEventId) ?? -1;
      // after a quiet spell the current sample is the idle refresh, up to a minute old: as a first tick it drew
      // a lone point far left of the live ones, then a gap. The fresh one join() started is a moment away.
      if (sent < 0 && this.running && this.current && Date.now() - this.current.table.at > 2 * this.tickMs) await this.nextSample(signal);
      while (!signal?.aborted && !this.closed) {
        const cur = this.current;
        if (cur && cur.seq !== sent) {
          const ticks = sent === cur.seq - 1 && cur.delta ? [cur.delta] : this.fullOf(cur);
          sent = cur.seq;
          for (const tick of ticks) yield { id: tick.more ? this.feed.pieceId(cur.seq, tick.part!) : this.feed.id(cur.seq), tick };
          continue;
        }
        await this.nextSample(signal);
      }
    } finally {
      leave();
    }
  }

  /**
   * Table change events. A subscriber resuming from an id still held gets
   * what it missed; one resuming from an unknown id gets `resync`.
   */
  async *changes(signal: AbortSignal | undefined, lastEventId?: string | null): AsyncGenerator<{ id: string; event: TableChangeEvent }> {
    const leave = this.join();
    try {
      yield* this.feed.follow(lastEventId, () => this.current?.seq ?? 0, () => this.nextSample(signal), () => !signal?.aborted && !this.closed);
    } finally {
      leave();
    }
  }

  close(): void {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    if (this.watchTimer) clearInterval(this.watchTimer);
    this.timer = null;
    this.watchTimer = null;
    for (const w of [...this.waiters]) w();
  }
}

/** The hub as the agent runs it on a kernel: the sampler over /proc/net/ip_vs, the namespace's totals and netlink. */
export function kernelHub(opts: Pick<TableHubOptions, 'backend' | 'log' | 'tickMs' | 'destBudget'>): TableHub {
  return new TableHub({ ...opts, structure: procIpvsFile(), totals: procTotalsFile() });
}
