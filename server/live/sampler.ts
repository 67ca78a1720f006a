/**
 * The sampler: what the hub reads from the kernel each tick, at a cost that does not grow with the table.
 *
 * The hub asks `read()` once a tick and gets a Reading: the namespace totals, every service's entry
 * (settings, counters, real servers), and the few services whose real servers' counters are `behind`
 * (with when they were last known current). The services' own settings and counters are current as of the
 * Reading's `at`. It tells the sampler which services a console is showing (`watch`) and which ones a write
 * touched (`changed`). A Reading and everything in it is frozen: keep it, share it, compare it with the next
 * one by identity (what did not change is the previous Reading's object).
 *
 * One policy, every tick (its knobs: lib/agent/sampler-knobs.ts):
 *  1. Read the totals (/proc/net/ip_vs_stats) and /proc/net/ip_vs (services, real servers, weights,
 *     connection counts; no counters, thresholds, tunnel settings or scheduler flags).
 *  2. Read the service dump (every service's settings and counters) when the totals moved since the last
 *     one, when the file shows a service or real server added, removed or changed, or after a write; else
 *     every `serviceDumpMs`. The kernel counts each packet on the totals, its service and its real server
 *     at once: while the totals stand still no counter moved, and the last dump is current.
 *  3. Read the real servers (one GET_DEST dump per service) of what is watched, every tick; then, up to
 *     `destBudget`, of what changed (new, written, or real servers in the file unlike those last read),
 *     then of what moved (the service's counters differ from those seen before its last GET_DEST),
 *     oldest first; then the rotation: `rotation` more of the rest, oldest first.
 * A service not read keeps its last real servers with the file's connection counts. A new service
 * appears with its first GET_DEST, so no half-known service is reported.
 */
import { closeSync, openSync, readSync } from 'node:fs';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { DestinationState, ServiceEntry, ServiceKey, ServiceState, Stats } from '@/lib/ipvs/model';
import { isIpvsError } from '@/lib/ipvs/errors';
import type { ProcIpvs, ProcService } from '@/lib/proc/ip-vs';
import { reparseProcIpvs, type ProcIpvsParse } from '@/lib/proc/ip-vs-blocks';
import { parseProcIpvsStats } from '@/lib/proc/ip-vs-stats';
import { keptServiceId, serviceId } from '@/lib/ipvs/ids';
import { sameDestinationConfig, sameServiceConfig } from '@/lib/ipvs/config';
import { SAMPLER_KNOBS } from '@/lib/agent/sampler-knobs';

export interface Reading {
  /** when the reading ended: the services' own settings and counters are current as of then */
  readonly at: number;
  /** the namespace's totals, when the sampler has them */
  readonly totals: Stats | null;
  /** every service whose real servers were ever read, in the service dump's order */
  readonly services: readonly ServiceEntry[];
  /**
   * By service id, the services whose real servers' counters are older than `at` (they moved and were not
   * read since): when they were last known current. Every other service's are current as of `at`.
   */
  readonly behind: ReadonlyMap<string, number>;
  /** `services` is the previous reading's array (every entry the same object) */
  readonly unchanged: boolean;
  /** services left out: listed, but their real servers not read yet */
  readonly missing: number;
  /** ids of the services whose real servers were read by GET_DEST (tests, diagnostics) */
  readonly read: readonly string[];
}

export interface SamplerOptions {
  backend: IpvsBackend;
  /** /proc/net/ip_vs, parsed */
  structure: () => Promise<ProcIpvs>;
  /** /proc/net/ip_vs_stats, parsed; without it the service dump is read every tick */
  totals?: () => Promise<Stats>;
  destBudget?: number;
  rotation?: number;
  serviceDumpMs?: number;
}

/** What the sampler holds about one service's real servers: its own working state (what it hands out is frozen). */
interface Known {
  dests: readonly DestinationState[];
  /** when GET_DEST last read them */
  readAt: number;
  /** the service's counters as known just before that read */
  statsAtRead: Stats;
  /** when they were last known current: readAt, or later while the service's counters stood still */
  destsAt: number;
  /** the entry last handed out, and the service object it was made from */
  entry: ServiceEntry | null;
  entryFrom: ServiceState | null;
  /** the file block these real servers were last found to match (sameShape), while neither changed */
  matched: ProcService | null;
  /** the file block whose connection counts `dests` carries */
  countsFrom: ProcService | null;
  /** the last reading that listed the service */
  seen: number;
}

export class Sampler {
  private readonly budget: number;
  private readonly rotation: number;
  private readonly serviceDumpMs: number;
  private readonly known = new Map<string, Known>();
  private watched: ReadonlySet<string> = new Set();
  private readonly dirty = new Set<string>();
  private dirtyAll = false;
  /** a write was named since the last service dump */
  private written = false;
  /** the last service dump, the totals read just before it, and when */
  private list: readonly ServiceState[] | null = null;
  /** each listed service's id and file key (computed once per dump) */
  private ids: readonly string[] = [];
  private fileKeys: readonly string[] = [];
  /** service dumps assembled so far, and the last one (what is known is swept when it changes) */
  private readings = 0;
  private assembled: readonly ServiceState[] | null = null;
  private listTotals: Stats | null = null;
  private listAt = 0;
  /** the last file read */
  private lastFile: ProcIpvs | null = null;
  private last: Reading | null = null;
  /** kernel reads so far, and ms spent in them (/metrics) */
  readonly counts = { serviceDumps: 0, destDumps: 0 };
  readonly stageMs = { totals: 0, proc: 0, services: 0, dests: 0 };

  constructor(private readonly opts: SamplerOptions) {
    const k = SAMPLER_KNOBS;
    this.budget = opts.destBudget ?? k.destBudget.default;
    this.rotation = opts.rotation ?? k.rotation.default;
    this.serviceDumpMs = opts.serviceDumpMs ?? k.serviceDumpMs.default;
    if (!Number.isInteger(this.budget) || this.budget < 1) throw new RangeError(`destBudget must be a positive integer, got ${this.budget}`);
    if (!Number.isInteger(this.rotation) || this.rotation < 0) throw new RangeError(`rotation must be a whole number, got ${this.rotation}`);
  }

  /** Services whose real servers are read every tick (those a console is showing), by service id. */
  watch(ids: Iterable<string>): void {
    this.watched = new Set(ids);
  }

  /** Services a write touched (null: all of them): the service dump and their real servers are read at the next tick. */
  changed(keys: readonly (ServiceKey | null)[]): void {
    this.written = true;
    for (const k of keys) {
      if (k === null) this.dirtyAll = true;
      else this.dirty.add(serviceId(k));
    }
  }

  /** One tick's reading; `all` reads every service's real servers, whatever the budget. */
  async read(opts: { all?: boolean } = {}): Promise<Reading> {
    const totals = this.opts.totals ? await this.timed('totals', this.opts.totals) : null;
    const file = await this.timed('proc', this.opts.structure);
    const services = await this.serviceDump(totals, file, opts.all ?? false);
    const ids = this.ids;
    const inFile = fileIndex(file);
    const pick = this.choose(services, ids, inFile, opts.all || this.known.size === 0);
    const got = await this.readDests(pick, services);
    const at = Date.now();
    for (const [i, dests] of got) {
      const prev = this.known.get(ids[i]!);
      this.known.set(ids[i]!, {
        dests: prev && sameDestinations(prev.dests, dests) ? prev.dests : freezeDests(dests),
        readAt: at, statsAtRead: services[i]!.stats, destsAt: at, entry: prev?.entry ?? null, entryFrom: prev?.entryFrom ?? null,
        matched: null, countsFrom: null, seen: 0,
      });
    }
    return (this.last = this.assemble(services, ids, inFile, got, at, totals));
  }

  /** The service dump: read again when anything it holds may have changed, else the last one. */
  private async serviceDump(totals: Stats | null, file: ProcIpvs, all: boolean): Promise<readonly ServiceState[]> {
    const clock = Date.now();
    const due = !this.list || !totals || !this.listTotals || !sameStats(totals, this.listTotals) || !sameFileShape(this.lastFile, file)
      || this.written || all || clock - this.listAt >= this.serviceDumpMs;
    this.lastFile = file;
    if (!due) return this.list!;
    this.written = false; // (a write named while the dump runs asks for the next one)
    this.list = await this.timed('services', () => this.opts.backend.listServices());
    this.ids = this.list.map(keptServiceId);
    this.fileKeys = this.list.map(keptProcKey);
    this.listTotals = totals;
    this.listAt = clock;
    this.counts.serviceDumps++;
    return this.list;
  }

  /** The policy: which services' real servers to read now (indices into `services`). */
  private choose(services: readonly ServiceState[], ids: readonly string[], inFile: FileIndex, all: boolean): number[] {
    if (this.dirtyAll) for (const id of ids) this.dirty.add(id);
    this.dirtyAll = false;
    const pick: number[] = [];
    const changed: number[] = [];
    const moved: number[] = [];
    const rest = new Oldest(this.rotation);
    for (let i = 0; i < services.length; i++) {
      const id = ids[i]!;
      const k = this.known.get(id);
      if (all || this.watched.has(id)) pick.push(i);
      else if (!k || this.dirty.has(id) || !this.matches(k, inFile.get(this.fileKeys[i]!))) changed.push(i);
      else if (!sameStats(services[i]!.stats, k.statsAtRead)) moved.push(i);
      else rest.add(i, k.readAt);
    }
    const readAt = (i: number) => this.known.get(ids[i]!)?.readAt ?? -Infinity;
    const budgeted = [...oldest(changed, this.budget, readAt), ...oldest(moved, this.budget, readAt)].slice(0, this.budget);
    const inBudget = new Set(budgeted);
    // the rotation takes the oldest of the rest and of what the budget left over
    const others = [...changed, ...moved].filter((i) => !inBudget.has(i)).concat(rest.items);
    pick.push(...budgeted, ...oldest(others, this.rotation, readAt));
    for (const i of pick) this.dirty.delete(ids[i]!);
    return pick;
  }

  /**
   * The reading: each service whose real servers were ever read, as of `at`; forgets services gone from the
   * list. What did not change is the previous reading's (its array, its map), so a quiet tick allocates nothing.
   */
  private assemble(services: readonly ServiceState[], ids: readonly string[], inFile: FileIndex, got: ReadonlyMap<number, unknown>, at: number, totals: Stats | null): Reading {
    const last = this.last;
    const prevList = last?.services ?? [];
    const prevBehind = last?.behind ?? NONE_BEHIND;
    // a new service dump may have dropped services: then `behind` and what is known are made anew
    const sweep = services !== this.assembled;
    this.assembled = services;
    if (sweep) this.readings++;
    let list: ServiceEntry[] | null = null;
    let behind: Map<string, number> | null = sweep ? new Map() : null;
    let n = 0;
    for (let i = 0; i < services.length; i++) {
      const id = ids[i]!;
      const k = this.known.get(id);
      if (!k) continue; // new, and its real servers not read yet
      if (sweep) k.seen = this.readings;
      const svc = services[i]!;
      const p = inFile.get(this.fileKeys[i]!);
      let current = got.has(i);
      if (!current && this.matches(k, p)) {
        // the file's connection counts are newer than the last GET_DEST's; unmoved counters are current
        if (k.countsFrom !== p) k.dests = withFileCounts(k.dests, p!);
        k.countsFrom = p!;
        current = sameStats(svc.stats, k.statsAtRead);
      }
      if (current) {
        k.destsAt = at;
        if (!sweep && prevBehind.has(id)) (behind ??= new Map(prevBehind)).delete(id);
      } else if (sweep) behind!.set(id, k.destsAt);
      else if (prevBehind.get(id) !== k.destsAt) (behind ??= new Map(prevBehind)).set(id, k.destsAt);
      if (!k.entry || (k.entryFrom !== svc && !sameService(k.entry, svc)) || k.entry.destinations !== k.dests) k.entry = freezeEntry(svc, k.dests);
      k.entryFrom = svc;
      if (!list && prevList[n] !== k.entry) list = prevList.slice(0, n);
      list?.push(k.entry);
      n++;
    }
    if (!list && n !== prevList.length) list = prevList.slice(0, n);
    if (sweep) {
      for (const [id, k] of this.known) if (k.seen !== this.readings) this.known.delete(id);
      if (this.dirty.size > 0) {
        const listed = new Set(ids);
        for (const id of this.dirty) if (!listed.has(id)) this.dirty.delete(id);
      }
    }
    return Object.freeze({
      at, totals, services: list ? Object.freeze(list) : prevList, behind: behind ?? prevBehind, unchanged: !!last && !list,
      missing: services.length - n, read: Object.freeze([...got.keys()].map((i) => ids[i]!)),
    });
  }

  /** sameShape, remembered while the file block and the real servers stay the same objects. */
  private matches(k: Known, p: ProcService | null | undefined): boolean {
    if (p && k.matched === p) return true;
    const same = sameShape(p, k.dests);
    k.matched = same ? p! : null;
    return same;
  }

  /** GET_DEST for the picked services, one after another; a service removed meanwhile is left out. */
  private async readDests(pick: readonly number[], services: readonly ServiceState[]): Promise<Map<number, DestinationState[]>> {
    const got = new Map<number, DestinationState[]>();
    const t = performance.now();
    for (const i of pick) {
      try {
        got.set(i, await this.opts.backend.listDestinations(services[i]!.key));
      } catch (e) {
        if (!(isIpvsError(e) && e.code === 'service_not_found')) throw e;
      }
    }
    this.counts.destDumps += pick.length;
    this.stageMs.dests += performance.now() - t;
    return got;
  }

  private async timed<T>(stage: 'totals' | 'proc' | 'services', f: () => Promise<T>): Promise<T> {
    const t = performance.now();
    try {
      return await f();
    } finally {
      this.stageMs[stage] += performance.now() - t;
    }
  }
}

/** The sampler as the agent runs it on a kernel: its own network namespace's /proc files. */
export function kernelSampler(backend: IpvsBackend, destBudget?: number): Sampler {
  return new Sampler({ backend, structure: procIpvsFile(), totals: procTotalsFile(), destBudget });
}

/** /proc/net/ip_vs, parsing only the service blocks that changed since the last read (whose bytes the file keeps until the next change). */
export function procIpvsFile(path = '/proc/net/ip_vs'): () => Promise<ProcIpvs> {
  const file = new ProcFile(path);
  let last: ProcIpvsParse | null = null;
  return async () => {
    const bytes = file.read();
    if (bytes || !last) {
      const prev = bytes ? last : null;
      last = null; // a file that does not parse leaves no parse whose bytes the next read overwrites
      last = reparseProcIpvs(bytes ?? file.last(), prev);
    }
    return last.proc;
  };
}

/** /proc/net/ip_vs_stats, parsed when it changed. */
export function procTotalsFile(path = '/proc/net/ip_vs_stats'): () => Promise<Stats> {
  const file = new ProcFile(path);
  let last: Stats | null = null;
  return async () => {
    const bytes = file.read();
    if (bytes || !last) last = Object.freeze(parseProcIpvsStats(Buffer.from(bytes ?? file.last()).toString('latin1')));
    return last;
  };
}

/**
 * A /proc file read whole, with blocking calls, into one of two buffers this object owns, compared with the
 * previous read's bytes in the other: a file that did not change costs no allocation and no parse. Reads
 * alternate between the buffers, so the bytes of the last change stay as they were until the next one.
 * Blocking: a /proc file of a thousand services is a few system calls, and a hand-over to libuv's
 * thread pool costs more than that in user-mode Linux (bench/RESULTS.md).
 */
export class ProcFile {
  private buf = Buffer.alloc(512 * 1024);
  private prev = Buffer.alloc(512 * 1024);
  private prevLen = -1;

  constructor(private readonly path: string) {}

  /** The file's bytes when they differ from the last read's (a view, valid until the read after the next), else null. */
  read(): Uint8Array | null {
    const fd = openSync(this.path, 'r');
    let n = 0;
    try {
      for (;;) {
        if (n === this.buf.length) {
          const grown = Buffer.alloc(this.buf.length * 2);
          this.buf.copy(grown);
          this.buf = grown;
        }
        // position null: /proc files have no size and no stable offsets
        const k = readSync(fd, this.buf, n, this.buf.length - n, null);
        if (k === 0) break;
        n += k;
      }
    } finally {
      closeSync(fd);
    }
    if (n === this.prevLen && this.buf.compare(this.prev, 0, n, 0, n) === 0) return null;
    [this.prev, this.buf] = [this.buf, this.prev];
    this.prevLen = n;
    return this.prev.subarray(0, n);
  }

  /** The last read's bytes (a view, valid until the read after the next). */
  last(): Uint8Array {
    return this.prev.subarray(0, Math.max(0, this.prevLen));
  }
}

const NONE_BEHIND: ReadonlyMap<string, number> = new Map();

/** The file cannot tell an IPv4 from an IPv6 fwmark service: both are keyed without the family. */
function procKey(k: ServiceKey): string {
  return serviceId(k.kind === 'fwmark' ? { ...k, family: 'inet' } : k);
}

const procKeys = new WeakMap<{ key: ServiceKey }, string>();
/** procKey of a frozen service object from a dump or the file (both hand out unchanged services again). */
function keptProcKey(svc: { key: ServiceKey }): string {
  let k = procKeys.get(svc);
  if (k === undefined) procKeys.set(svc, (k = procKey(svc.key)));
  return k;
}

/** Each service of the file by procKey; null for an ambiguous fwmark pair (then always "changed"). */
type FileIndex = ReadonlyMap<string, ProcService | null>;
const fileIndexes = new WeakMap<ProcIpvs, Map<string, ProcService | null>>();
function fileIndex(file: ProcIpvs): FileIndex {
  let m = fileIndexes.get(file);
  if (!m) {
    m = new Map();
    for (const s of file.services) {
      const k = keptProcKey(s);
      m.set(k, m.has(k) ? null : s);
    }
    fileIndexes.set(file, m);
  }
  return m;
}

/**
 * The two reads of the file show the same services and real servers (connection counts aside): when not,
 * a service was added, removed or changed, and the service dump is read again (a service removed and made
 * again by another tool has new counters). Unchanged blocks are the same (frozen) objects in both reads.
 */
function sameFileShape(a: ProcIpvs | null, b: ProcIpvs): boolean {
  if (a === b) return true;
  if (!a || a.services.length !== b.services.length) return false;
  for (let i = 0; i < b.services.length; i++) {
    const x = a.services[i]!, y = b.services[i]!;
    if (x !== y && serviceShape(x) !== serviceShape(y)) return false;
  }
  return true;
}

const shapes = new WeakMap<ProcService, string>();
function serviceShape(p: ProcService): string {
  let s = shapes.get(p);
  if (s === undefined) {
    s = `${keptProcKey(p)} ${p.scheduler} ${p.persistent} ${p.timeoutJiffies} ${p.netmask} ${p.onePacket}`;
    for (const d of p.destinations) s += `|${d.family} ${d.address} ${d.port} ${d.forward} ${d.weight}`;
    shapes.set(p, s);
  }
  return s;
}

/** The file shows the same real servers, in the same order, with the same forwarding and weights. */
function sameShape(p: ProcService | null | undefined, dests: readonly DestinationState[]): boolean {
  if (!p || p.destinations.length !== dests.length) return false;
  for (let j = 0; j < dests.length; j++) {
    const f = p.destinations[j]!, d = dests[j]!;
    // the kernel prints any forwarding method it does not name as Masq
    const forward = d.forward === 'bypass' ? 'nat' : d.forward;
    if (f.address !== d.address || f.port !== d.port || f.family !== d.family || f.forward !== forward || f.weight !== d.weight) return false;
  }
  return true;
}

function withFileCounts(dests: readonly DestinationState[], p: ProcService): readonly DestinationState[] {
  let out: DestinationState[] | null = null;
  for (let j = 0; j < dests.length; j++) {
    const d = dests[j]!, f = p.destinations[j]!;
    if (d.activeConns === f.activeConns && d.inactiveConns === f.inactiveConns) continue;
    (out ??= dests.slice())[j] = Object.freeze({ ...d, activeConns: f.activeConns, inactiveConns: f.inactiveConns });
  }
  return out ? Object.freeze(out) : dests;
}

/** Counters and the kernel's rates alike (its estimator changes rates while counters stand still). */
function sameStats(a: Stats, b: Stats): boolean {
  return a === b || a.conns === b.conns && a.inPkts === b.inPkts && a.outPkts === b.outPkts && a.inBytes === b.inBytes && a.outBytes === b.outBytes
    && a.cps === b.cps && a.inPps === b.inPps && a.outPps === b.outPps && a.inBps === b.inBps && a.outBps === b.outBps;
}

function sameService(a: ServiceState, b: ServiceState): boolean {
  return a === b || (sameServiceConfig(a, b) && sameStats(a.stats, b.stats));
}

function sameDestinations(a: readonly DestinationState[], b: readonly DestinationState[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (!sameDestinationConfig(x, y) || x.activeConns !== y.activeConns || x.inactiveConns !== y.inactiveConns
      || x.persistentConns !== y.persistentConns || !sameStats(x.stats, y.stats)) return false;
  }
  return true;
}

function freezeDests(dests: DestinationState[]): readonly DestinationState[] {
  for (const d of dests) {
    Object.freeze(d.stats);
    Object.freeze(d.tunnel);
    Object.freeze(d);
  }
  return Object.freeze(dests);
}

function freezeEntry(svc: ServiceState, dests: readonly DestinationState[]): ServiceEntry {
  Object.freeze(svc.key);
  Object.freeze(svc.flags);
  Object.freeze(svc.stats);
  return Object.freeze({ ...svc, destinations: dests as DestinationState[] });
}

/** The `k` items with the smallest `key`, smallest first, ties in their order in `items` (a stable sort and slice, without sorting them all). */
export function oldest(items: readonly number[], k: number, key: (i: number) => number): number[] {
  const o = new Oldest(k);
  for (const i of items) o.add(i, key(i));
  return o.items;
}

/** The `k` items added with the smallest keys so far, smallest first, ties in the order they were added. */
class Oldest {
  readonly items: number[] = [];
  private readonly keys: number[] = [];
  constructor(private readonly k: number) {}

  add(i: number, v: number): void {
    const { items, keys, k } = this;
    if (k < 1 || (items.length === k && v >= keys[k - 1]!)) return;
    let j = Math.min(items.length, k - 1);
    while (j > 0 && keys[j - 1]! > v) {
      items[j] = items[j - 1]!;
      keys[j] = keys[j - 1]!;
      j--;
    }
    items[j] = i;
    keys[j] = v;
  }
}
