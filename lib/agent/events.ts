/**
 * Payloads of the agent's subscriptions, shared by the agent and the console.
 * Pure types and merge helpers: no I/O.
 */
import type {
  DestinationKey, DestinationSpec, ServiceEntry, ServiceKey, ServiceRules, ServiceSpec,
} from '../ipvs/model';
import type { DrainRemains } from '../conn/drain';
import type { ConnSummary } from '../conn/summary';

/**
 * One object's numbers at one tick in the agent, flat so that "what changed"
 * is a field-by-field comparison. Counters are the kernel's cumulative
 * values; `k*` are the kernel estimator's rates (2 s EWMA), which the rate
 * computation reads; `r*` are the rates Director computed from counter deltas
 * (lib/agent/director-rates.ts), the ones consoles get.
 */
export interface StatSample {
  conns: number;
  inPkts: number;
  outPkts: number;
  inBytes: number;
  outBytes: number;
  kCps: number;
  kInPps: number;
  kOutPps: number;
  /** bytes/s as the kernel reports them */
  kInBps: number;
  kOutBps: number;
  rCps: number;
  rInPps: number;
  rOutPps: number;
  /** bytes/s */
  rInBps: number;
  rOutBps: number;
  /** Connection counts; for a service, the sum over its destinations. */
  active: number;
  inactive: number;
  persistent: number;
}

export interface StatsStateService {
  v: StatSample;
  dests: Map<string, StatSample>;
}
export type StatsState = Map<string, StatsStateService>;

export type TableChange =
  | { type: 'service_added'; service: ServiceRules }
  | { type: 'service_removed'; service: ServiceRules }
  | { type: 'service_changed'; before: ServiceSpec; after: ServiceSpec }
  | { type: 'destination_added'; service: ServiceKey; destination: DestinationSpec }
  | { type: 'destination_removed'; service: ServiceKey; destination: DestinationSpec }
  | { type: 'destination_changed'; service: ServiceKey; before: DestinationSpec; after: DestinationSpec };

/** When the parts of a served service were read from the kernel (ms since epoch). */
export interface ReadAt {
  /** the service's settings and own counters, its real servers' list, weights and connection counts */
  config: number;
  /** its real servers' counters, thresholds and tunnel settings (read in turns: can be older than `config`) */
  stats: number;
}

/** A service as the agent serves it: in services.list and services.get, change events and mutation replies. */
export interface ServedService extends ServiceEntry {
  readAt: ReadAt;
}

export interface TableChangeEvent {
  seq: number;
  at: number;
  changes: TableChange[];
  /** the new state of every service added or changed in this event (patch a client's list with these) */
  services: ServedService[];
  /** services that went away */
  removed: ServiceKey[];
  /**
   * The subscriber missed events (it resumed from an id the agent no longer
   * holds, or the agent restarted): refetch services.list instead of merging.
   */
  resync: boolean;
}

export interface ConnSummaryTick {
  seq: number;
  /** ms since epoch of the scan */
  at: number;
  summary: ConnSummary;
}

export const PERSISTENCE_CAVEAT =
  'This service is persistent: clients that already have a persistence template keep being sent to this ' +
  'destination until their template expires (up to the persistence timeout after their last connection), ' +
  'even at weight 0.';

export type { DrainRemains };

export interface DrainProgress {
  service: ServiceKey;
  destination: DestinationKey;
  at: number;
  weight: number;
  active: number;
  inactive: number;
  persistent: number;
  /** connections and persistence templates still pointing at it, with their time left (null: no connection table) */
  remains: DrainRemains | null;
  /** active and inactive connections and persistence templates all reached 0 */
  done: boolean;
  /** active connections reached 0 (inactive ones and templates may remain) */
  activeDone: boolean;
  /** the weight it had before the drain, which Restore puts back (null: not drained through Director) */
  restoreWeight: number | null;
  /** the destination or its service disappeared while draining */
  gone: boolean;
  /** Set when the service is persistent: weight 0 does not stop returning clients. */
  caveat: string | null;
}

export const EMPTY_SAMPLE: Readonly<StatSample> = Object.freeze({
  conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0,
  kCps: 0, kInPps: 0, kOutPps: 0, kInBps: 0, kOutBps: 0,
  rCps: 0, rInPps: 0, rOutPps: 0, rInBps: 0, rOutBps: 0,
  active: 0, inactive: 0, persistent: 0,
});
