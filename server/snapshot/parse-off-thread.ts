/**
 * Parses a snapshot text on a worker thread when it is large, so the agent's
 * event loop (API, ticks, health checks, ZooKeeper heartbeats) keeps running
 * meanwhile; small texts, and hosts where no worker can start, parse inline.
 * One thread per job, with a heap cap and a timeout: a hostile text costs the
 * thread, never the agent. Worker discovery follows server/conn/reader.ts.
 */
import type { Worker } from 'node:worker_threads';
import { locateWorker, startWorker, type WorkerSpec } from '../worker-thread';
import { parseJob, SNAPSHOT_WORKER_MARK, type SnapshotParseJob, type SnapshotParseResult } from './parse-worker';

/** texts shorter than this parse inline: a thread's start costs more than their parse */
export const OFF_THREAD_MIN_CHARS = 128 * 1024;
const TIMEOUT_MS = 30_000;
const HEAP_MB = 256;

let spec: WorkerSpec | null | undefined;

function findWorker(): WorkerSpec | null {
  if (spec === undefined) spec = locateWorker(import.meta.url, 'parse-worker.ts', 'snapshot-worker.mjs');
  return spec;
}

export class SnapshotParseError extends Error {
  override name = 'SnapshotParseError';
}

function startParseWorker(s: WorkerSpec, job: SnapshotParseJob): Worker {
  return startWorker(s, { workerData: { [SNAPSHOT_WORKER_MARK]: true, job }, resourceLimits: { maxOldGenerationSizeMb: HEAP_MB } });
}

/** Whether the last large parse ran on a thread (for tests). */
export let lastParseThread: 'worker' | 'inline' | null = null;

export async function parseSnapshotText(job: SnapshotParseJob, opts: { thread?: 'auto' | 'main' } = {}): Promise<SnapshotParseResult> {
  const s = opts.thread === 'main' || job.text.length < OFF_THREAD_MIN_CHARS ? null : findWorker();
  if (!s) {
    lastParseThread = 'inline';
    return parseJob(job);
  }
  let w: Worker;
  try {
    w = startParseWorker(s, job);
  } catch {
    lastParseThread = 'inline';
    return parseJob(job);
  }
  lastParseThread = 'worker';
  return new Promise<SnapshotParseResult>((resolve, reject) => {
    let settled = false;
    const finish = (fn: () => void) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      void w.terminate();
      fn();
    };
    const timer = setTimeout(() => finish(() => reject(new SnapshotParseError(`parsing the snapshot took longer than ${TIMEOUT_MS / 1000} s`))), TIMEOUT_MS);
    w.once('message', (m: { ok: true; json: string } | { ok: false; message: string }) => {
      finish(() => (m.ok ? resolve(JSON.parse(m.json) as SnapshotParseResult) : reject(new SnapshotParseError(m.message))));
    });
    w.once('error', (e: Error & { code?: string }) => {
      if (e.code === 'ERR_WORKER_OUT_OF_MEMORY') {
        finish(() => reject(new SnapshotParseError(`the snapshot needs more than ${HEAP_MB} MB to parse`)));
        return;
      }
      // a worker that cannot load (a broken install) must not break restores: parse here from now on
      spec = null;
      lastParseThread = 'inline';
      finish(() => resolve(parseJob(job)));
    });
    w.once('exit', (code) => finish(() => reject(new SnapshotParseError(`the snapshot parser stopped (exit ${code})`))));
  });
}
