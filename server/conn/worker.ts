/**
 * The connection-table worker thread (started by server/conn/reader.ts).
 *
 * It reads the file with blocking readSync in a loop, like cat: /proc returns
 * one page per read, and on the main thread every one of those reads was a
 * thread-pool round trip plus a turn of the event loop, which made the
 * summary 1.66× cat at 100,000 entries. Here blocking costs nobody anything,
 * and the main thread only receives the result.
 *
 * Jobs run one at a time, synchronously: the main thread aborts one by
 * terminating the thread, so there is no cancellation to check for here.
 *
 * Imports are relative (not '@/...') so the file loads from any working
 * directory under tsx, and bundles on its own (scripts/build-cli.mjs).
 */
import { closeSync, openSync, readSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';
import { ConnScanner, type ConnRecord } from '../../lib/conn/parse';
import { ConnFilterError, ConnPageCollector, ConnSummarizer, type ConnPageRequest } from '../../lib/conn/summary';

export type ConnWorkerJob =
  | { id: number; kind: 'summary'; path: string; chunkSize: number }
  /** a summary, and the file's bytes as read when they fit in keepBytes (pages are then served from them) */
  | { id: number; kind: 'snapshot'; path: string; chunkSize: number; keepBytes: number }
  | { id: number; kind: 'page'; path: string; chunkSize: number; req: ConnPageRequest };

export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  errno?: number;
  syscall?: string;
  path?: string;
  field?: string;
}

export type ConnWorkerMessage =
  | { type: 'ready' }
  /** The result as JSON text: the receiving thread times its JSON.parse, the only time its loop is held (see onSlice). */
  | { type: 'done'; id: number; json: string; bytes?: ArrayBuffer | null }
  | { type: 'failed'; id: number; error: SerializedError };

/**
 * Keeps a copy of what was read, up to `cap` bytes; past that it gives up
 * (null), so a huge table never costs its size in memory twice over.
 */
export class ByteKeeper {
  private buf: Uint8Array | null;
  private used = 0;

  constructor(private readonly cap: number) {
    this.buf = cap > 0 ? new Uint8Array(Math.min(cap, 1 << 20)) : null;
  }

  push(chunk: Uint8Array): void {
    if (!this.buf) return;
    const need = this.used + chunk.byteLength;
    if (need > this.cap) {
      this.buf = null;
      return;
    }
    if (need > this.buf.byteLength) {
      const grown = new Uint8Array(Math.min(this.cap, Math.max(need, this.buf.byteLength * 2)));
      grown.set(this.buf.subarray(0, this.used));
      this.buf = grown;
    }
    this.buf.set(chunk, this.used);
    this.used = need;
  }

  /** The bytes kept, in a buffer of their own (transferable), or null. */
  take(): ArrayBuffer | null {
    if (!this.buf) return null;
    const out = this.buf.buffer.slice(0, this.used) as ArrayBuffer;
    this.buf = null;
    return out;
  }
}

function scanSync(path: string, chunkSize: number, onRecord: (r: ConnRecord) => void, keep?: ByteKeeper): number {
  const scanner = new ConnScanner(onRecord);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    for (;;) {
      // position null: /proc files have no size and no stable offsets across reads
      const n = readSync(fd, buf, 0, chunkSize, null);
      if (n === 0) break;
      keep?.push(buf.subarray(0, n));
      scanner.push(buf.subarray(0, n));
    }
    scanner.end();
  } finally {
    closeSync(fd);
  }
  return scanner.malformed;
}

/** The job's result, and for a snapshot the bytes kept (null when they did not fit). */
export function runConnJob(job: ConnWorkerJob): { result: unknown; bytes?: ArrayBuffer | null } {
  if (job.kind === 'summary' || job.kind === 'snapshot') {
    const s = new ConnSummarizer();
    const keep = job.kind === 'snapshot' ? new ByteKeeper(job.keepBytes) : undefined;
    const result = s.result(scanSync(job.path, job.chunkSize, s.add, keep));
    return keep ? { result, bytes: keep.take() } : { result };
  }
  const c = new ConnPageCollector(job.req);
  return { result: c.result(scanSync(job.path, job.chunkSize, c.add)) };
}

export function serializeError(e: unknown): SerializedError {
  if (!(e instanceof Error)) return { name: 'Error', message: String(e) };
  const x = e as NodeJS.ErrnoException;
  const out: SerializedError = { name: x.name, message: x.message };
  if (x.stack !== undefined) out.stack = x.stack;
  if (typeof x.code === 'string') out.code = x.code;
  if (typeof x.errno === 'number') out.errno = x.errno;
  if (typeof x.syscall === 'string') out.syscall = x.syscall;
  if (typeof x.path === 'string') out.path = x.path;
  if (e instanceof ConnFilterError) out.field = e.field;
  return out;
}

/** Set in workerData by reader.ts: a test runner's own worker threads (vitest) also have a parentPort. */
export const CONN_WORKER_MARK = 'directorConnWorker';

const port = parentPort;
/** The worker's nice value: its parse must give way to the event loop it serves whenever both can run. */
export const CONN_WORKER_NICE = 10;

if (port && (workerData as Record<string, unknown> | null)?.[CONN_WORKER_MARK] === true) {
  // pid 0 is this thread alone on Linux (each thread is a task); elsewhere, or if refused, the default stays
  try { setPriority(0, CONN_WORKER_NICE); } catch { /* not permitted here: the same work, at the same priority */ }
  port.on('message', (job: ConnWorkerJob) => {
    let msg: ConnWorkerMessage;
    try {
      const { result, bytes } = runConnJob(job);
      msg = { type: 'done', id: job.id, json: JSON.stringify(result), ...(bytes !== undefined ? { bytes } : {}) };
    } catch (e) {
      msg = { type: 'failed', id: job.id, error: serializeError(e) };
    }
    // the kept bytes move to the main thread without a copy
    port.postMessage(msg, msg.type === 'done' && msg.bytes ? [msg.bytes] : []);
  });
  port.postMessage({ type: 'ready' } satisfies ConnWorkerMessage);
}
