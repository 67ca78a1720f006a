/**
 * What the scheduler is doing: each real server's share of new connections
 * next to its share of weight. A server whose connection share is far from
 * its weight share is worth a look (persistence, a weight-ignoring scheduler
 * like rr/sh/mh, or an overloaded / threshold-limited server).
 */
export interface ShareInput {
  id: string;
  weight: number;
  /** new connections over the window (count, or rate × window) */
  newConns: number;
}

export interface Share {
  id: string;
  weightShare: number;
  connShare: number;
  /** connShare − weightShare, in share points; null when there were no new connections */
  skew: number | null;
}

export function computeShares(rows: readonly ShareInput[]): Share[] {
  let wSum = 0;
  let cSum = 0;
  for (const r of rows) {
    wSum += Math.max(0, r.weight);
    cSum += Math.max(0, r.newConns);
  }
  return rows.map((r) => {
    const weightShare = wSum > 0 ? Math.max(0, r.weight) / wSum : 0;
    const connShare = cSum > 0 ? Math.max(0, r.newConns) / cSum : 0;
    return { id: r.id, weightShare, connShare, skew: cSum > 0 ? connShare - weightShare : null };
  });
}

/** Schedulers whose spread does not follow weight, so a skew is expected rather than suspicious. */
export function schedulerIgnoresWeights(scheduler: string): boolean {
  return ['rr', 'lc', 'dh', 'lblc', 'lblcr', 'fo', 'ovf'].includes(scheduler);
}
