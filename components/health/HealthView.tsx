'use client';
/** Health of every checked real server, per service: state, since when, last message, latency; actions and the timeline. */
import type { ReactNode } from 'react';
import { Button } from '@/components/ui/Button';
import { Panel } from '@/components/ui/Panel';
import { HealthBadge, type HealthDisplayState } from './HealthBadge';
import { ago, TransitionTimeline, type TimelineEntry } from './TransitionTimeline';

export interface HealthRowView {
  serviceId: string;
  destinationId: string;
  state: HealthDisplayState;
  maintenance: boolean;
  since: number | null;
  message: string | null;
  latencyMs: number | null;
  checks: string[];
  configuredWeight: number;
}

export function HealthTable({ rows, now, renderCheckNow, onMaintenance, disabledReason }: {
  rows: readonly HealthRowView[];
  now: number;
  renderCheckNow: (r: HealthRowView) => ReactNode;
  onMaintenance: (r: HealthRowView, on: boolean) => void;
  disabledReason?: string | null;
}) {
  if (rows.length === 0) return <p className="text-sm text-ink-3">No checks configured for this service.</p>;
  return (
    <table className="w-full text-sm">
      <thead className="text-left text-xs text-ink-3">
        <tr><th className="py-1">Real server</th><th>State</th><th>Since</th><th>Last check</th><th className="text-right">Latency</th><th>Checks</th><th /></tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.serviceId} ${r.destinationId}`} className="border-t border-line">
            <td className="py-1.5 font-mono">{r.destinationId}</td>
            <td><HealthBadge state={r.state} message={r.message} /></td>
            <td className="tabular-nums text-ink-2">{r.since ? ago(now - r.since) : '—'}</td>
            <td className="text-ink-2">{r.message ?? '—'}</td>
            <td className="text-right tabular-nums text-ink-2">{r.latencyMs === null ? '—' : `${Math.round(r.latencyMs)} ms`}</td>
            <td className="text-xs text-ink-3">{r.checks.join(', ') || 'none'}</td>
            <td className="flex justify-end gap-2 py-1.5">
              {renderCheckNow(r)}
              <Button size="sm" variant={r.maintenance ? 'primary' : 'secondary'} disabledReason={disabledReason ?? null}
                title={r.maintenance ? 'End maintenance: the checks decide again' : 'Weight 0 until you end it; passing checks do not undo it'}
                onClick={() => onMaintenance(r, !r.maintenance)}>
                {r.maintenance ? 'End maintenance' : 'Maintenance'}
              </Button>
            </td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function HealthServicePanel({ title, table, form, timeline, now }: {
  title: string; table: ReactNode; form: ReactNode; timeline: readonly TimelineEntry[]; now: number;
}) {
  return (
    <div className="space-y-4">
      <Panel title={`Health · ${title}`}>{table}</Panel>
      <Panel title="Checks">{form}</Panel>
      <Panel title="Transitions"><TransitionTimeline entries={timeline} now={now} /></Panel>
    </div>
  );
}
