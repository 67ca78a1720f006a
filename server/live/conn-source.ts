/**
 * What the agent needs from the connection-table reader (server/conn/reader.ts),
 * behind a narrow interface, plus sharing. Every walk of /proc/net/ip_vs_conn
 * yields the summary AND keeps the file's bytes (up to keepBytes): summary
 * subscribers share one walk per tick, and pages are cut from the bytes of
 * the latest walk instead of walking again. A walk grows with the square of
 * the table in /proc (20 s at 100,000 entries in the lab kernel), so a page
 * per request made the connections page wait for a queue of walks.
 */
import type { ConnPage, ConnPageRequest, ConnSummary } from '@/lib/conn/summary';
import { ConnPageCollector } from '@/lib/conn/summary';
import { LensCollector } from '@/lib/conn/lens';
import type { LensRequest, LensResult } from '@/lib/conn/lens';
import { lensOf, pageFromBytes, readConnectionPage, snapshotConnections, type ReadOptions } from '../conn/reader';

export type { ConnPage, ConnPageRequest, ConnSummary };

export interface ConnSource {
  list(req: ConnPageRequest, signal?: AbortSignal): Promise<ConnPage>;
  /**
   * A summary no older than `maxAgeMs`; concurrent callers share one scan, which stops once every
   * caller that passed a signal has aborted and no caller without one is waiting.
   */
  summary(maxAgeMs: number, signal?: AbortSignal): Promise<{ at: number; summary: ConnSummary }>;
  /** Persistence templates of a client or service, and when each real server's expire (lib/conn/lens.ts). */
  lens?(req: LensRequest, signal?: AbortSignal): Promise<LensResult & { readAt: number }>;
}

/**
 * A walk after one that found the file this small or smaller runs on the main thread (in slices of a few
 * ms): a worker thread keeps megabytes of its own for as long as it is parked, more than parsing such a
 * table costs. The first walk, and any after a larger or unkept file, goes to the worker.
 */
export const MAIN_THREAD_BYTES = 1024 * 1024;

export interface ProcConnSourceOptions extends Pick<ReadOptions, 'path' | 'thread'> {
  /** Largest file kept for pages (default 32 MiB, about 300,000 entries); past it each page walks /proc itself. */
  keepBytes?: number;
  /** Pages come from a kept walk at most this old, or twice as old as that walk took (default 2 s). */
  pageMaxAgeMs?: number;
}

interface Walk {
  at: number;
  ms: number;
  summary: ConnSummary;
  bytes: Buffer | null;
}

/** A walk under way and how many callers still wait for it. */
interface SharedWalk {
  result: Promise<Walk>;
  waiters: number;
  stop: AbortController;
}

export function procConnSource(opts: ProcConnSourceOptions = {}): ConnSource {
  const keepBytes = opts.keepBytes ?? 32 * 1024 * 1024;
  const pageMaxAgeMs = opts.pageMaxAgeMs ?? 2000;
  const read: ReadOptions = opts.path ? { path: opts.path } : {};
  const thread = (): ReadOptions['thread'] => opts.thread ?? (last?.bytes && last.bytes.length <= MAIN_THREAD_BYTES ? 'main' : 'auto');
  let last: Walk | null = null;
  let pending: SharedWalk | null = null;

  const start = (): SharedWalk => {
    const t0 = performance.now();
    const stop = new AbortController();
    const shared: SharedWalk = {
      waiters: 0,
      stop,
      result: snapshotConnections({ ...read, thread: thread(), keepBytes, signal: stop.signal })
        .then(({ summary, bytes }) => (last = { at: Date.now(), ms: performance.now() - t0, summary, bytes }))
        .finally(() => { if (pending === shared) pending = null; }),
    };
    return shared;
  };
  // Joins the walk under way or starts one. A walk nobody waits for any more is stopped: in /proc it
  // holds a CPU in the kernel for seconds. Once stopped it is no longer `pending`, so nobody joins it.
  const walk = (signal?: AbortSignal): Promise<Walk> => {
    signal?.throwIfAborted();
    const w = (pending ??= start());
    w.waiters++;
    if (!signal) return w.result;
    return new Promise<Walk>((resolve, reject) => {
      const onAbort = () => {
        reject(signal.reason);
        if (--w.waiters > 0) return;
        if (pending === w) pending = null;
        w.stop.abort(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      w.result.then(resolve, reject).finally(() => signal.removeEventListener('abort', onAbort));
    });
  };
  const usable = (w: Walk | null): w is Walk & { bytes: Buffer } =>
    !!w?.bytes && Date.now() - w.at <= Math.max(pageMaxAgeMs, 2 * w.ms);

  return {
    async list(req, signal) {
      // a bad filter is refused before anything is read
      new ConnPageCollector(req);
      let w: Walk | null = last;
      // a walk under way is newer than any kept one; otherwise start one unless the kept one will do
      if (!usable(w)) w = await walk(signal);
      signal?.throwIfAborted();
      if (w.bytes) return { ...await pageFromBytes(req, w.bytes, signal ? { signal } : {}), readAt: w.at };
      // too large to keep: this page walks the table itself
      const at = Date.now();
      return { ...await readConnectionPage(req, { ...read, thread: thread(), ...(signal ? { signal } : {}) }), readAt: at };
    },
    async lens(req, signal) {
      // a bad request is refused before anything is read
      new LensCollector(req);
      let w: Walk | null = last;
      if (!usable(w)) w = await walk(signal);
      signal?.throwIfAborted();
      return { ...await lensOf(req, w.bytes, { ...read, thread: thread(), ...(signal ? { signal } : {}) }), readAt: w.at };
    },
    async summary(maxAgeMs, signal) {
      if (last && Date.now() - last.at < maxAgeMs) return last;
      return walk(signal);
    },
  };
}
