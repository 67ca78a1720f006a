/**
 * What the `ha` router needs from the HA controller. Without an HA
 * configuration the agent gets `disabledHa`, so the router and the console
 * always have a status to show.
 */
import type { RegistryListing } from '@/lib/enroll/registry';
import { ConflictError, PreconditionError } from '@/lib/errors';
import type { HaStatus } from '@/lib/schemas/ha';

export interface HaService {
  readonly enabled: boolean;
  status(): HaStatus;
  /** resolves at the next status change, or when `signal` aborts */
  changed(signal?: AbortSignal): Promise<void>;
  /** give the group's lease to a peer (this director must hold it) */
  handover(group: string, by: string): Promise<HaStatus>;
  maintenance(on: boolean, by: string): Promise<HaStatus>;
  /** apply the replicated change held for confirmation (sequence `seq`, as the status shows it) */
  confirmReplicated(seq: number, by: string): Promise<HaStatus>;
  /** counters since the agent started, for /metrics (per group: times this director became MASTER) */
  counts?(): { failovers: Record<string, number> };
  /** directors registered in ZooKeeper and waiting to be enrolled (lib/enroll/registry.ts) */
  registry?(): Promise<RegistryListing>;
}

/** HA is not configured or not connected: nothing this director can do now. */
export class HaUnavailableError extends PreconditionError {
  override readonly name = 'HaUnavailableError';
}
/** The HA state refuses it as it stands (wrong group, lease held elsewhere, no held change). */
export class HaPreconditionError extends ConflictError {
  override readonly name = 'HaPreconditionError';
}

export function disabledStatus(director: string): HaStatus {
  return {
    director,
    enabled: false,
    zookeeper: { state: 'disabled', since: 0, sessionTimeoutMs: 0, failStatic: false, message: 'this agent runs without --ha-config' },
    keepalived: { running: false, pid: null, configPath: null, lastError: null },
    groups: [],
    syncDaemons: [],
    table: { appliedVersion: null, zkVersion: null, lastError: null, refused: null, held: null },
    transitions: [],
  };
}

export function disabledHa(director: string): HaService {
  const status = disabledStatus(director);
  const no = () => Promise.reject(new HaUnavailableError(`high availability is not configured on ${director} (start the agent with --ha-config)`));
  return {
    enabled: false,
    status: () => status,
    changed: (signal) => new Promise<void>((resolve) => {
      if (signal?.aborted) return resolve();
      signal?.addEventListener('abort', () => resolve(), { once: true });
    }),
    handover: no,
    maintenance: no,
    confirmReplicated: no,
  };
}
