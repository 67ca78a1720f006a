/**
 * The hold rule for replicated tables: a change arriving through ZooKeeper
 * that would remove every service of this director's table, or more than a
 * configured share of them, is not applied until an operator confirms it. A
 * peer's bug or a stolen key must not be able to empty every director at once.
 */

export interface RemovalVerdict {
  hold: boolean;
  /** ids of the local services the change removes */
  removed: string[];
  /** how many services the local table has */
  of: number;
  /** why it is held, in words for the HA panel; null when it is not */
  reason: string | null;
}

/** Default share (0-1) of the local services a replicated change may remove without confirmation. */
export const DEFAULT_HOLD_SHARE = 0.5;

export function replicatedRemovals(localIds: readonly string[], incomingIds: readonly string[], maxShare = DEFAULT_HOLD_SHARE): RemovalVerdict {
  const incoming = new Set(incomingIds);
  const local = [...new Set(localIds)];
  const removed = local.filter((id) => !incoming.has(id));
  const of = local.length;
  if (of === 0 || removed.length === 0) return { hold: false, removed, of, reason: null };
  const pct = (x: number) => `${Math.round(x * 100)} %`;
  if (removed.length === of) {
    return { hold: true, removed, of, reason: `it removes every service (${of} of ${of})` };
  }
  if (removed.length / of > maxShare) {
    return { hold: true, removed, of, reason: `it removes ${removed.length} of ${of} services (${pct(removed.length / of)}, more than ${pct(maxShare)})` };
  }
  return { hold: false, removed, of, reason: null };
}
