/**
 * What the agent needs from the connection-table reader (server/conn/reader.ts),
 * behind a narrow interface, plus sharing: one /proc scan per tick serves every
 * summary subscriber, however many there are.
 */
import type { ConnPage, ConnPageRequest, ConnSummary } from '@/lib/conn/summary';
import { readConnectionPage, summarizeConnections, type ReadOptions } from '../conn/reader';

export type { ConnPage, ConnPageRequest, ConnSummary };

export interface ConnSource {
  list(req: ConnPageRequest, signal?: AbortSignal): Promise<ConnPage>;
  /** A summary no older than `maxAgeMs`; concurrent callers share one scan. */
  summary(maxAgeMs: number): Promise<{ at: number; summary: ConnSummary }>;
}

export function procConnSource(opts: Pick<ReadOptions, 'path'> = {}): ConnSource {
  let last: { at: number; summary: ConnSummary } | null = null;
  let pending: Promise<{ at: number; summary: ConnSummary }> | null = null;
  return {
    list: (req, signal) => readConnectionPage(req, { ...opts, ...(signal ? { signal } : {}) }),
    summary(maxAgeMs) {
      if (last && Date.now() - last.at < maxAgeMs) return Promise.resolve(last);
      pending ??= summarizeConnections(opts)
        .then((summary) => (last = { at: Date.now(), summary }))
        .finally(() => { pending = null; });
      return pending;
    },
  };
}
