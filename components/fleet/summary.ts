/**
 * The fleet page's numbers and alarms, from what each director's agent
 * answers (pure: the page fetches, this decides). A director that does not
 * answer is a row of its own, never left out.
 */
import type { HaStatus } from '@/lib/schemas/ha';
import { findSplitBrain } from '../ha/cluster';
import type { TableSummary } from '@/lib/agent/table-summary';
import { opLabel } from '../snapshots/op-labels';

export interface FleetInput {
  id: string;
  name: string;
  /** why the agent could not be read; set = unreachable */
  error?: string | null;
  /** the agent's services.summary */
  summary?: TableSummary;
  /** services with a hash-skew alarm (null: the agent does not judge it) */
  skew?: number | null;
  /** null: HA is not enabled on this director */
  ha?: HaStatus | null;
  /** null: the agent runs without health checks */
  health?: ReadonlyArray<{ health: string; maintenance: boolean; kept?: boolean }> | null;
  lastChange?: { at: string; op: string; actor?: string | undefined; tokenName: string } | null;
  /** services changed outside Director (ipvsadm): their ids and what changed, in words; null: the agent does not watch */
  outside?: ReadonlyArray<{ serviceId: string; label: string; changes: readonly string[] }> | null;
}

export type Tone = 'danger' | 'warn';
export interface FleetAlarm {
  tone: Tone;
  text: string;
  /** the diff behind a short alarm, shown on hover and to screen readers */
  detail?: string;
  /** a service id on this director where the alarm can be acted on (its page) */
  service?: string;
}

export interface FleetRow {
  id: string;
  name: string;
  reachable: boolean;
  error: string | null;
  services: number;
  up: number;
  total: number;
  cps: number;
  bps: number;
  ha: Array<{ group: string; state: string; fenced: boolean; leaseHere: boolean }>;
  alarms: FleetAlarm[];
  lastChange: { at: string; what: string; who: string } | null;
}

export function fleetRow(d: FleetInput): FleetRow {
  const base = { id: d.id, name: d.name, services: 0, up: 0, total: 0, cps: 0, bps: 0, ha: [], lastChange: null };
  if (d.error) return { ...base, reachable: false, error: d.error, alarms: [{ tone: 'danger', text: 'unreachable' }] };
  const alarms: FleetAlarm[] = [];
  const { services, up, total, cps, bps, withoutServer: dropping } = d.summary ?? { services: 0, up: 0, total: 0, cps: 0, bps: 0, withoutServer: 0 };
  if (dropping > 0) alarms.push({ tone: 'danger', text: `${dropping} service${dropping === 1 ? '' : 's'} with no real server in service` });
  const failing = (d.health ?? []).filter((h) => h.health === 'down' && !h.maintenance).length;
  if (d.skew) alarms.push({ tone: 'warn', text: `${d.skew} service${d.skew === 1 ? '' : 's'} with hash skew` });
  if (failing > 0) alarms.push({ tone: 'warn', text: `${failing} failing health check${failing === 1 ? '' : 's'}` });
  const ha = d.ha?.enabled
    ? d.ha.groups.map((g) => ({ group: g.name, state: g.vrrpState, fenced: g.fenced, leaseHere: g.leaseHolder === d.ha!.director }))
    : [];
  for (const g of ha) if (g.fenced) alarms.push({ tone: 'danger', text: `fenced in ${g.group}` });
  if (d.ha?.enabled && d.ha.zookeeper.state !== 'connected' && d.ha.zookeeper.state !== 'disabled') {
    alarms.push({ tone: 'warn', text: `ZooKeeper ${d.ha.zookeeper.state}` });
  }
  // each with its own diff and its service page, where it is adopted or reverted
  for (const o of d.outside ?? []) {
    alarms.push({ tone: 'warn', text: `changed outside Director: ${o.label}`, detail: o.changes.join('; '), service: o.serviceId });
  }
  const c = d.lastChange;
  return {
    ...base, reachable: true, error: null, services, up, total, cps, bps, ha, alarms,
    lastChange: c ? { at: c.at, what: opLabel(c.op), who: c.actor ?? c.tokenName } : null,
  };
}

/** Alarms that need two directors to see: a VIP held by both (split brain). */
export function fleetAlarms(inputs: readonly FleetInput[]): FleetAlarm[] {
  const statuses = inputs.flatMap((d) => (d.ha?.enabled && !d.error ? [d.ha] : []));
  return findSplitBrain(statuses).map((s) => ({ tone: 'danger' as const, text: `split brain: ${s.vip} (${s.group}) is on ${s.directors.join(' and ')}` }));
}
