import type { DestinationSpec, ServiceKey, ServiceRules, SyncDaemon, SyncState, Timeouts } from '@/lib/ipvs/model';
import type { Role } from '@/lib/auth/identity';

/** One object a write touched, with its state before and after (null: did not exist). */
export type JournalObject =
  | { kind: 'service'; key: ServiceKey; before: ServiceRules | null; after: ServiceRules | null }
  | { kind: 'destination'; service: ServiceKey; before: DestinationSpec | null; after: DestinationSpec | null }
  | { kind: 'timeouts'; before: Timeouts; after: Timeouts }
  /** counters were zeroed: recorded, cannot be undone */
  | { kind: 'counters'; key: ServiceKey | null }
  /** a connection sync daemon started (before null) or stopped (after null) */
  | { kind: 'daemon'; state: SyncState; before: SyncDaemon | null; after: SyncDaemon | null };

/**
 * pending: recorded before the kernel was changed, not finished yet;
 * done: changed as `objects` say; failed: refused, and `objects` hold what
 * remains changed (none when the table is as before); interrupted: the
 * agent stopped between the two records, the kernel may or may not have it.
 */
export type JournalState = 'pending' | 'done' | 'failed' | 'interrupted';

export interface JournalEntry {
  id: number;
  /** ISO 8601 */
  at: string;
  role: Role;
  tokenName: string;
  /** the console user who made the change, when the console named one (signed with the token) */
  actor?: string;
  remote: string;
  /** procedure path, e.g. "services.update" */
  op: string;
  objects: JournalObject[];
  /** id of the entry this one reverted (op "journal.undo") */
  undoes?: number;
  /** absent in entries written before the journal was write-ahead: those are done */
  state?: JournalState;
  /** why a failed change failed */
  error?: string;
  /** what the change was, in words, when its op does not say (a change set's edits, why a canary rolled one back) */
  note?: string;
  /**
   * Set when the objects were too large to keep (a restore of thousands of
   * services): what they were, in words and counts; such an entry cannot be undone.
   */
  summary?: string;
}
