'use client';
import dynamic from 'next/dynamic';
import Link from 'next/link';
import { useDeferredValue, useMemo, useState } from 'react';
import { formatServiceKey } from '@/lib/ipvs/format';
import { keptServiceId, serviceId } from '@/lib/ipvs/ids';
import type { ServiceEntry, ServiceSpec } from '@/lib/ipvs/model';
import { formatCount, formatRate } from '../format';
import { servicesWithoutServer } from '../services/out-of-service';
import { ServiceTable, type ServiceRowLive } from '../services/ServiceTable';
import { Button } from '../ui/Button';
import type { HistoryRange } from '@/lib/history/rings';
import { RANGES } from '../data/history-series';
import { Dialog } from '../ui/Dialog';
import { ErrorNote } from '../ui/ErrorNote';
import { Panel } from '../ui/Panel';
import { Skeleton, TableSkeleton } from '../ui/Skeleton';

// The form (react-hook-form and the zod rules) loads when the dialog opens: a third of the page's scripts otherwise.
const ServiceForm = dynamic(() => import('../forms/ServiceForm').then((m) => m.ServiceForm), { ssr: false, loading: () => <Skeleton className="h-72 w-full" /> });

const EMPTY: readonly ServiceEntry[] = [];

export type SparkRange = 'live' | HistoryRange;
const SPARK_RANGES: readonly { range: SparkRange; label: string }[] = [{ range: 'live', label: '1 min' }, ...RANGES];

export function OverviewView({ directorName, services, loading, error, onRetry, live, cpsOf, hrefFor, onCreate, onStageCreate, disabledReason, sparkRange, onSparkRange }: {
  directorName: string;
  services: readonly ServiceEntry[] | undefined;
  loading: boolean;
  error: string | null;
  onRetry: () => void;
  live: (id: string) => ServiceRowLive;
  /** new connections per second of one service, without building its sparkline arrays */
  cpsOf: (id: string) => number;
  hrefFor: (id: string) => string;
  onCreate: (spec: ServiceSpec) => Promise<void>;
  /** "Add to draft": stage the new service in the director's change set */
  onStageCreate?: ((spec: ServiceSpec) => Promise<void>) | undefined;
  disabledReason: string | null;
  /** what the sparklines span: the last minute of live ticks, or the agent's history */
  sparkRange?: SparkRange;
  /** absent (the demo): no range picker */
  onSparkRange?: (r: SparkRange) => void;
}) {
  const [adding, setAdding] = useState(false);
  // A new list (10,000 services at once on a first load) renders in the background, in slices React
  // yields between, rather than in one task; until then the page shows what it showed before.
  const shown = useDeferredValue(services);
  const list = shown ?? EMPTY;
  // Per list, not per tick: ids and the table-derived totals only change when the list does.
  const { ids, up, total, active } = useMemo(() => {
    let up = 0, total = 0, active = 0;
    for (const s of list) {
      for (const d of s.destinations) {
        total++;
        if (d.weight > 0) up++;
        active += d.activeConns;
      }
    }
    return { ids: list.map(keptServiceId), up, total, active };
  }, [list]);
  const dropping = useMemo(() => servicesWithoutServer(list), [list]);
  let cps = 0;
  for (const id of ids) cps += cpsOf(id);
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Virtual services</h1>
          <p className="text-sm text-ink-3">{directorName}</p>
        </div>
        <dl className="flex gap-6 text-sm">
          <Stat label="Services" value={shown ? String(list.length) : '–'} />
          <Stat label="Real servers up" value={shown ? `${up}/${total}` : '–'} />
          <Stat label="New conns" value={shown ? formatRate(cps) : '–'} />
          <Stat label="Active conns" value={shown ? formatCount(active) : '–'} />
        </dl>
        <Button variant="primary" onClick={() => setAdding(true)} disabledReason={disabledReason}>Add service</Button>
      </div>
      {dropping.length > 0 ? (
        <div role="alert" className="rounded-md border border-danger/40 bg-danger/10 px-4 py-3 text-sm text-danger">
          <p className="font-semibold">
            {dropping.length === 1 ? '1 service has' : `${dropping.length} services have`} no real server taking new connections: their new requests are dropped.
          </p>
          <ul className="mt-1 flex flex-wrap gap-x-4 gap-y-1 font-mono text-[13px]">
            {dropping.slice(0, 8).map((s) => (
              <li key={serviceId(s.key)}><Link className="underline" prefetch={false} href={hrefFor(serviceId(s.key))}>{formatServiceKey(s.key)}</Link></li>
            ))}
            {dropping.length > 8 ? <li className="font-sans">and {dropping.length - 8} more</li> : null}
          </ul>
        </div>
      ) : null}
      <Panel bodyClassName="p-0"
        {...(onSparkRange ? {
          title: 'Services',
          actions: (
            <div role="radiogroup" aria-label="Sparkline range" className="inline-flex rounded-md border border-line p-0.5">
              {SPARK_RANGES.map((r) => (
                <button key={r.range} type="button" role="radio" aria-checked={(sparkRange ?? 'live') === r.range} onClick={() => onSparkRange(r.range)}
                  className={`rounded px-2.5 py-0.5 text-xs ${(sparkRange ?? 'live') === r.range ? 'bg-panel-2 font-medium text-ink' : 'text-ink-2'}`}>
                  {r.label}
                </button>
              ))}
            </div>
          ),
        } : {})}>
        {error ? (
          <div className="p-4"><ErrorNote title="Could not read the virtual services" action={<Button size="sm" onClick={onRetry}>Try again</Button>}>{error}</ErrorNote></div>
        ) : loading || !shown ? (
          <div className="p-4"><TableSkeleton rows={6} cols={8} /></div>
        ) : list.length === 0 ? (
          <div className="px-4 py-12 text-center">
            <p className="font-medium">No virtual services on this director.</p>
            <p className="mt-1 text-sm text-ink-3">Add one, or import a snapshot (ipvsadm -S) on the Snapshots page.</p>
          </div>
        ) : (
          <ServiceTable services={list} ids={ids} live={live} hrefFor={hrefFor} />
        )}
      </Panel>
      <Dialog open={adding} onClose={() => setAdding(false)} title="Add virtual service">
        {adding ? (
          <ServiceForm onCancel={() => setAdding(false)} disabledReason={disabledReason} onSubmit={async (spec) => { await onCreate(spec); setAdding(false); }}
            onStage={onStageCreate ? async (spec) => { await onStageCreate(spec); setAdding(false); } : undefined} />
        ) : null}
      </Dialog>
    </div>
  );
}

function Stat({ label, value }: { label: string; value: string }) {
  return (
    <div className="min-w-28">
      <dt className="text-[11px] uppercase tracking-wide text-ink-3">{label}</dt>
      <dd className="num text-base font-semibold">{value}</dd>
    </div>
  );
}
