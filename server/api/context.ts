/**
 * Request context. `createContextInner` takes every dependency explicitly
 * (tests build it with the in-memory fake); the adapters' `createContext`
 * (server.ts) authenticates the request and then calls it.
 */
import type { Logger } from 'pino';
import type { Identity } from '@/lib/auth/identity';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { Journal } from '../table/journal';
import type { TableHub } from '../live/hub';
import type { Mutex } from '../table/mutex';
import type { ConnSource } from '../live/conn-source';
import type { HealthService } from '../health/service';
import type { HaService } from '../ha/service';
import type { SkewWatch } from '../live/skew';
import type { SlowStarts } from '../table/slow-start';
import type { DraftStore } from '../changeset/store';
import type { DrainRemovals } from '../table/drain-removals';
import type { OutsideWatch } from '../table/outside';
import type { HistoryService } from '../live/history';
import type { Rehearsals } from '../ha/rehearsal';

/** Long-lived dependencies shared by every request. */
export interface AgentDeps {
  backend: IpvsBackend;
  journal: Journal;
  hub: TableHub;
  /** Serialises read-modify-write sequences against the kernel (one writer at a time). */
  writeLock: Mutex;
  log: Logger;
  /** Connection table reader; null when none is available on this host. */
  conns: ConnSource | null;
  version: string;
  startedAt: number;
  /** Failover rehearsals (ha.rehearse); absent without HA. */
  rehearsals?: Rehearsals | null;
  /** Real-server health checks; absent when the agent runs without them. */
  health?: HealthService | null;
  /** This director's name among its HA peers (--director-id; defaults to the host name). */
  directorId?: string;
  /** High availability (VRRP + ZooKeeper lease); absent or disabled without --ha-config. */
  ha?: HaService | null;
  /** Hash-skew alarms for sh/mh/dh services; absent: none raised. */
  skew?: SkewWatch | null;
  /** Changes made outside Director (ipvsadm, keepalived); absent in tests that do not watch. */
  outside?: OutsideWatch | null;
  /** Rate history for charts; absent in tests that do not need it. */
  history?: HistoryService | null;
  /** Real servers climbing from weight 1 to their weight (server/table/slow-start.ts). */
  slowStarts?: SlowStarts | null;
  /** this director's change-set draft, kept in the state folder (absent: one in memory) */
  drafts?: DraftStore | null;
  /** Drained real servers to remove once empty (server/table/drain-removals.ts). */
  drainRemovals?: DrainRemovals | null;
}

export interface AgentContext extends AgentDeps {
  auth: Identity | null;
  /** Remote address for logs ("127.0.0.1", "unix"). */
  remote: string;
}

/** A request's context once the caller is known: what writers beyond the one writer (change sets) take. */
export type AgentWriteCtx = AgentContext & { auth: Identity };

export function createContextInner(deps: AgentDeps, auth: Identity | null, remote = 'internal'): AgentContext {
  return { ...deps, auth, remote };
}
