/**
 * Reads the IPVS table for the hub at a per-tick cost that does not grow
 * with the number of services: one GET_SERVICE dump (service config and
 * counters), one read of /proc/net/ip_vs (real servers, forwarding, weights,
 * active/inactive counts) and at most `budget` GET_DEST dumps for what the
 * file lacks (per-destination counters, thresholds, tunnel settings,
 * persistent counts).
 *
 * Which services get a GET_DEST dump: first those whose real servers look
 * different in the file than when they were last dumped (or that a write
 * named), so structure changes show within a tick or two; then those whose
 * own counters moved (or whose rates are not 0) since their last dump, oldest
 * first: the kernel counts each packet on the service and its real server
 * together, so a service whose counters stood still has real servers whose
 * counters stood still, and its last dump is still current. A sixteenth of
 * the budget (2 dumps) goes on re-reading the others in turn, for what only
 * GET_DEST shows (thresholds, tunnel settings changed by other tools on a
 * service nobody watches): every service at least every
 * ceil(services / (budget / 16)) ticks, about 8 minutes at 1,000 services
 * (twice that under traffic). A quarter took 8 dumps a tick, 1 % of a core
 * in the lab kernel on its own. With no more services
 * than the budget, everything is read every tick; the first read takes
 * everything whatever the size.
 *
 * A service the file shows changed but that did not fit in this tick keeps
 * the destinations of its last dump (no half-known change is reported, so
 * no spurious follow-up change when the dump arrives); a new service is left
 * out until its first dump. Thresholds or tunnel settings changed behind the
 * agent's back are invisible to the file and show when the sweep reaches
 * the service.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { DestinationState, ServiceEntry, ServiceKey, ServiceState, Stats } from '@/lib/ipvs/model';
import { ProcParseError, parseProcIpvs, type ProcIpvs, type ProcService } from '@/lib/proc/ip-vs';
import { destinationId, keptServiceId, serviceId } from '@/lib/ipvs/ids';
import { ESTIMATOR_PERIOD_MS, sameCounters } from '@/lib/agent/director-rates';
import { isIpvsError } from '@/lib/ipvs/errors';
import { sameDestinationConfig } from '@/lib/ipvs/config';

export interface DestSweepOptions {
  backend: IpvsBackend;
  structure: () => Promise<ProcIpvs>;
  /** GET_DEST dumps per read */
  budget: number;
  /**
   * Read the service dump and /proc/net/ip_vs on alternate calls instead of
   * both every call (each is most of a tick's cost at 1,000 services). The
   * kernel sums its counters only every 2 s, so at 1 s ticks a counter
   * reading every other tick loses nothing; connection counts and structure
   * changes then show within two ticks. A call after a write reads both.
   */
  alternate?: boolean;
  /**
   * The namespace's totals (/proc/net/ip_vs_stats, one short read). The
   * kernel adds every packet to the totals, its service and its real server
   * together, so while the totals stand still and their rates are 0 no
   * object's counters can have moved: the service dump and the budgeted
   * GET_DEST dumps are skipped, and the file is read on every call (for
   * structure and connection counts) so a change by another tool still
   * shows at the next call. A ZERO of one service by another tool is the one
   * change this cannot see; `fullEveryMs` bounds how long it can go unseen.
   */
  totals?: () => Promise<Stats>;
  /** With `totals`: read everything at least this often (default 60 s; a ZERO of one service by another tool shows then). */
  fullEveryMs?: number;
  /**
   * Real servers of a busy service nobody watches are read at most this often (default 0: at every chance).
   * Their counters move every 2 s, and only a service page shows each one's rate live; the overview shows
   * the service's own, read every 2 s. A watched service's are read every call, whatever this says.
   */
  busyEveryMs?: number;
}

interface Dumped {
  destinations: DestinationState[];
  /** when the dump returned */
  at: number;
  /** the service's line group in /proc/net/ip_vs as read in the same tick */
  procSig: string | null;
  /** the service's own counters and rates as last read before that dump */
  svcStats: Stats;
  /** when GET_DEST last actually ran (`at` also moves when a dump is known to be still current) */
  dumpedAt: number;
  /** the file's block whose connection counts `destinations` carries (the same object: nothing to apply) */
  countsFrom: ProcService | null;
  /** the entry last handed out for this service, and the service object it was built from */
  entry: ServiceEntry | null;
  entryFrom: ServiceState | null;
  /** the last call whose service list had this service (removed services are dropped by it) */
  seenIn: number;
  /** dumped as a busy service in its paced turn (see busyEveryMs): the next such turn waits; a first one after idling does not */
  paced: boolean;
}

type ServiceList = Awaited<ReturnType<IpvsBackend['listServices']>>;

/** GET_DEST dumps a call spends on the rotation through services whose dumps are still current (2 of the default budget of 32). */
function rotationOf(budget: number): number {
  return Math.max(1, budget >> 4);
}
/** One call's service list and file, and whether the list was dumped by this call (not reused). */
interface TableRead { services: ServiceList; proc: ProcIpvs; servicesRead: boolean }

export interface SweepResult {
  entries: ServiceEntry[];
  /** by service id: ms since that service's previous GET_DEST dump, or null when not dumped this time */
  destDtMs: Map<string, number | null>;
  /** service ids dumped this time (tests and diagnostics) */
  dumped: string[];
  /** nothing was read that could differ from the previous result: `entries` is that result's array */
  unchanged: boolean;
  /** services in the kernel's list left out of `entries` because their real servers were not read yet */
  missing: number;
}

function ratesZero(a: Stats): boolean {
  return a.cps === 0 && a.inPps === 0 && a.outPps === 0 && a.inBps === 0 && a.outBps === 0;
}

/** Counters and estimator rates alike (the estimator changes rates without counters while they decay). */
function sameStats(a: Stats, b: Stats): boolean {
  return sameCounters(a, b) && a.cps === b.cps && a.inPps === b.inPps && a.outPps === b.outPps && a.inBps === b.inBps && a.outBps === b.outBps;
}

/**
 * Counters read at two times that show nothing happened in between: the same counters and no rate at
 * either time (for the namespace totals, and for one service against its real servers' last dump).
 */
function stoodStill(now: Stats, then: Stats): boolean {
  return sameCounters(now, then) && ratesZero(now) && ratesZero(then);
}

/** /proc cannot tell an IPv4 from an IPv6 fwmark service apart; key both views without the family. */
function procKey(k: ServiceKey): string {
  return k.kind === 'fwmark' ? `f|${k.fwmark}` : `a|${k.protocol}|${k.address}|${k.port}`;
}

// Keys of the objects a read gets back unchanged from the last one (the service dump and the file parse both
// hand back their previous objects when the bytes are the same): built once per object, not once per tick.
const memoProcKeys = new WeakMap<object, string>();
function procKeyOf(s: { key: ServiceKey }): string {
  let k = memoProcKeys.get(s);
  if (k === undefined) memoProcKeys.set(s, (k = procKey(s.key)));
  return k;
}

/** Parses one service block after the header; errors name the line in the whole file. */
function parseBlock(head: string, block: string, linesBefore: () => number): ProcService[] {
  try {
    return parseProcIpvs(head + block, 1).services;
  } catch (e) {
    if (!(e instanceof ProcParseError)) throw e;
    throw new ProcParseError(e.file, e.line - 3 + linesBefore(), e.message.replace(/^.*? line \d+: (.*): '.*'$/s, '$1'), e.text);
  }
}

const signatures = new WeakMap<ProcService, string>();

/** What the file says about a service's real servers, minus the connection counts that move all the time. */
function signature(p: ProcService): string {
  let s = signatures.get(p);
  if (s === undefined) {
    s = '';
    for (const d of p.destinations) s += `${destinationId(d)} ${d.forward} ${d.weight};`;
    signatures.set(p, s);
  }
  return s;
}

/**
 * Reads a /proc file into two buffers kept between calls (the new bytes go
 * into the one not holding the previous read), so comparing with the
 * previous bytes tells, without decoding, that nothing changed.
 *
 * While the file is small (up to `syncMax`, about 3,500 services) it is read
 * with blocking calls on this thread: in user-mode Linux each hand-over to
 * libuv's thread pool costs milliseconds, and at 1,000 services the async
 * read took 32 ms against 5 ms for open/read/close here, the kernel's own
 * work included. Larger files go through the thread pool, so the event loop
 * is never held for long.
 */
export class ReusedFileReader {
  private bufs = [Buffer.alloc(256 * 1024), Buffer.alloc(256 * 1024)];
  private lens = [-1, -1];
  private cur = 0;

  constructor(private readonly path: string, private readonly syncMax = 1 << 20) {}

  private room(i: number, n: number): Buffer {
    let buf = this.bufs[i]!;
    if (n === buf.length) {
      const grown = Buffer.alloc(buf.length * 2);
      buf.copy(grown, 0, 0, n);
      this.bufs[i] = buf = grown;
    }
    return buf;
  }

  private readSync(i: number): number {
    const fd = openSync(this.path, 'r');
    let n = 0;
    try {
      for (;;) {
        const buf = this.room(i, n);
        // position null: /proc files have no size and no stable offsets across reads
        const k = readSync(fd, buf, n, buf.length - n, null);
        if (k === 0) return n;
        n += k;
      }
    } finally {
      closeSync(fd);
    }
  }

  private async readAsync(i: number): Promise<number> {
    const fh = await open(this.path, 'r');
    let n = 0;
    try {
      for (;;) {
        const buf = this.room(i, n);
        const { bytesRead } = await fh.read(buf, n, buf.length - n, null);
        if (bytesRead === 0) return n;
        n += bytesRead;
      }
    } finally {
      await fh.close();
    }
  }

  /** The file's bytes (valid until the call after next) and whether they differ from the previous call's. */
  async read(): Promise<{ bytes: Buffer; changed: boolean }> {
    const i = this.cur ^ 1;
    const prev = this.cur;
    const known = this.lens[prev]!;
    const n = known >= 0 && known <= this.syncMax ? this.readSync(i) : await this.readAsync(i);
    const bytes = this.bufs[i]!.subarray(0, n);
    const changed = known !== n || !bytes.equals(this.bufs[prev]!.subarray(0, n));
    this.lens[i] = n;
    this.cur = i;
    return { bytes, changed };
  }
}

/**
 * Reads /proc/net/ip_vs every call but parses only the service blocks whose
 * bytes changed since the previous call: at 1,000 services decoding and
 * parsing the whole file was a large part of a tick in the lab kernel, and
 * between two ticks most blocks are byte-identical (under traffic only the
 * busy services' connection counts move). A block is compared with the block
 * at the same position in the previous read, without making a string of it;
 * an unchanged block gives its previous parse, an unchanged file the previous
 * result object itself. Parsed services are shared between calls (treat them
 * as read-only). `source` is another file to read, or a function giving the
 * text (tests).
 */
export function procStructure(source: string | (() => Promise<string>) = '/proc/net/ip_vs'): () => Promise<ProcIpvs> {
  let last: { bytes: Buffer; head: Buffer; blocks: number[]; parsed: ProcService[][]; result: ProcIpvs } | null = null;
  const read = typeof source === 'function' ? source : null;
  const file = typeof source === 'string' ? new ReusedFileReader(source) : null;
  return async () => {
    let bytes: Buffer;
    if (file) {
      const got = await file.read();
      if (last && !got.changed) {
        // the reader alternates buffers: the next read overwrites the one `last` points into, so keep the
        // identical bytes just read (in the other buffer) as the ones to compare with next time
        last.bytes = got.bytes;
        // the same object for the same bytes tells the sweep nothing changed
        return last.result;
      }
      // (the previous read's bytes stay valid during this call: the reader fills its other buffer)
      bytes = got.bytes;
    } else {
      bytes = Buffer.from(await read!(), 'latin1');
      if (last && bytes.equals(last.bytes)) return last.result;
    }
    let i = 0;
    for (let n = 0; n < 3; n++) {
      const nl = bytes.indexOf(10, i);
      i = nl < 0 ? bytes.length : nl + 1;
    }
    const headBytes = bytes.subarray(0, i);
    const head = headBytes.toString('latin1');
    // HZ only scales persistence timeouts, which the hub takes from netlink
    const base = parseProcIpvs(head, 1);
    const prev = last && last.head.equals(headBytes) ? last : null;
    const blocks: number[] = [];
    const parsedBlocks: ProcService[][] = [];
    const services: ProcService[] = [];
    let start = i;
    for (let k = 0; start < bytes.length; k++) {
      let end = start;
      do {
        const nl = bytes.indexOf(10, end);
        end = nl < 0 ? bytes.length : nl + 1;
      } while (end < bytes.length && bytes[end] === 32); // destination lines are indented
      let parsed: ProcService[] | undefined;
      if (prev && k < prev.parsed.length) {
        const ps = prev.blocks[2 * k]!, pe = prev.blocks[2 * k + 1]!;
        if (pe - ps === end - start && bytes.compare(prev.bytes, ps, pe, start, end) === 0) parsed = prev.parsed[k];
      }
      if (!parsed) {
        const at = start;
        parsed = parseBlock(head, bytes.toString('latin1', start, end), () => {
          let lines = 0;
          for (let p = bytes.indexOf(10); p >= 0 && p < at; p = bytes.indexOf(10, p + 1)) lines++;
          return lines;
        });
      }
      blocks.push(start, end);
      parsedBlocks.push(parsed);
      for (const p of parsed) services.push(p);
      start = end;
    }
    const result = { ...base, services };
    // the head is copied: the view would be overwritten by the read after next
    last = { bytes, head: Buffer.from(headBytes), blocks, parsed: parsedBlocks, result };
    return result;
  };
}

export class DestSweep {
  private readonly dumped = new Map<string, Dumped>();
  /** service ids to dump next time whatever the file says; `all` after a write naming every service */
  private readonly forced = new Set<string>();
  private forceAll = false;
  /** service ids whose destinations are read on every call, besides the budget (services someone watches) */
  private watched = new Set<string>();
  /** wall ms spent per stage since start (both reads run at once, so their sum can exceed the elapsed time) */
  readonly stageMs = { services: 0, proc: 0, dests: 0 };
  destDumps = 0;

  constructor(private readonly opts: DestSweepOptions) {
    if (!Number.isInteger(opts.budget) || opts.budget < 1) {
      throw new RangeError(`destBudget must be a positive integer, got ${opts.budget}`);
    }
  }

  /** Dump these services' destinations at the next read (null: all of them, in budgeted turns). */
  markDirty(keys: readonly (ServiceKey | null)[]): void {
    for (const k of keys) {
      if (k === null) this.forceAll = true;
      else this.forced.add(serviceId(k));
    }
  }

  /** Services to read on every call from now on, outside the budget (a console's service page). */
  setWatched(ids: Iterable<string>): void {
    this.watched = new Set(ids);
  }

  private calls = 0;
  private readingAll = false;
  /** services the last assemble() left out (not dumped yet) */
  private missing = 0;
  private last: { services: ServiceList; proc: ProcIpvs } | null = null;
  /** the totals read just before the last service dump, and the file as it was then */
  private countersAt: { totals: Stats; proc: ProcIpvs | null; at: number } | null = null;
  private lastResult: SweepResult | null = null;
  /** the totals at the previous call, and when they were first read at their current value */
  private lastTotals: Stats | null = null;
  private totalsSeenAt = 0;
  /** calls that skipped the counter reads because the totals stood still (tests and the bench) */
  quietReads = 0;
  /** of those, calls that found the same file and service list and skipped the classification too */
  quietFast = 0;
  /** where the quiet calls' rotation of GET_DEST dumps stands */
  private rotation = 0;
  /** indices choose() picked as busy services in their paced turn (see busyEveryMs), for dumpPicked */
  private readonly pacedPicks = new Set<number>();
  /** the last call that read /proc/net/ip_vs */
  private fileCall = -1;
  /** when read() was last called (alternate reads only at tick pace) */
  private lastCallAt = 0;

  /** every dump in `dumped` was known to hold its current counters at this time (see the quiet fast path) */
  private currentAt = 0;

  /** when the dump's counters were last known current */
  private at(d: Dumped): number {
    return d.at > this.currentAt ? d.at : this.currentAt;
  }

  /** The service's real servers as last dumped still hold their current counters (see the pick below). */
  private dumpStillCurrent(id: string, svc: Stats): boolean {
    const d = this.dumped.get(id);
    return !!d && stoodStill(svc, d.svcStats);
  }

  /** The entry for a service: the one handed out last time when neither the service object nor its real servers changed, so diffs skip it at once. */
  private entryOf(d: Dumped, svc: ServiceState): ServiceEntry {
    if (!d.entry || d.entryFrom !== svc || d.entry.destinations !== d.destinations) {
      d.entry = { ...svc, destinations: d.destinations };
      d.entryFrom = svc;
    }
    return d.entry;
  }

  // read() is split into small methods on purpose: TurboFan inlined everything into one function that took
  // 0.4-0.9 s to compile in the lab kernel, and each deopt (a path first taken after optimisation) recompiled
  // it all: 5 recompiles in 40 s of traffic, 10 % of a core on V8's compiler thread (--trace-opt)
  /** `all`: read every service's real servers this time (a caller asked for a fresh table). */
  async read(opts: { all?: boolean } = {}): Promise<SweepResult> {
    if (this.lastResult?.destDtMs instanceof LazyMap) this.lastResult.destDtMs.expire();
    const call = this.calls++;
    this.readingAll = opts.all ?? false;
    const forcing = this.forceAll || this.forced.size > 0 || this.readingAll;
    // one clock reading for the checks below (in user-mode Linux each one is a system call)
    const clock = Date.now();
    // Alternating is only sound at tick pace: a call that reuses the last service list treats its counters as
    // standing still, and the rates that follow count that time as still (director-rates.ts). After a longer
    // pause (the hub samples once a minute with nobody subscribed) both are read: a skipped read there made the
    // first rates after a subscriber joined count 100 s of connections over the last 40 s (2.5 times the rate).
    const paused = this.lastCallAt > 0 && clock - this.lastCallAt > ESTIMATOR_PERIOD_MS;
    this.lastCallAt = clock;
    const both = !this.opts.alternate || !this.last || forcing || paused;
    // read first: a packet counted while the dumps run then shows as movement next time
    const totals = this.opts.totals ? await this.opts.totals() : null;
    if (totals && (!this.lastTotals || !sameCounters(totals, this.lastTotals))) this.totalsSeenAt = clock;
    this.lastTotals = totals;
    // a dump taken after this has every counter's current value: none has moved since
    const seenAt = this.totalsSeenAt;
    const prevAt = this.countersAt;
    // the service dump is fullEveryMs old: read it whatever the totals say
    const due = !!prevAt && clock - prevAt.at >= (this.opts.fullEveryMs ?? 60_000);
    const still = !!(totals && prevAt && this.last && !forcing && stoodStill(totals, prevAt.totals));
    const { services, proc, servicesRead } = still && !due ? await this.readQuiet(totals!, prevAt!) : await this.readMoving(totals, both || due, call);
    const lastRead = this.last;
    // the minute's full read that found the same list and the same file is a quiet call too: taken the moving
    // way, it sampled and encoded all 1,000 services for nothing, and its garbage brought major GCs (the agent
    // at 15-25 % of a core for a second every minute: a sixth of its CPU with one idle subscriber, in the lab)
    const quiet = still && (!due || (services === lastRead!.services && proc === lastRead!.proc));
    this.last = { services, proc };
    const prevResult = this.lastResult;
    // the same file and service list as last time, which dumped nothing: only the clocks move (a large table's
    // classification below is tens of milliseconds a tick in user-mode Linux, for nothing)
    if (quiet && lastRead && prevResult && prevResult.dumped.length === 0 && proc === lastRead.proc && services === lastRead.services) {
      const fast = await this.quietFastPath(services, seenAt, prevResult);
      if (fast) return (this.lastResult = fast);
    }
    if (this.forceAll) {
      // stale signatures make every service "changed" until its next dump
      for (const d of this.dumped.values()) d.procSig = null;
      this.forceAll = false;
    }
    const { ids, procOf, sigs } = this.indexOf(services, proc);
    const pick = this.choose(services, ids, sigs, quiet, seenAt, servicesRead, clock);
    const destDtMs = new Map<string, number | null>();
    const fresh = await this.dumpPicked(pick, services, ids, sigs, destDtMs);
    const entries = this.assemble(services, ids, procOf, sigs, fresh, destDtMs, quiet ? seenAt : null, servicesRead);
    const unchanged = !!(prevResult && lastRead && quiet && pick.length === 0 && services === lastRead.services && proc === lastRead.proc);
    const result: SweepResult = unchanged
      ? { entries: prevResult!.entries, destDtMs, dumped: [], unchanged: true, missing: this.missing }
      : { entries, destDtMs, dumped: pick.map((i) => ids[i]!), unchanged: false, missing: this.missing };
    this.lastResult = result;
    return result;
  }

  /** the last call's lookups of services in the file (reused while the list or the file is the same object) */
  private index: { services: ServiceList; proc: ProcIpvs; byKey: Map<string, ProcService | null>; ids: string[]; procOf: (ProcService | null)[]; sigs: (string | null)[] } | null = null;

  /**
   * Each service's id, file block and block signature. Under traffic the file and the service list are
   * read on alternate calls, so one of the two is the last call's object: these 1,000-entry maps and
   * arrays were built anew every call, garbage the agent then spent its time collecting.
   */
  private indexOf(services: ServiceList, proc: ProcIpvs): NonNullable<DestSweep['index']> {
    const c = this.index;
    if (c && c.services === services && c.proc === proc) return c;
    let byKey = c?.proc === proc ? c.byKey : null;
    if (!byKey) {
      byKey = new Map();
      for (const p of proc.services) {
        const k = procKeyOf(p);
        byKey.set(k, byKey.has(k) ? null : p); // null: ambiguous fwmark pair, always dumped
      }
    }
    const ids = c?.services === services ? c.ids : services.map(keptServiceId);
    const procOf = services.map((s) => byKey.get(procKeyOf(s)) ?? null);
    const sigs = procOf.map((p) => (p ? signature(p) : null));
    return (this.index = { services, proc, byKey, ids, procOf, sigs });
  }

  private async timed<T>(stage: 'services' | 'proc', f: () => Promise<T>): Promise<T> {
    const t = performance.now();
    const r = await f();
    this.stageMs[stage] += performance.now() - t;
    return r;
  }

  /** Totals still: the file every call (with no service dump it is the only way changes made by other tools show). */
  private async readQuiet(totals: Stats, prevAt: NonNullable<DestSweep['countersAt']>): Promise<TableRead> {
    // a thunk, not a promise: the file is read with blocking calls inside structure() itself
    const proc = await this.timed('proc', () => this.opts.structure());
    this.fileCall = this.calls - 1;
    // a service line that changed (scheduler, persistence) or a new service needs the dump whatever the totals
    const services = proc === prevAt.proc ? this.last!.services : await this.timed('services', () => this.opts.backend.listServices());
    if (services === this.last!.services) this.quietReads++;
    else this.countersAt = { totals, proc, at: prevAt.at };
    return { services, proc, servicesRead: false };
  }

  /**
   * Counters moving: the service dump and the file, on alternate calls when `alternate` is set. With the
   * totals, which the estimator updates at the same run as every service's counters, the dump is read on
   * the calls that find them changed since the last dump (the file too if the call before did not read it),
   * the file on the others: by parity alone, a call out of turn (a join, a write) made one 2 s movement
   * read a tick late, its counters looked still for 3 s, and the service's rate fell to 0 for a tick (lab).
   */
  private async readMoving(totals: Stats | null, both: boolean, call: number): Promise<TableRead> {
    const since = this.countersAt?.totals;
    const fetchServices = both || (totals ? !since || !sameStats(totals, since) : call % 2 === 0);
    const fetchFile = both || !fetchServices || (totals ? this.fileCall < call - 1 : false);
    let [services, proc] = await Promise.all([
      fetchServices ? this.timed('services', () => this.opts.backend.listServices()) : this.last!.services,
      fetchFile ? this.timed('proc', () => this.opts.structure()) : this.last!.proc,
    ]);
    if (fetchFile) this.fileCall = call;
    if (totals && fetchServices) this.countersAt = { totals, proc, at: Date.now() };
    // the backend hands back its previous objects for unchanged replies: all unchanged is the same list
    if (fetchServices && this.last && sameItems(services, this.last.services)) services = this.last.services;
    return { services, proc, servicesRead: fetchServices };
  }

  /**
   * Same file, same service list, nothing dumped last time: every dump is as good as one taken now, unless a
   * dump predates the last movement or the rotation finds a real server changed. Null: take the normal way.
   */
  private async quietFastPath(services: ServiceList, seenAt: number, prevResult: SweepResult): Promise<SweepResult | null> {
    const now = Date.now();
    let stale = false;
    if (this.currentAt < seenAt) for (const d of this.dumped.values()) if (this.at(d) < seenAt) { stale = true; break; }
    // the budgeted rotation goes on, for what only GET_DEST shows (thresholds, tunnel settings): a dump
    // identical to the kept one changes nothing; one that differs is read again the normal way
    if (!stale && services.length > 0) stale = await this.rotate(services);
    if (stale) return null;
    // one watermark instead of a thousand clock updates, and the per-service intervals only if someone asks
    // (the hub does not, once every rate has settled)
    const since = this.currentAt;
    this.currentAt = now;
    const destDtMs = new LazyMap<string, number | null>((m) => {
      for (const [id, d] of this.dumped) m.set(id, now - Math.max(d.at, since));
    });
    this.quietFast++;
    return { entries: prevResult.entries, destDtMs, dumped: [], unchanged: true, missing: this.missing };
  }

  /** rotationOf(budget) kept dumps read again; true when one differs (it is forced for the normal way). */
  private async rotate(services: ServiceList): Promise<boolean> {
    let stale = false;
    for (let k = 0; k < Math.min(rotationOf(this.opts.budget), services.length); k++) {
      const svc = services[this.rotation++ % services.length]!;
      const id = serviceId(svc.key);
      const kept = this.dumped.get(id);
      if (!kept) continue;
      let got: DestinationState[];
      try {
        got = await this.opts.backend.listDestinations(svc.key);
      } catch (e) {
        if (isIpvsError(e) && e.code === 'service_not_found') continue;
        throw e;
      }
      this.destDumps++;
      if (!sameDestinations(kept.destinations, got)) {
        this.forced.add(id);
        stale = true;
      }
    }
    return stale;
  }

  /** Which services' real servers to dump this call (indices into `services`). */
  private choose(services: ServiceList, ids: string[], sigs: (string | null)[], quiet: boolean, seenAt: number, servicesRead: boolean, clock: number): number[] {
    this.pacedPicks.clear();
    const changed: number[] = [];
    const steady: number[] = [];
    const watched: number[] = [];
    for (let i = 0; i < services.length; i++) {
      const d = this.dumped.get(ids[i]!);
      if (this.watched.has(ids[i]!)) watched.push(i);
      else if (!d || sigs[i] === null || d.procSig !== sigs[i] || this.forced.has(ids[i]!)) changed.push(i);
      else steady.push(i);
    }
    const budget = this.opts.budget;
    // the first read takes everything, so the agent starts with the whole table
    if (this.dumped.size === 0 || this.readingAll) return ids.map((_, i) => i);
    // counters stand still: only what the file shows changed, and dumps older than the last movement, need reading
    if (quiet) {
      const stale = (i: number) => this.at(this.dumped.get(ids[i]!)!) < seenAt;
      return [...changed, ...watched.filter(stale), ...steady.filter(stale)].slice(0, budget);
    }
    if (services.length <= budget + watched.length) return ids.map((_, i) => i);
    const pick = [...watched, ...changed.slice(0, budget)];
    let room = budget + watched.length - pick.length;
    if (room > 0) {
      // a service whose own counters have not moved since its real servers were dumped, and whose rates are 0,
      // has real servers whose counters have not moved either (the kernel counts a packet on both): its dump
      // is still current, and only the slow rotation for what only GET_DEST shows (thresholds, tunnel) reads it
      const busy: number[] = [];
      const idle: number[] = [];
      for (const i of steady) (this.dumpStillCurrent(ids[i]!, services[i]!.stats) ? idle : busy).push(i);
      const age = (a: number, b: number) => this.at(this.dumped.get(ids[a]!)!) - this.at(this.dumped.get(ids[b]!)!);
      // with alternate reads, busy services' real servers are read on the calls that read the service dump:
      // service and real-server counters then move together, every two calls (the kernel's own estimator
      // moves every 2 s); watched services above are read every call
      if (servicesRead || !this.opts.alternate) {
        const every = this.opts.busyEveryMs ?? 0;
        const due = every > 0 ? busy.filter((i) => { const d = this.dumped.get(ids[i]!)!; return !d.paced || clock - d.dumpedAt >= every; }) : busy;
        due.sort(age);
        const picked = due.slice(0, room);
        if (every > 0) for (const i of picked) this.pacedPicks.add(i);
        pick.push(...picked);
      }
      room = Math.min(budget + watched.length - pick.length, rotationOf(budget));
      if (room > 0) pick.push(...oldest(idle, room, (i) => this.dumped.get(ids[i]!)!.dumpedAt));
    }
    return pick;
  }

  /** GET_DEST for the picked services (the indices dumped), one after another (the lab kernel has one CPU, and a dump per socket at a time is the client's contract). */
  private async dumpPicked(pick: number[], services: ServiceList, ids: string[], sigs: (string | null)[], destDtMs: Map<string, number | null>): Promise<Set<number>> {
    const fresh = new Set<number>();
    const t0 = performance.now();
    for (const i of pick) {
      const id = ids[i]!;
      let destinations: DestinationState[];
      try {
        destinations = await this.opts.backend.listDestinations(services[i]!.key);
      } catch (e) {
        // removed since the service list was read (an alternate read reuses the last list): gone next time
        if (isIpvsError(e) && e.code === 'service_not_found') continue;
        throw e;
      }
      const at = Date.now();
      const prev = this.dumped.get(id);
      destDtMs.set(id, prev ? at - this.at(prev) : 0);
      // every field set here, so all of these objects share one shape (optimised code reading them stays valid)
      this.dumped.set(id, {
        destinations, at, procSig: sigs[i] ?? null, svcStats: services[i]!.stats, dumpedAt: at, countsFrom: null, entry: null, entryFrom: null,
        seenIn: this.calls, paced: this.pacedPicks.has(i),
      });
      this.forced.delete(id);
      fresh.add(i);
    }
    this.stageMs.dests += performance.now() - t0;
    this.destDumps += pick.length;
    return fresh;
  }

  /** The entries of this call, and each undumped service's interval (null: its dump is not current). `quietSince`: the totals' last movement on a quiet call. */
  private assemble(services: ServiceList, ids: string[], procOf: (ProcService | null)[], sigs: (string | null)[],
    fresh: Set<number>, destDtMs: Map<string, number | null>, quietSince: number | null, servicesRead: boolean): ServiceEntry[] {
    const entries: ServiceEntry[] = [];
    // a stamp instead of a set of 1,000 live ids a call
    const call = this.calls;
    let readAt: number | undefined;
    this.missing = 0;
    for (let i = 0; i < services.length; i++) {
      const id = ids[i]!;
      if (fresh.has(i)) {
        entries.push(this.entryOf(this.dumped.get(id)!, services[i]!));
        continue;
      }
      const d = this.dumped.get(id);
      if (!d) { // new and not dumped yet: appears with its first dump
        this.missing++;
        continue;
      }
      d.seenIn = call;
      const p = procOf[i];
      // (the service list must be this call's own: an older one cannot vouch for the time in between)
      const current = quietSince !== null ? this.at(d) >= quietSince : servicesRead && this.dumpStillCurrent(id, services[i]!.stats);
      if (current && d.procSig === sigs[i]) {
        // its last dump already holds the current counters: as good as a dump now, so rates decay on time
        // (one clock reading for all: in user-mode Linux each costs a system call)
        readAt ??= Date.now();
        destDtMs.set(id, readAt - this.at(d));
        d.at = readAt;
      } else destDtMs.set(id, null);
      // unchanged structure: the file's connection counts are newer than the dump's (kept, so an
      // unchanged service keeps one destinations array from tick to tick and diffs skip it)
      if (p && d.procSig === sigs[i] && d.countsFrom !== p) {
        d.destinations = withProcCounts(d.destinations, p);
        d.countsFrom = p;
      }
      entries.push(this.entryOf(d, services[i]!));
    }
    for (const [id, d] of this.dumped) if (d.seenIn !== call) this.dumped.delete(id);
    if (this.forced.size > 0) {
      const live = new Set(ids);
      for (const id of this.forced) if (!live.has(id)) this.forced.delete(id);
    }
    return entries;
  }
}

/** A map filled on first use (a read-only view for the one caller that consumes it right away). */
class LazyMap<K, V> extends Map<K, V> {
  private fill: ((m: Map<K, V>) => void) | null;
  constructor(fill: (m: Map<K, V>) => void) {
    super();
    this.fill = fill;
  }
  /** Computed from state the next read changes: asking after it would give wrong values, so it throws. */
  expire(): void {
    if (this.fill) this.fill = () => { throw new Error('destDtMs consulted after the next sweep read'); };
  }
  private ready(): this {
    const f = this.fill;
    if (f) {
      this.fill = null;
      f((this as Map<K, V>));
    }
    return this;
  }
  override get(k: K): V | undefined { return Map.prototype.get.call(this.ready(), k) as V | undefined; }
  override has(k: K): boolean { return Map.prototype.has.call(this.ready(), k); }
  override get size(): number { this.ready(); return super.size; }
  override forEach(cb: (v: V, k: K, m: Map<K, V>) => void, thisArg?: unknown): void { Map.prototype.forEach.call(this.ready(), cb, thisArg); }
  override entries(): MapIterator<[K, V]> { return Map.prototype.entries.call(this.ready()) as MapIterator<[K, V]>; }
  override keys(): MapIterator<K> { return Map.prototype.keys.call(this.ready()) as MapIterator<K>; }
  override values(): MapIterator<V> { return Map.prototype.values.call(this.ready()) as MapIterator<V>; }
  override [Symbol.iterator](): MapIterator<[K, V]> { return this.entries(); }
}

/**
 * The `k` items with the smallest `key`, smallest first, ties in their order in `items` (what a stable sort
 * and slice give): the rotation takes 2 of about 1,000 idle services every call, and sorting them all was
 * 10,000 comparisons a call.
 */
export function oldest(items: readonly number[], k: number, key: (i: number) => number): number[] {
  const out: number[] = [];
  const keys: number[] = [];
  if (k < 1) return out;
  for (const i of items) {
    const v = key(i);
    if (out.length === k && v >= keys[k - 1]!) continue;
    let j = Math.min(out.length, k - 1);
    while (j > 0 && keys[j - 1]! > v) {
      out[j] = out[j - 1]!;
      keys[j] = keys[j - 1]!;
      j--;
    }
    out[j] = i;
    keys[j] = v;
  }
  return out;
}

function sameItems<T>(a: readonly T[], b: readonly T[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Two dumps of one service's real servers that say the same, field for field. */
function sameDestinations(a: readonly DestinationState[], b: readonly DestinationState[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!sameDestinationConfig(x, y) || x.activeConns !== y.activeConns || x.inactiveConns !== y.inactiveConns
      || x.persistentConns !== y.persistentConns) return false;
    const s = x.stats, t = y.stats;
    if (!sameCounters(s, t) || s.cps !== t.cps || s.inPps !== t.inPps || s.outPps !== t.outPps || s.inBps !== t.inBps || s.outBps !== t.outBps) return false;
  }
  return true;
}

/** Same real servers in the same order (the signatures matched), with the file's active/inactive counts. */
function withProcCounts(dests: DestinationState[], p: ProcService): DestinationState[] {
  let out: DestinationState[] | null = null;
  for (let j = 0; j < dests.length; j++) {
    const d = dests[j]!;
    const q = p.destinations[j];
    if (!q || (d.activeConns === q.activeConns && d.inactiveConns === q.inactiveConns)) continue;
    if (q.port !== d.port || q.address !== d.address || q.family !== d.family) continue;
    (out ??= dests.slice())[j] = { ...d, activeConns: q.activeConns, inactiveConns: q.inactiveConns };
  }
  return out ?? dests;
}
