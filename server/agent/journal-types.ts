import type { DestinationSpec, ServiceKey, ServiceRules, Timeouts } from '@/lib/ipvs/model';
import type { Role } from './context';

/** One object a write touched, with its state before and after (null: did not exist). */
export type JournalObject =
  | { kind: 'service'; key: ServiceKey; before: ServiceRules | null; after: ServiceRules | null }
  | { kind: 'destination'; service: ServiceKey; before: DestinationSpec | null; after: DestinationSpec | null }
  | { kind: 'timeouts'; before: Timeouts; after: Timeouts }
  /** counters were zeroed: recorded, cannot be undone */
  | { kind: 'counters'; key: ServiceKey | null };

export interface JournalEntry {
  id: number;
  /** ISO 8601 */
  at: string;
  role: Role;
  tokenName: string;
  remote: string;
  /** procedure path, e.g. "services.update" */
  op: string;
  objects: JournalObject[];
  /** id of the entry this one reverted (op "journal.undo") */
  undoes?: number;
}
