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
import { parentPort, workerData } from 'node:worker_threads';
import { ConnScanner, type ConnRecord } from '../../lib/conn/parse';
import { ConnFilterError, ConnPageCollector, ConnSummarizer, type ConnPageRequest } from '../../lib/conn/summary';

export type ConnWorkerJob =
  | { id: number; kind: 'summary'; path: string; chunkSize: number }
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
  | { type: 'done'; id: number; json: string }
  | { type: 'failed'; id: number; error: SerializedError };

function scanSync(path: string, chunkSize: number, onRecord: (r: ConnRecord) => void): number {
  const scanner = new ConnScanner(onRecord);
  const fd = openSync(path, 'r');
  try {
    const buf = Buffer.allocUnsafe(chunkSize);
    for (;;) {
      // position null: /proc files have no size and no stable offsets across reads
      const n = readSync(fd, buf, 0, chunkSize, null);
      if (n === 0) break;
      scanner.push(buf.subarray(0, n));
    }
    scanner.end();
  } finally {
    closeSync(fd);
  }
  return scanner.malformed;
}

export function runConnJob(job: ConnWorkerJob): unknown {
  if (job.kind === 'summary') {
    const s = new ConnSummarizer();
    return s.result(scanSync(job.path, job.chunkSize, s.add));
  }
  const c = new ConnPageCollector(job.req);
  return c.result(scanSync(job.path, job.chunkSize, c.add));
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
if (port && (workerData as Record<string, unknown> | null)?.[CONN_WORKER_MARK] === true) {
  port.on('message', (job: ConnWorkerJob) => {
    let msg: ConnWorkerMessage;
    try {
      msg = { type: 'done', id: job.id, json: JSON.stringify(runConnJob(job)) };
    } catch (e) {
      msg = { type: 'failed', id: job.id, error: serializeError(e) };
    }
    port.postMessage(msg);
  });
  port.postMessage({ type: 'ready' } satisfies ConnWorkerMessage);
}
