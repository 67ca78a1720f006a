/**
 * Failover rehearsal (issue #26 item 8): the pure part. The pre-flight reads
 * this director's HA status and its peers' answers; the report is what the
 * drill keeps as history. The agent (server/ha/rehearsal.ts) does the I/O.
 */
import type { HaStatus } from '../schemas/ha';

export interface PreflightCheck {
  name: 'lease' | 'peers' | 'tables' | 'sync' | 'zookeeper';
  ok: boolean;
  detail: string;
}

/** a peer's `ha.status` as the agent got it (null status: not reachable, `error` says why) */
export interface PeerView {
  director: string;
  status: HaStatus | null;
  error: string | null;
}

export interface ConnCounts { active: number; inactive: number }
export interface TrafficCounts { ok: number; failed: number }

export type RehearsalResult = 'ready' | 'not-ready' | 'failed';

export interface RehearsalReport {
  id: number;
  /** epoch ms: start */
  at: number;
  by: string;
  director: string;
  group: string;
  result: RehearsalResult;
  /** why not ready / failed, in words; null when ready */
  reason: string | null;
  preflight: PreflightCheck[];
  /** the peer that took the lease (null: none did) */
  newHolder: string | null;
  /** ms from asking for the handover until the peer held the lease and the VIPs left here */
  failoverMs: number | null;
  /** the lab's traffic generator: requests that failed during the drill (null: no traffic measured here) */
  failedRequests: number | null;
  okRequests: number | null;
  connectionsBefore: ConnCounts | null;
  connectionsAfter: ConnCounts | null;
  /** who hands back: this agent cannot act on the peer with its viewer token */
  handback: string;
  steps: { at: number; step: string }[];
}

export const REHEARSAL_HISTORY_MAX = 50;

/** Each check the drill needs before it moves a lease; all must pass. */
export function preflight(group: string, self: HaStatus, peers: readonly PeerView[]): PreflightCheck[] {
  const g = self.groups.find((x) => x.name === group);
  const checks: PreflightCheck[] = [];
  checks.push({
    name: 'zookeeper',
    ok: self.zookeeper.state === 'connected',
    detail: `ZooKeeper ${self.zookeeper.state} here`,
  });
  checks.push(!g
    ? { name: 'lease', ok: false, detail: `no VIP group '${group}' on ${self.director}` }
    : {
      name: 'lease',
      ok: g.leaseHolder === self.director && g.vrrpState === 'MASTER' && !g.fenced && !g.maintenance,
      detail: g.leaseHolder === self.director
        ? `${self.director} holds the lease (VRRP ${g.vrrpState}${g.fenced ? ', fenced' : ''}${g.maintenance ? ', in maintenance' : ''})`
        : `the lease is held by ${g.leaseHolder ?? 'nobody'}, not ${self.director}: rehearse from the master`,
    });
  const reachable = peers.filter((p) => p.status?.enabled && p.status.zookeeper.state === 'connected');
  checks.push({
    name: 'peers',
    ok: peers.length > 0 && reachable.length === peers.length
      && reachable.every((p) => p.status!.groups.some((x) => x.name === group && !x.fenced && !x.maintenance && x.vrrpState === 'BACKUP')),
    detail: peers.length === 0
      ? 'no peers configured (ha config: peers)'
      : peers.map((p) => {
        if (!p.status) return `${p.director}: unreachable (${p.error ?? 'no answer'})`;
        const pg = p.status.groups.find((x) => x.name === group);
        return `${p.director}: ZooKeeper ${p.status.zookeeper.state}, ${pg ? `VRRP ${pg.vrrpState}${pg.fenced ? ' fenced' : ''}${pg.maintenance ? ' maintenance' : ''}` : `no group ${group}`}`;
      }).join('; '),
  });
  const mine = self.table.appliedVersion;
  const versions = reachable.map((p) => `${p.director} v${p.status!.table.appliedVersion ?? '-'}`);
  checks.push({
    name: 'tables',
    ok: mine !== null && self.table.held == null && reachable.length === peers.length && peers.length > 0
      && reachable.every((p) => p.status!.table.appliedVersion === mine && p.status!.table.held == null),
    detail: `${self.director} v${mine ?? '-'}${versions.length ? `, ${versions.join(', ')}` : ''}${self.table.held ? ' (a change is held here)' : ''}`,
  });
  const syncUp = (s: HaStatus) => s.syncDaemons.length > 0;
  checks.push({
    name: 'sync',
    ok: syncUp(self) && peers.length > 0 && reachable.length === peers.length && reachable.every((p) => syncUp(p.status!)),
    detail: [self, ...reachable.map((p) => p.status!)].map((s) => `${s.director}: ${s.syncDaemons.map((d) => d.state).join('+') || 'no sync daemon'}`).join('; '),
  });
  return checks;
}

export function failedChecks(checks: readonly PreflightCheck[]): string | null {
  const bad = checks.filter((c) => !c.ok);
  return bad.length ? bad.map((c) => `${c.name}: ${c.detail}`).join('; ') : null;
}

/** Total active/inactive connections over a table (IPVS destination counters). */
export function connTotals(services: readonly { destinations: readonly { activeConns: number; inactiveConns: number }[] }[]): ConnCounts {
  let active = 0;
  let inactive = 0;
  for (const s of services) for (const d of s.destinations) { active += d.activeConns; inactive += d.inactiveConns; }
  return { active, inactive };
}

/** Requests that failed (and succeeded) between two readings of the traffic counters; null when either is missing. */
export function trafficDelta(before: TrafficCounts | null, after: TrafficCounts | null): TrafficCounts | null {
  if (!before || !after) return null;
  return { ok: Math.max(0, after.ok - before.ok), failed: Math.max(0, after.failed - before.failed) };
}

/** Newest first, at most `max`. */
export function addToHistory(history: readonly RehearsalReport[], report: RehearsalReport, max = REHEARSAL_HISTORY_MAX): RehearsalReport[] {
  return [report, ...history.filter((r) => r.id !== report.id)].slice(0, max);
}
