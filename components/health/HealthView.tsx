'use client';
/** Health of every checked real server, per service: state, since when, last message, latency; actions and the timeline. */
import type { ReactNode } from 'react';
import type { HealthCounts } from './check-summary';
import { Badge } from '@/components/ui/Badge';
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
  /** failing, but kept in service by the minimum in service */
  kept?: boolean;
}

const HTH = 'px-2 py-1.5';

export function HealthTable({ rows, now, renderCheckNow, onMaintenance, disabledReason }: {
  rows: readonly HealthRowView[];
  now: number;
  renderCheckNow: (r: HealthRowView) => ReactNode;
  onMaintenance: (r: HealthRowView, on: boolean) => void;
  disabledReason?: string | null;
}) {
  if (rows.length === 0) return <p className="text-sm text-ink-3">No checks configured for this service: “Add checks” sets one HTTP GET or TCP check for all its real servers.</p>;
  return (
    <div className="overflow-x-auto">
    <table className="w-full text-sm">
      <thead className="border-b border-line text-left text-[11px] font-semibold uppercase tracking-wide text-ink-3">
        <tr><th className={HTH}>Real server</th><th className={HTH}>State</th><th className={HTH}>Since</th><th className={HTH}>Last check</th><th className={`${HTH} text-right`}>Latency</th><th className={HTH}>Checks</th><th className={HTH}><span className="sr-only">Actions</span></th></tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={`${r.serviceId} ${r.destinationId}`} className="border-t border-line">
            <td className="px-2 py-1.5 font-mono">{r.destinationId}</td>
            <td className="px-2">
              <HealthBadge state={r.state} message={r.message} />
              {r.kept ? <Badge tone="warn" className="ml-1" title="fails its checks, but the service's minimum in service keeps it taking connections">kept in service</Badge> : null}
            </td>
            <td className="px-2 tabular-nums text-ink-2">{r.since ? ago(now - r.since) : '—'}</td>
            <td className="px-2 text-ink-2">{r.message ?? '—'}</td>
            <td className="px-2 text-right tabular-nums text-ink-2">{r.latencyMs === null ? '—' : `${Math.round(r.latencyMs)} ms`}</td>
            <td className="px-2 text-xs text-ink-3">{r.checks.join(', ') || 'none'}</td>
            <td className="flex justify-end gap-2 px-2 py-1.5">
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
    </div>
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

/**
 * One service on the health page, collapsed to a line: what is checked, how
 * its servers fare, and the actions. Details (per server, transitions) and
 * the settings form open in place, one service at a time being the usual case.
 */
export function HealthServiceRow({ title, summary, counts, servers, open, editing, onOpen, onEdit, details, form, disabledReason }: {
  title: string;
  /** checkSummary(): null when nothing is checked */
  summary: string | null;
  counts: HealthCounts;
  servers: number;
  open: boolean;
  editing: boolean;
  onOpen: (open: boolean) => void;
  onEdit: (editing: boolean) => void;
  details: () => ReactNode;
  form: () => ReactNode;
  disabledReason: string | null;
}) {
  const regionId = `health-${title.replace(/[^A-Za-z0-9]+/g, '-')}`;
  return (
    <li className="border-b border-line last:border-b-0" aria-label={`Health of ${title}`}>
      <div className="grid grid-cols-[1fr_auto] items-center gap-x-4 gap-y-1 px-4 py-2.5 lg:grid-cols-[minmax(220px,1.2fr)_minmax(260px,2fr)_minmax(200px,1fr)_auto]">
        <button type="button" className="flex items-center gap-2 truncate text-left font-mono text-[13px] font-medium hover:text-accent"
          aria-expanded={open} aria-controls={regionId} onClick={() => onOpen(!open)}>
          <span aria-hidden className={`inline-block w-3 text-ink-3 transition-transform ${open ? 'rotate-90' : ''}`}>▸</span>{title}
        </button>
        <span className={`truncate text-sm ${summary ? 'text-ink-2' : 'text-ink-3'}`} title={summary ?? undefined}>
          {summary ?? 'Not checked: the kernel keeps sending traffic to a server that is down.'}
        </span>
        <span className="flex flex-wrap gap-1.5 text-xs">
          {summary ? (
            <>
              {counts.up ? <CountBadge tone="ok">{counts.up} up</CountBadge> : null}
              {counts.down ? <CountBadge tone="danger">{counts.down} down</CountBadge> : null}
              {counts.maintenance ? <CountBadge tone="warn">{counts.maintenance} maintenance</CountBadge> : null}
              {counts.checking ? <CountBadge tone="neutral">{counts.checking} checking</CountBadge> : null}
            </>
          ) : <span className="text-ink-3">{servers} real server{servers === 1 ? '' : 's'}</span>}
        </span>
        <span className="flex justify-end gap-2">
          <Button size="sm" variant={summary ? 'secondary' : 'primary'} disabledReason={disabledReason}
            onClick={() => { onEdit(!editing); if (!editing) onOpen(true); }} aria-expanded={editing}>
            {editing ? 'Close settings' : summary ? 'Edit checks' : 'Add checks'}
          </Button>
        </span>
      </div>
      {open ? (
        <div id={regionId} className="space-y-4 border-t border-line/60 bg-panel-2/30 px-4 py-3">
          {editing ? <section aria-label={`Check settings of ${title}`}>{form()}</section> : null}
          {details()}
        </div>
      ) : null}
    </li>
  );
}

const TONES = { ok: 'bg-ok/10 text-ok', danger: 'bg-danger/10 text-danger', warn: 'bg-warn/10 text-warn', neutral: 'bg-panel-2 text-ink-2' } as const;
function CountBadge({ tone, children }: { tone: keyof typeof TONES; children: ReactNode }) {
  return <span className={`num rounded px-1.5 py-0.5 font-medium ${TONES[tone]}`}>{children}</span>;
}

export function HealthDetails({ table, timeline, now }: { table: ReactNode; timeline: readonly TimelineEntry[]; now: number }) {
  return (
    <div className="grid gap-4 2xl:grid-cols-[3fr_2fr]">
      <section aria-label="Real servers">{table}</section>
      <section aria-label="Transitions">
        <h3 className="mb-2 text-[11px] font-semibold uppercase tracking-wide text-ink-3">Transitions</h3>
        <TransitionTimeline entries={timeline} now={now} />
      </section>
    </div>
  );
}
