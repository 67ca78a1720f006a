/**
 * Streams /proc/net/ip_vs_conn into the byte-level scanner, one chunk at a
 * time, yielding to the event loop between chunks so summarising a
 * 1,000,000-entry table never holds the loop for long (the proof is
 * bench/conn-summary.bench.ts). Memory stays flat: one read buffer, the
 * aggregates (or one page), never the file as a string.
 */
import { open } from 'node:fs/promises';
import { setImmediate as yieldToLoop } from 'node:timers/promises';
import { ConnScanner, type ConnRecord } from '@/lib/conn/parse';
import { ConnPageCollector, ConnSummarizer, type ConnPage, type ConnPageRequest, type ConnSummary } from '@/lib/conn/summary';

export const IP_VS_CONN = '/proc/net/ip_vs_conn';

export interface ReadOptions {
  /** defaults to /proc/net/ip_vs_conn */
  path?: string;
  signal?: AbortSignal;
  /** bytes per read; 64 KiB keeps each parse slice well under a millisecond */
  chunkSize?: number;
  /** Called with the duration of each synchronous parse slice (ms): the time the loop is held. */
  onSlice?: (ms: number) => void;
}

/** Feeds every connection record of the file to `onRecord`; returns line and malformed counts. */
export async function scanConnections(
  onRecord: (r: ConnRecord) => void,
  { path = IP_VS_CONN, signal, chunkSize = 64 * 1024, onSlice }: ReadOptions = {},
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
  const s = new ConnSummarizer();
  const { malformed } = await scanConnections(s.add, opts);
  return s.result(malformed);
}

/**
 * One filtered page plus the total number of matches. The filter is validated
 * before the file is opened (ConnFilterError names the bad field).
 */
export async function readConnectionPage(req: ConnPageRequest, opts: ReadOptions = {}): Promise<ConnPage> {
  const c = new ConnPageCollector(req);
  const { malformed } = await scanConnections(c.add, opts);
  return c.result(malformed);
}
