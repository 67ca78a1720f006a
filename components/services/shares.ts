/**
 * What the scheduler is doing: each real server's share of new connections
 * next to its share of weight. A server whose connection share is far from
 * its weight share is worth a look (persistence, a weight-ignoring scheduler
 * like rr/sh/mh, or an overloaded / threshold-limited server).
 */
import { connectionShares, type ShareInput } from '../../lib/rates';

export type { ShareInput };

/** One row of the share bars: zeros where lib/rates says "unknown", so bars render empty. */
export interface Share {
  id: string;
  weightShare: number;
  connShare: number;
  /** connShare − weightShare, in share points; null when either share is unknown */
  skew: number | null;
}

export function computeShares(rows: readonly ShareInput[]): Share[] {
  return connectionShares(rows).map((s) => ({
    id: s.id, weightShare: s.ofWeight ?? 0, connShare: s.ofNewConns ?? 0, skew: s.skew,
  }));
}

/** Schedulers whose spread does not follow weight, so a skew is expected rather than suspicious. */
export function schedulerIgnoresWeights(scheduler: string): boolean {
  return ['rr', 'lc', 'dh', 'lblc', 'lblcr', 'fo', 'ovf'].includes(scheduler);
}
