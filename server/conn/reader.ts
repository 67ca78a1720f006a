/**
 * Reads /proc/net/ip_vs_conn into a summary or one filtered page.
 *
 * By default the read, the parse and the aggregation run in a worker thread
 * (server/conn/worker.ts) and only the result comes back: the event loop is
 * never held by the parse (the agent summarises every tick, and a
 * 1,000,000-entry table takes far longer than any acceptable block), and
 * the worker can read /proc with blocking reads like cat instead of one
 * thread-pool round trip per 4 kB page. The proof is
 * bench/conn-summary.bench.ts.
 *
 * When no worker can be started (a bundle without conn-worker.mjs beside it,
 * a runtime without worker threads), the same work runs on the main thread
 * in small slices with a yield between them. Memory stays flat either way:
 * one read buffer, the aggregates (or one page), never the file as a string.
 */
import { open } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { Worker } from 'node:worker_threads';
import { LensCollector, type LensRequest, type LensResult } from '@/lib/conn/lens';
import { ConnScanner, type ConnRecord } from '@/lib/conn/parse';
import {
  ConnFilterError, ConnPageCollector, ConnSummarizer, type ConnPage, type ConnPageRequest, type ConnSummary,
} from '@/lib/conn/summary';
import { locateWorker, startWorker, type WorkerSpec } from '../worker-thread';
import { ByteKeeper, CONN_WORKER_MARK, type ConnWorkerJob, type ConnWorkerMessage, type SerializedError } from './worker';

export const IP_VS_CONN = '/proc/net/ip_vs_conn';

export interface ReadOptions {
  /** defaults to /proc/net/ip_vs_conn */
  path?: string;
  signal?: AbortSignal;
  /**
   * Bytes per read. Defaults: 256 KiB in the worker (reads block nobody there;
   * /proc returns a page per read whatever the size, a regular file fills it),
   * 16 KiB on the main thread, which keeps each parse slice near a millisecond
   * even on the slow lab kernel.
   */
  chunkSize?: number;
  /**
   * Called with each stretch (ms) this read holds the event loop: every parse
   * slice on the main thread; with a worker, once, for taking in the result.
   */
  onSlice?: (ms: number) => void;
  /**
   * 'auto' (default): a worker thread, or the main thread if none can be
   * started. 'worker' never falls back (tests prove the worker path with it);
   * 'main' never starts one.
   */
  thread?: 'auto' | 'worker' | 'main';
}

const WORKER_CHUNK = 256 * 1024;
const MAIN_CHUNK = 16 * 1024;

/** Feeds every connection record of the file to `onRecord` on the main thread; returns line and malformed counts. */
export async function scanConnections(
  onRecord: (r: ConnRecord) => void,
  { path = IP_VS_CONN, signal, chunkSize = MAIN_CHUNK, onSlice }: ReadOptions = {},
  keep?: ByteKeeper,
): Promise<{ lines: number; malformed: number }> {
  signal?.throwIfAborted();
  const scanner = new ConnScanner(onRecord);
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    for (;;) {
      // /proc files have no size and no stable offsets across reads: read sequentially with position null
      const { bytesRead } = await fh.read(buf, 0, chunkSize, null);
      if (bytesRead === 0) break;
      const t0 = onSlice ? performance.now() : 0;
      keep?.push(buf.subarray(0, bytesRead));
      scanner.push(buf.subarray(0, bytesRead));
      if (onSlice) onSlice(performance.now() - t0);
      await yieldToLoop();
      signal?.throwIfAborted();
    }
    scanner.end();
  } finally {
    await fh.close();
  }
  return { lines: scanner.lines, malformed: scanner.malformed };
}

/** Counts per state, per service, per destination (see lib/conn/summary.ts). */
export async function summarizeConnections(opts: ReadOptions = {}): Promise<ConnSummary> {
  const viaWorker = await inWorker<ConnSummary>({ kind: 'summary' }, opts);
  if (viaWorker !== NO_WORKER) return viaWorker.value;
  const s = new ConnSummarizer();
  const { malformed } = await scanConnections(s.add, opts);
  return s.result(malformed);
}

/**
 * A summary and, when the file is at most `keepBytes` long, its bytes as read:
 * pages can then be cut from them (pageFromBytes) without another walk of the
 * kernel's table, which in /proc costs time that grows with its square.
 */
export async function snapshotConnections(opts: ReadOptions & { keepBytes: number }): Promise<{ summary: ConnSummary; bytes: Buffer | null }> {
  const viaWorker = await inWorker<ConnSummary>({ kind: 'snapshot', keepBytes: opts.keepBytes }, opts);
  if (viaWorker !== NO_WORKER) return { summary: viaWorker.value, bytes: viaWorker.bytes ? Buffer.from(viaWorker.bytes) : null };
  const s = new ConnSummarizer();
  const keep = new ByteKeeper(opts.keepBytes);
  const { malformed } = await scanConnections(s.add, opts, keep);
  const bytes = keep.take();
  return { summary: s.result(malformed), bytes: bytes ? Buffer.from(bytes) : null };
}

/** Feeds each record of a table kept by snapshotConnections to `add`, parsed on this thread in slices; resolves to the malformed count. */
async function scanBytes(add: (r: ConnRecord) => void, bytes: Uint8Array, { signal, chunkSize = MAIN_CHUNK, onSlice }: Pick<ReadOptions, 'signal' | 'chunkSize' | 'onSlice'> = {}): Promise<number> {
  const scanner = new ConnScanner(add);
  for (let at = 0; at < bytes.byteLength; at += chunkSize) {
    signal?.throwIfAborted();
    const t0 = onSlice ? performance.now() : 0;
    scanner.push(bytes.subarray(at, Math.min(bytes.byteLength, at + chunkSize)));
    if (onSlice) onSlice(performance.now() - t0);
    await yieldToLoop();
  }
  scanner.end();
  return scanner.malformed;
}

/** One filtered page of a table kept by snapshotConnections, parsed on this thread in slices. */
export async function pageFromBytes(req: ConnPageRequest, bytes: Uint8Array, opts: Pick<ReadOptions, 'signal' | 'chunkSize' | 'onSlice'> = {}): Promise<ConnPage> {
  const c = new ConnPageCollector(req);
  return c.result(await scanBytes(c.add, bytes, opts));
}

/** The persistence lens (lib/conn/lens.ts) over a kept table, or over a walk of its own when none was kept. */
export async function lensOf(req: LensRequest, bytes: Uint8Array | null, opts: ReadOptions = {}): Promise<LensResult> {
  const c = new LensCollector(req);
  if (bytes) return c.result(await scanBytes(c.add, bytes, opts));
  const { malformed } = await scanConnections(c.add, opts);
  return c.result(malformed);
}

/**
 * One filtered page plus the total number of matches. The filter is validated
 * before the file is opened (ConnFilterError names the bad field).
 */
export async function readConnectionPage(req: ConnPageRequest, opts: ReadOptions = {}): Promise<ConnPage> {
  // on this thread, so the caller gets the real ConnFilterError before any worker exists
  const c = new ConnPageCollector(req);
  const viaWorker = await inWorker<ConnPage>({ kind: 'page', req }, opts);
  if (viaWorker !== NO_WORKER) return viaWorker.value;
  const { malformed } = await scanConnections(c.add, opts);
  return c.result(malformed);
}

// ---------------------------------------------------------------------------
// Worker threads

const NO_WORKER: unique symbol = Symbol('no worker');
type JobSpec = { kind: 'summary' } | { kind: 'snapshot'; keepBytes: number } | { kind: 'page'; req: ConnPageRequest };
type JobOutput<T> = { value: T; bytes: ArrayBuffer | null | undefined };

/** undefined: not looked for yet; null: none can be started in this process. */
let spec: WorkerSpec | null | undefined;
let specOverride: WorkerSpec | null | undefined;

function findWorker(): WorkerSpec | null {
  if (specOverride !== undefined) return specOverride;
  if (spec === undefined) spec = locateWorker(import.meta.url, 'worker.ts', 'conn-worker.mjs');
  return spec;
}

function startConnWorker(s: WorkerSpec): Worker {
  return startWorker(s, { workerData: { [CONN_WORKER_MARK]: true } });
}

/**
 * Points the reader at another worker script (null: none available), or back
 * to its own with undefined; for tests of the fallback. Drops the idle worker.
 */
export function setConnWorkerForTests(s: WorkerSpec | null | undefined): void {
  specOverride = s;
  startFailures = 0;
  dropIdle();
}

// One worker stays alive between reads (the agent reads every tick, and starting a thread, above all
// under tsx or in the lab kernel, costs more than a small table's read); unref'd so it never keeps the
// process alive, and ended after a quiet spell so an idle agent does not hold its memory.
const IDLE_MS = 30_000;
let idle: { w: Worker; timer: NodeJS.Timeout } | null = null;
/** Startup failures: after this many in a row, 'auto' stops trying and stays on the main thread. */
let startFailures = 0;
const MAX_START_FAILURES = 3;
let nextId = 1;
let live = 0;

/** Worker threads of this reader that have not exited yet (busy or idle); for tests. */
export function connWorkerThreads(): number {
  return live;
}

function dropIdle(): void {
  if (!idle) return;
  clearTimeout(idle.timer);
  void idle.w.terminate();
  idle = null;
}

function park(w: Worker): void {
  if (idle) {
    void w.terminate();
    return;
  }
  w.unref();
  const timer = setTimeout(() => {
    if (idle?.w === w) idle = null;
    void w.terminate();
  }, IDLE_MS);
  timer.unref();
  idle = { w, timer };
}

class WorkerStartError extends Error {
  override name = 'WorkerStartError';
}

function reviveError(e: SerializedError): Error {
  const err: Error & Partial<NodeJS.ErrnoException> =
    e.name === 'ConnFilterError' && e.field !== undefined ? new ConnFilterError(e.field, '') : new Error(e.message);
  err.message = e.message;
  if (e.name !== 'ConnFilterError') err.name = e.name;
  if (e.stack !== undefined) err.stack = e.stack;
  if (e.code !== undefined) err.code = e.code;
  if (e.errno !== undefined) err.errno = e.errno;
  if (e.syscall !== undefined) err.syscall = e.syscall;
  if (e.path !== undefined) err.path = e.path;
  return err;
}

/** Runs the job in a worker; NO_WORKER when it should run on this thread instead. */
async function inWorker<T>(job: JobSpec, opts: ReadOptions): Promise<JobOutput<T> | typeof NO_WORKER> {
  const mode = opts.thread ?? 'auto';
  opts.signal?.throwIfAborted();
  if (mode === 'main') return NO_WORKER;
  const s = findWorker();
  if (!s || (mode === 'auto' && startFailures >= MAX_START_FAILURES)) {
    if (mode === 'worker') throw new Error('connection-table reader: no worker thread can be started here');
    return NO_WORKER;
  }
  await acquireSlot(opts.signal);
  try {
    opts.signal?.throwIfAborted();
    return await runJob<T>(s, job, opts);
  } catch (e) {
    if (e instanceof WorkerStartError && mode === 'auto') return NO_WORKER;
    throw e;
  } finally {
    releaseSlot();
  }
}

// Every read walks the kernel's whole connection table (and in /proc that walk grows with the square
// of its size): many pages asked at once must queue, not each start a thread and a walk.
const MAX_CONCURRENT_JOBS = 2;
let running = 0;
const waiting: (() => void)[] = [];

function acquireSlot(signal?: AbortSignal): Promise<void> {
  if (running < MAX_CONCURRENT_JOBS) {
    running++;
    return Promise.resolve();
  }
  return new Promise<void>((resolve, reject) => {
    const go = () => {
      signal?.removeEventListener('abort', onAbort);
      running++;
      resolve();
    };
    const onAbort = () => {
      const i = waiting.indexOf(go);
      if (i !== -1) waiting.splice(i, 1);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
    waiting.push(go);
  });
}

function releaseSlot(): void {
  running--;
  waiting.shift()?.();
}

function runJob<T>(s: WorkerSpec, spec: JobSpec, opts: ReadOptions): Promise<JobOutput<T>> {
  const { path = IP_VS_CONN, signal, chunkSize = WORKER_CHUNK, onSlice } = opts;
  const id = nextId++;
  const job: ConnWorkerJob = spec.kind === 'page'
    ? { id, kind: 'page', path, chunkSize, req: spec.req }
    : spec.kind === 'snapshot' ? { id, kind: 'snapshot', path, chunkSize, keepBytes: spec.keepBytes } : { id, kind: 'summary', path, chunkSize };

  let w: Worker;
  let ready: boolean;
  if (idle) {
    ({ w } = idle);
    clearTimeout(idle.timer);
    idle = null;
    w.ref();
    ready = true;
  } else {
    try {
      w = startConnWorker(s);
    } catch (e) {
      startFailures++;
      return Promise.reject(new WorkerStartError(`cannot start the connection-table worker: ${(e as Error).message}`, { cause: e }));
    }
    ready = false;
    live++;
    // between jobs nobody listens: an error event without a listener would throw in this process
    w.on('error', () => {});
    w.on('exit', () => {
      live--;
      if (idle?.w === w) dropIdle();
    });
  }

  return new Promise<JobOutput<T>>((resolve, reject) => {
    let settled = false;
    const finish = (keep: boolean, fn: () => void) => {
      if (settled) return;
      settled = true;
      w.off('message', onMessage);
      w.off('error', onError);
      w.off('exit', onExit);
      signal?.removeEventListener('abort', onAbort);
      if (keep) park(w);
      else void w.terminate();
      fn();
    };
    const onMessage = (m: ConnWorkerMessage) => {
      if (m.type === 'ready') {
        ready = true;
        startFailures = 0;
        return;
      }
      if (m.id !== id) return;
      if (m.type === 'failed') {
        finish(true, () => reject(reviveError(m.error)));
        return;
      }
      const t0 = performance.now();
      let value: T;
      try {
        value = JSON.parse(m.json) as T;
      } catch (e) {
        finish(false, () => reject(e));
        return;
      }
      onSlice?.(performance.now() - t0);
      finish(true, () => resolve({ value, bytes: m.bytes }));
    };
    const failed = (e: Error) => {
      if (ready) return e;
      startFailures++;
      return new WorkerStartError(`cannot start the connection-table worker: ${e.message}`, { cause: e });
    };
    const onError = (e: Error) => finish(false, () => reject(failed(e)));
    const onExit = (code: number) => finish(false, () => reject(failed(new Error(`the connection-table worker exited with code ${code}`))));
    const onAbort = () => finish(false, () => reject(signal!.reason));
    w.on('message', onMessage);
    w.on('error', onError);
    w.on('exit', onExit);
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      w.postMessage(job);
    } catch (e) {
      // a request that cannot be cloned: the caller's mistake, the worker is fine
      finish(true, () => reject(e));
    }
  });
}
