/**
 * The health, HA and connection-state families of /metrics, written in the
 * Prometheus text format from what the agent already holds: the health
 * service's rows, the HA controller's status and the connection reader's
 * latest summary. Nothing here reads the kernel or /proc itself.
 *
 * Naming follows https://prometheus.io/docs/practices/naming/: base units
 * (`_seconds`), `_total` on counters, and variants as label values (a state
 * is a label of one 0/1 series per possible value, so a panel can sum or
 * pick one). Label sets are bounded: health and HA series follow the
 * configuration; connection states are the kernel's fixed set (anything else
 * is counted as `other`), and the per-real-server series stop at `maxSeries`
 * (`director_ipvs_conn_metrics_truncated` says so).
 */
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import { KNOWN_STATES } from '@/lib/conn/parse';
import type { ConnSummary } from '@/lib/conn/summary';
import type { HaStatus } from '@/lib/schemas/ha';
import { vrrpStateSchema } from '@/lib/schemas/ha';
import type { HealthRow } from '../health/service';
import { escapeLabelValue } from './object-metrics';

type Labels = Record<string, string>;

/** One family's text: HELP, TYPE, then its series (none is fine: Prometheus accepts an empty family). */
class FamilyWriter {
  private readonly out: string[] = [];

  family(name: string, type: 'gauge' | 'counter', help: string, series: Iterable<[Labels, number]>): void {
    this.out.push(`# HELP ${name} ${help}\n# TYPE ${name} ${type}\n`);
    for (const [labels, v] of series) {
      const l = Object.entries(labels).map(([k, x]) => `${k}="${escapeLabelValue(x)}"`).join(',');
      this.out.push(`${name}${l ? `{${l}}` : ''} ${Number.isFinite(v) ? v : 'NaN'}\n`);
    }
  }

  text(): string {
    return this.out.join('');
  }
}

/** Health states a checked real server can be in (HealthRow.state without 'unchecked'). */
export const HEALTH_STATES = ['up', 'down', 'unknown', 'maintenance'] as const;

export interface HealthTransitionCount {
  serviceId: string;
  destinationId: string;
  to: string;
  count: number;
}

export function renderHealthMetrics(rows: readonly HealthRow[], transitions: readonly HealthTransitionCount[]): string {
  const w = new FamilyWriter();
  const checked = rows.filter((r) => r.state !== 'unchecked');
  const id = (r: HealthRow) => ({ service: r.serviceId, destination: r.destinationId });
  w.family('director_health_state', 'gauge', 'Health of each checked real server: 1 for its current state, 0 for the others (maintenance: set by an operator)',
    checked.flatMap((r) => HEALTH_STATES.map((s): [Labels, number] => [{ ...id(r), state: s }, r.state === s ? 1 : 0])));
  w.family('director_health_last_check_duration_seconds', 'gauge', 'How long the last check of the real server took',
    checked.filter((r) => r.latencyMs !== null).map((r): [Labels, number] => [id(r), r.latencyMs! / 1000]));
  w.family('director_health_consecutive_failures', 'gauge', 'Failures in a row of the check now failing (0 when every check passes)',
    checked.map((r): [Labels, number] => [id(r), r.failures]));
  w.family('director_health_transitions_total', 'counter', 'Health state changes of the real server since the agent started, by the state entered',
    transitions.map((t): [Labels, number] => [{ service: t.serviceId, destination: t.destinationId, to: t.to }, t.count]));
  return w.text();
}

export interface HaCounts {
  /** per group: times this director entered MASTER since the agent started */
  failovers: Record<string, number>;
}

export function renderHaMetrics(status: HaStatus, counts: HaCounts | null): string {
  const w = new FamilyWriter();
  w.family('director_ha_enabled', 'gauge', '1 when the agent runs with an HA configuration', [[{}, status.enabled ? 1 : 0]]);
  const groups = status.enabled ? status.groups : [];
  w.family('director_ha_vrrp_state', 'gauge', 'VRRP state of this director in each VIP group, as keepalived reports it: 1 for the current state, 0 for the others',
    groups.flatMap((g) => vrrpStateSchema.options.map((s): [Labels, number] => [{ group: g.name, state: s }, g.vrrpState === s ? 1 : 0])));
  w.family('director_ha_lease_held', 'gauge', '1 when this director holds the group\'s ZooKeeper lease (may hold the VIPs)',
    groups.map((g): [Labels, number] => [{ group: g.name }, g.leaseHolder === status.director ? 1 : 0]));
  w.family('director_ha_fenced', 'gauge', '1 when this director is fenced: keepalived forced to FAULT so it cannot hold the VIPs',
    groups.map((g): [Labels, number] => [{ group: g.name }, g.fenced ? 1 : 0]));
  w.family('director_ha_vips_present', 'gauge', 'VIPs of the group present on this director\'s interface (read from the kernel)',
    groups.map((g): [Labels, number] => [{ group: g.name }, g.vipsPresent.length]));
  w.family('director_ha_failovers_total', 'counter', 'Times this director took the MASTER role of the group since the agent started',
    groups.map((g): [Labels, number] => [{ group: g.name }, counts?.failovers[g.name] ?? 0]));
  if (status.enabled) {
    w.family('director_ha_zookeeper_connected', 'gauge', '1 while the agent\'s ZooKeeper session is connected',
      [[{}, status.zookeeper.state === 'connected' ? 1 : 0]]);
  }
  return w.text();
}

const KNOWN = new Set<string>(KNOWN_STATES);

/**
 * Connection entries per state per service and real server, from one summary of /proc/net/ip_vs_conn. Only
 * non-zero states are written (a state absent from a scrape reads as no entries). `ageSeconds` is how old the
 * summary is: scrapes reuse the reader's latest walk rather than walking the table each time.
 */
export function renderConnMetrics(summary: ConnSummary, meta: { ageSeconds: number; readSeconds: number }, maxSeries: number): string {
  const w = new FamilyWriter();
  const entries: [Labels, number][] = [];
  const templates: [Labels, number][] = [];
  let series = 0;
  let truncated = false;
  for (const d of summary.destinations) {
    const states = Object.entries(d.byState).filter(([, n]) => n > 0);
    series += states.length + (d.templates > 0 ? 1 : 0);
    if (series > maxSeries) { truncated = true; break; }
    const id = { service: serviceId(d.service), destination: destinationId(d) };
    const other = states.filter(([s]) => !KNOWN.has(s)).reduce((a, [, n]) => a + n, 0);
    for (const [s, n] of states) if (KNOWN.has(s)) entries.push([{ ...id, state: s }, n]);
    if (other > 0) entries.push([{ ...id, state: 'other' }, other]);
    if (d.templates > 0) templates.push([id, d.templates]);
  }
  w.family('director_ipvs_conn_entries', 'gauge', 'Entries of the IPVS connection table (not templates) per service, real server and state',
    entries);
  w.family('director_ipvs_conn_templates', 'gauge', 'Persistence templates in the IPVS connection table per service and real server', templates);
  w.family('director_ipvs_conn_read_age_seconds', 'gauge', 'Age of the connection-table summary these series come from', [[{}, meta.ageSeconds]]);
  w.family('director_ipvs_conn_read_duration_seconds', 'gauge', 'How long the walk of /proc/net/ip_vs_conn behind that summary took', [[{}, meta.readSeconds]]);
  w.family('director_ipvs_conn_metrics_truncated', 'gauge', '1 when some real servers\' connection series were left out to bound cardinality',
    [[{}, truncated ? 1 : 0]]);
  return w.text();
}
