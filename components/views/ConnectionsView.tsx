'use client';
import { useMemo } from 'react';
import { destinationId, keptServiceId } from '@/lib/ipvs/ids';
import { formatDestination, formatServiceKey } from '@/lib/ipvs/format';
import type { ServiceEntry } from '@/lib/ipvs/model';
import { busyServices, servicesById } from '../conn/busy-services';
import { ConnTable, type ConnRow } from '../conn/ConnTable';
import type { SummaryIndex } from '../conn/summary-index';
import { StateHistogram, StateLegend, type HistogramRow } from '../conn/StateHistogram';
import { SynRecvAlert } from '../conn/SynRecvAlert';
import { synRecvFinding, type SynRecvFinding } from '../conn/synrecv';
import { formatCount } from '../format';
import { FORWARD_LABEL } from '../services/labels';
import { Button } from '../ui/Button';
import { ErrorNote } from '../ui/ErrorNote';
import { inputClass } from '../ui/Field';
import { Panel } from '../ui/Panel';
import { Skeleton, TableSkeleton } from '../ui/Skeleton';

export interface ConnFilters {
  service: string;
  destination: string;
  state: string;
  client: string;
}

/** The service filter offers every service up to this many; above, the busiest this many. */
const OPTIONS_UP_TO = 200;
const MAX_ALERTS = 5;

export const NO_FILTERS: ConnFilters = { service: '', destination: '', state: '', client: '' };

export function ConnectionsView({ services, summary, summaryError, filters, onFilters, clientError, table, tableError }: {
  services: readonly ServiceEntry[] | undefined;
  summary: SummaryIndex | undefined;
  summaryError: string | null;
  filters: ConnFilters;
  onFilters: (f: ConnFilters) => void;
  clientError: string | null;
  table: { count: number; matched: number | null; rowAt: (i: number) => ConnRow | undefined; onRange: (a: number, b: number) => void };
  tableError: string | null;
}) {
  const byId = useMemo(() => servicesById(services ?? []), [services]);
  const { rows, findings, states, idle, busy } = useMemo(() => {
    const rows: HistogramRow[] = [];
    const findings: Array<{ server: string; forward: string; f: SynRecvFinding }> = [];
    const states = new Set<string>(Object.keys(summary?.byState ?? {}));
    // Services with entries first, busiest on top; the rest are counted, not drawn as empty bars.
    const { busy, idle } = busyServices(services ?? [], byId, summary);
    for (const { s, sid } of busy) {
      rows.push({ id: sid, label: formatServiceKey(s.key), byState: summary?.byService.get(sid) ?? {} });
      for (const d of s.destinations) {
        const did = destinationId(d);
        const byState = summary?.byDestination.get(`${sid} ${did}`) ?? {};
        const f = synRecvFinding(byState, d.forward);
        if (f) findings.push({ server: `${formatDestination(d)} of ${formatServiceKey(s.key)}`, forward: FORWARD_LABEL[d.forward], f });
        rows.push({ id: `${sid} ${did}`, label: formatDestination(d), byState, indent: true, ...(f ? { flagged: f.severity } : {}) });
      }
    }
    findings.sort((a, b) => (a.f.severity === b.f.severity ? b.f.synRecv - a.f.synRecv : a.f.severity === 'critical' ? -1 : 1));
    return { rows, findings, states: [...states], idle, busy };
  }, [services, byId, summary]);
  const selectedService = filters.service ? byId.get(filters.service)?.s : undefined;
  // Every service up to OPTIONS_UP_TO; above, the busiest and the one chosen (10,000 <option>s are a long task to draw).
  const optionsFrom = !services || services.length <= OPTIONS_UP_TO ? services ?? []
    : [...busy.slice(0, OPTIONS_UP_TO).map((b) => b.s), ...(selectedService && !busy.slice(0, OPTIONS_UP_TO).some((b) => b.s === selectedService) ? [selectedService] : [])];
  const serviceOptions = useMemo(() => optionsFrom.map((s) => <option key={keptServiceId(s)} value={keptServiceId(s)}>{formatServiceKey(s.key)}</option>),
    // by content: a new array of the same services (each summary tick) keeps the options
    [optionsFrom.map(keptServiceId).join(' ')]);

  const selectedRow = filters.destination ? `${filters.service} ${filters.destination}` : filters.service || null;

  return (
    <div className="space-y-4">
      <div className="flex items-end justify-between">
        <div>
          <h1 className="text-lg font-semibold">Connections</h1>
          <p className="text-sm text-ink-3">
            {summary ? <><span className="num">{formatCount(summary.total)}</span> entries, <span className="num">{formatCount(summary.templates)}</span> persistence templates</> : 'Reading the connection table…'}
          </p>
        </div>
        <StateLegend states={states.length ? states : ['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'UDP']} />
      </div>

      {findings.slice(0, MAX_ALERTS).map((x) => <SynRecvAlert key={x.server} server={x.server} forwardLabel={x.forward} finding={x.f} />)}
      {findings.length > MAX_ALERTS ? (
        <p role="alert" className="rounded-md border border-warn/50 bg-warn/5 px-4 py-2 text-sm text-warn">
          {findings.length - MAX_ALERTS} more real servers have SYN_RECV piling up; they are marked ▲ in the histogram below.
        </p>
      ) : null}

      <Panel title="State by service and real server" bodyClassName="p-2">
        {summaryError ? <div className="p-2"><ErrorNote title="The connection summary is not available">{summaryError}</ErrorNote></div>
          : !services || !summary ? <div className="space-y-2 p-2">{[0, 1, 2, 3].map((i) => <Skeleton key={i} className="h-5 w-full" />)}</div>
          : services.length === 0 ? <p className="p-4 text-sm text-ink-3">No virtual services on this director yet: add one on the Overview, or import a snapshot on the Snapshots page.</p>
          : <>
              {rows.length === 0 ? <p className="p-3 text-sm text-ink-3">No connection entries on any of the {formatCount(services.length)} services right now. Entries appear here as clients connect.</p> : (
                <StateHistogram rows={rows} selected={selectedRow} onSelect={(id) => {
                  const [sid, did] = id.split(' ');
                  onFilters({ ...filters, service: sid ?? '', destination: did ?? '' });
                }} />
              )}
              {idle > 0 && rows.length > 0 ? <p className="px-2 pt-2 text-xs text-ink-3">{formatCount(idle)} more service{idle === 1 ? '' : 's'} with no entries right now{services.length <= OPTIONS_UP_TO ? ' (choose one in the filter below to see it)' : ''}.</p> : null}
            </>}
      </Panel>

      <Panel
        title={<>Entries {table.matched !== null ? <span className="num font-normal text-ink-3">({formatCount(table.matched)} match)</span> : null}</>}
        actions={<Button size="sm" variant="ghost" onClick={() => onFilters(NO_FILTERS)} disabled={JSON.stringify(filters) === JSON.stringify(NO_FILTERS)}>Clear filters</Button>}
      >
        <form className="mb-3 grid gap-3 sm:grid-cols-2 xl:grid-cols-[minmax(220px,1fr)_minmax(200px,1fr)_170px_minmax(200px,1fr)]" onSubmit={(e) => e.preventDefault()}>
          <label className="text-xs text-ink-2">Service
            <select className={`${inputClass} mt-1`} value={filters.service} onChange={(e) => onFilters({ ...filters, service: e.target.value, destination: '' })}>
              <option value="">{services && services.length > OPTIONS_UP_TO ? `All services (the ${OPTIONS_UP_TO} with most entries listed)` : 'All services'}</option>
              {serviceOptions}
            </select>
          </label>
          <label className="text-xs text-ink-2">Real server
            <select className={`${inputClass} mt-1`} value={filters.destination} disabled={!selectedService} title={selectedService ? undefined : 'Choose a service first'}
              onChange={(e) => onFilters({ ...filters, destination: e.target.value })}>
              <option value="">{selectedService ? 'All real servers' : 'Choose a service first'}</option>
              {selectedService?.destinations.map((d) => <option key={destinationId(d)} value={destinationId(d)}>{formatDestination(d)}</option>)}
            </select>
          </label>
          <label className="text-xs text-ink-2">State
            <select className={`${inputClass} mt-1`} value={filters.state} onChange={(e) => onFilters({ ...filters, state: e.target.value })}>
              <option value="">Any state</option>
              {['SYN_RECV', 'ESTABLISHED', 'FIN_WAIT', 'TIME_WAIT', 'CLOSE', 'CLOSE_WAIT', 'LAST_ACK', 'SYN_SENT', 'UDP', 'NONE', ...states].filter((v, i, a) => a.indexOf(v) === i).map((st) => <option key={st} value={st}>{st}</option>)}
            </select>
          </label>
          <label className="text-xs text-ink-2">Client address or CIDR
            <input className={`${inputClass} mt-1 font-mono`} placeholder="10.0.0.0/8" defaultValue={filters.client} aria-invalid={clientError ? true : undefined}
              onBlur={(e) => onFilters({ ...filters, client: e.target.value.trim() })}
              onKeyDown={(e) => { if (e.key === 'Enter') onFilters({ ...filters, client: e.currentTarget.value.trim() }); }} />
            {clientError ? <span role="alert" className="mt-1 block text-danger">{clientError}</span> : null}
          </label>
        </form>
        {tableError ? <ErrorNote title="Could not read connection entries">{tableError}</ErrorNote>
          : table.matched === null ? <TableSkeleton rows={8} cols={6} />
          : <ConnTable count={table.count} rowAt={table.rowAt} onRange={table.onRange} />}
      </Panel>
    </div>
  );
}
