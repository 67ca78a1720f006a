'use client';
import dynamic from 'next/dynamic';
import { useState } from 'react';
import type { DrainProgress } from '@/lib/agent/events';
import type { LiveSample } from '@/lib/agent/live-wire';
import type { SkewAlarm } from '@/lib/live/hash-skew';
import { formatDestination, formatServiceKey, serviceKeyParts } from '@/lib/ipvs/format';
import { destinationId } from '@/lib/ipvs/ids';
import type { DestinationSpec, DestinationState, ServiceEntry, ServiceSpec, DestinationKey } from '@/lib/ipvs/model';
import { formatBitRate, formatCount, formatRate } from '../format';
import { DestinationForm } from '../forms/DestinationForm';
import { destinationFormOf, serviceFormOf } from '../forms/form-model';
import { ServiceForm } from '../forms/ServiceForm';
import type { RateSeries } from '../charts/RateChart';
import type { HistoryRange } from '@/lib/history/rings';
import { RANGES, RANGE_WORDS } from '../data/history-series';
import { DestinationTable, type SlowStartView } from '../services/DestinationTable';
import { DrainStatus, drainFraction } from '../services/DrainStatus';
import type { DestHealth } from '../services/out-of-service';
import { serviceFlagLabels } from '../services/labels';
import { SchedulerEditor, type SchedulerPatch } from '../services/SchedulerEditor';
import { schedulerIgnoresWeights, type Share } from '../services/shares';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Dialog } from '../ui/Dialog';
import { Panel } from '../ui/Panel';
import { Skeleton } from '../ui/Skeleton';

// uPlot only loads on this page (keeps the overview bundle small).
const RateChart = dynamic(() => import('../charts/RateChart'), { ssr: false, loading: () => <Skeleton className="h-[292px] w-full" /> });

export type ChartMetric = 'cps' | 'bps';

export interface ServiceViewProps {
  service: ServiceEntry;
  sample: LiveSample | undefined;
  destSample: (destId: string) => LiveSample | undefined;
  shares: ReadonlyMap<string, Share>;
  colors: ReadonlyMap<string, string>;
  chart: { times: ArrayLike<number>; intervals?: ArrayLike<number>; series: RateSeries[] };
  metric: ChartMetric;
  onMetric: (m: ChartMetric) => void;
  /** the chart's span: the agent's history over it, then live ticks */
  range?: HistoryRange;
  /** absent (the demo, live only): no range picker */
  onRange?: (r: HistoryRange) => void;
  disabledReason: string | null;
  onSaveScheduler: (p: SchedulerPatch) => Promise<void>;
  onUpdateService: (spec: ServiceSpec) => Promise<void>;
  onRemoveService: () => Promise<void>;
  /** ipvsadm -Z for this service */
  onZeroCounters: () => Promise<void>;
  onAddDestination: (d: DestinationSpec, opts: { slowStartSec?: number }) => Promise<void>;
  /** slow starts under way on this service, by destination id */
  slowStarts?: ReadonlyMap<string, SlowStartView>;
  onStopSlowStart?: (d: DestinationKey) => Promise<void>;
  /** destination ids the agent removes once drained */
  removals?: ReadonlySet<string>;
  onUpdateDestination: (d: DestinationSpec) => Promise<void>;
  onRemoveDestination: (d: DestinationState) => Promise<void>;
  onDrain: (d: DestinationState, o: { removeWhenDrained: boolean }) => Promise<void>;
  /** drain several at once (a rack); absent: no selection column. Resolves with the journal entries written. */
  onDrainMany?: (ds: DestinationState[], o: { removeWhenDrained: boolean }) => Promise<{ journalIds: number[] }>;
  drainProgress: DrainProgress | null;
  /** stop following the drain (the strip under the real servers goes away) */
  onDrainClose: () => void;
  /** the weight the real server had before its drain, back */
  onRestore: (d: DestinationKey) => Promise<void>;
  /** what the health checks say of each real server (by destination id), when the service is checked */
  health?: ReadonlyMap<string, DestHealth> | undefined;
  /** the agent's hash-skew alarm for this service (sh, mh, dh), if one is raised */
  skew?: SkewAlarm | null;
  /** "Add to draft" in the forms: stage each change in the director's change set instead of applying it */
  stage?: StageActions | undefined;
}

/** Staging instead of applying, one per form (the change set: components/changeset). */
export interface StageActions {
  updateService: (spec: ServiceSpec) => Promise<void>;
  removeService: () => Promise<void>;
  addDestination: (d: DestinationSpec) => Promise<void>;
  updateDestination: (d: DestinationSpec) => Promise<void>;
  removeDestination: (d: DestinationState) => Promise<void>;
}

export function ServiceView(p: ServiceViewProps) {
  const s = p.service;
  const [dialog, setDialog] = useState<
    | { kind: 'none' } | { kind: 'edit-service' } | { kind: 'remove-service' } | { kind: 'zero' } | { kind: 'add-dest' }
    | { kind: 'edit-dest'; d: DestinationState } | { kind: 'remove-dest'; d: DestinationState } | { kind: 'drain'; d: DestinationState }
    | { kind: 'drain-many'; ds: DestinationState[] }
  >({ kind: 'none' });
  const [picked, setPicked] = useState<ReadonlySet<string>>(new Set());
  const close = () => setDialog({ kind: 'none' });
  const flags = serviceFlagLabels(s);
  const v = p.sample;
  const up = s.destinations.filter((d) => d.weight > 0).length;
  const range = p.range ?? '15m';
  // only servers still in the table count (one may have gone meanwhile)
  const selectedDests = s.destinations.filter((d) => picked.has(destinationId(d)));

  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <div className="flex items-center gap-2">
            <Badge tone={s.key.kind === 'fwmark' ? 'accent' : 'neutral'}>{serviceKeyParts(s.key)[0]}</Badge>
            <h1 className="font-mono text-lg font-semibold">{serviceKeyParts(s.key)[1]}</h1>
          </div>
          <p className="mt-1 text-sm text-ink-3">
            {s.key.family === 'inet6' ? 'IPv6' : 'IPv4'} · scheduler <span className="font-mono">{s.scheduler}</span>
            {flags.length ? ` · ${flags.join(' · ')}` : ''}
          </p>
        </div>
        <dl className="flex gap-6 text-sm">
          <Stat label="Real servers up" value={`${up}/${s.destinations.length}`} />
          <Stat label="New conns" value={formatRate(v?.cps ?? 0)} />
          <Stat label="Traffic" value={formatBitRate(v ? v.inBps + v.outBps : 0)} wide />
          <Stat label="Active / inactive" value={`${formatCount(v?.active ?? 0)} / ${formatCount(v?.inactive ?? 0)}`} wide />
        </dl>
        <div className="flex gap-2">
          <Button onClick={() => setDialog({ kind: 'edit-service' })} disabledReason={p.disabledReason}>Edit service</Button>
          <Button onClick={() => setDialog({ kind: 'zero' })} disabledReason={p.disabledReason}>Zero counters</Button>
          <Button variant="danger" onClick={() => setDialog({ kind: 'remove-service' })} disabledReason={p.disabledReason}>Delete service</Button>
        </div>
      </div>

      {up === 0 ? (
        <div role="alert" className="rounded-md border border-danger/40 bg-danger/10 px-4 py-3 text-sm text-danger">
          <p className="font-semibold">No real server takes new connections: every new request to this service is dropped.</p>
          <p className="mt-1 text-danger/90">
            {s.destinations.length === 0
              ? 'It has no real server. Add one below.'
              : `All ${s.destinations.length} real server${s.destinations.length === 1 ? ' is' : 's are'} at weight 0${p.health && [...p.health.values()].some((h) => h.state === 'down') ? ', taken out by failing health checks (see the badges; the Health page can keep a minimum in service or add a sorry server)' : ''}.`}
          </p>
        </div>
      ) : null}

      {p.skew ? <SkewAlert alarm={p.skew} /> : null}

      <Panel title="Scheduling">
        <SchedulerEditor service={s} onSave={p.onSaveScheduler} disabledReason={p.disabledReason} />
      </Panel>

      <Panel
        title={`Per-server rates, last ${RANGE_WORDS[range]}`}
        actions={
          <div className="flex flex-wrap gap-2">
            {p.onRange ? (
              <div role="radiogroup" aria-label="Range" className="inline-flex rounded-md border border-line p-0.5">
                {RANGES.map((r) => (
                  <button key={r.range} type="button" role="radio" aria-checked={range === r.range} onClick={() => p.onRange?.(r.range)}
                    className={`rounded px-2.5 py-0.5 text-xs ${range === r.range ? 'bg-panel-2 font-medium text-ink' : 'text-ink-2'}`}>
                    {r.label}
                  </button>
                ))}
              </div>
            ) : null}
            <div role="radiogroup" aria-label="Metric" className="inline-flex rounded-md border border-line p-0.5">
              {(['cps', 'bps'] as const).map((m) => (
                <button key={m} type="button" role="radio" aria-checked={p.metric === m} onClick={() => p.onMetric(m)}
                  className={`rounded px-2.5 py-0.5 text-xs ${p.metric === m ? 'bg-panel-2 font-medium text-ink' : 'text-ink-2'}`}>
                  {m === 'cps' ? 'New conns/s' : 'Traffic'}
                </button>
              ))}
            </div>
          </div>
        }
      >
        {p.chart.series.length === 0 ? (
          <p className="py-10 text-center text-sm text-ink-3">No real servers to graph yet: add one under “Real servers” below, and its rate appears here.</p>
        ) : (
          <RateChart times={p.chart.times} intervals={p.chart.intervals} series={p.chart.series} rangeWords={RANGE_WORDS[range]}
            unit={p.metric === 'cps' ? 'new connections/s' : 'traffic'} format={p.metric === 'cps' ? formatRate : formatBitRate} />
        )}
      </Panel>

      {p.drainProgress && dialog.kind !== 'drain' ? (
        <DrainStrip progress={p.drainProgress} disabledReason={p.disabledReason} onDismiss={p.onDrainClose}
          onRestore={() => p.onRestore(p.drainProgress!.destination)} />
      ) : null}

      <Panel
        title={`Real servers (${s.destinations.length})`}
        actions={
          <div className="flex gap-2">
            {p.onDrainMany && s.destinations.length > 1 ? (
              <Button size="sm" onClick={() => setDialog({ kind: 'drain-many', ds: selectedDests })}
                disabledReason={p.disabledReason ?? (selectedDests.length === 0 ? 'Select the real servers to drain (the boxes on the left)' : null)}>
                Drain selected ({selectedDests.length})
              </Button>
            ) : null}
            <Button size="sm" variant="primary" onClick={() => setDialog({ kind: 'add-dest' })} disabledReason={p.disabledReason}>Add real server</Button>
          </div>
        }
        bodyClassName="p-0"
      >
        <DestinationTable
          destinations={s.destinations}
          samples={p.destSample}
          shares={p.shares}
          colors={p.colors}
          weightsMeaningful={!schedulerIgnoresWeights(s.scheduler) && !s.flags.persistent}
          health={p.health}
          slowStarts={p.slowStarts}
          removals={p.removals}
          selection={p.onDrainMany && s.destinations.length > 1 ? { selected: picked, onChange: setPicked } : undefined}
          actions={{
            disabledReason: p.disabledReason,
            onEdit: (d) => setDialog({ kind: 'edit-dest', d }),
            onRemove: (d) => setDialog({ kind: 'remove-dest', d }),
            onDrain: (d) => setDialog({ kind: 'drain', d }),
            onRestore: (d) => p.onRestore({ family: d.family, address: d.address, port: d.port }),
            ...(p.onStopSlowStart ? { onStopSlowStart: (d: DestinationState) => p.onStopSlowStart!({ family: d.family, address: d.address, port: d.port }) } : {}),
          }}
        />
        {schedulerIgnoresWeights(s.scheduler) ? (
          <p className="border-t border-line px-4 py-2 text-xs text-ink-3">The {s.scheduler} scheduler does not follow weights (other than 0), so connection shares need not match weight shares.</p>
        ) : null}
      </Panel>

      <Dialog open={dialog.kind === 'edit-service'} onClose={close} title="Edit virtual service">
        {dialog.kind === 'edit-service' ? (
          <ServiceForm editing initial={serviceFormOf(s)} onCancel={close} disabledReason={p.disabledReason}
            onSubmit={async (spec) => { await p.onUpdateService(spec); close(); }}
            onStage={p.stage ? async (spec) => { await p.stage!.updateService(spec); close(); } : undefined} />
        ) : null}
      </Dialog>
      <ConfirmDialog open={dialog.kind === 'zero'} title="Zero this service's counters?" confirmLabel="Zero counters"
        onCancel={close} onConfirm={async () => { await p.onZeroCounters(); close(); }}>
        The connection, packet and byte totals of this service and its real servers start again from 0 (ipvsadm -Z).
        This cannot be undone: the old totals are gone.
      </ConfirmDialog>
      <ConfirmDialog open={dialog.kind === 'remove-service'} title="Delete this virtual service?" confirmLabel="Delete service"
        alternative={p.stage ? { label: 'Add to draft', onClick: async () => { await p.stage!.removeService(); close(); } } : undefined}
        onCancel={close} onConfirm={async () => { await p.onRemoveService(); close(); }}>
        <p><span className="font-mono">{formatServiceKey(s.key)}</span> and its {s.destinations.length} real server{s.destinations.length === 1 ? '' : 's'} will be removed from the kernel. Existing connections through it stop being forwarded. You can undo this from the journal on the Snapshots page.</p>
      </ConfirmDialog>
      <Dialog open={dialog.kind === 'add-dest'} onClose={close} title="Add real server">
        {dialog.kind === 'add-dest' ? (
          <DestinationForm family={s.key.family} servicePort={s.key.kind === 'fwmark' ? 0 : s.key.port} onCancel={close} disabledReason={p.disabledReason}
            onSubmit={async (d, o) => { await p.onAddDestination(d, o); close(); }}
            onStage={p.stage ? async (d) => { await p.stage!.addDestination(d); close(); } : undefined} />
        ) : null}
      </Dialog>
      <Dialog open={dialog.kind === 'edit-dest'} onClose={close} title="Edit real server">
        {dialog.kind === 'edit-dest' ? (
          <DestinationForm editing family={s.key.family} initial={destinationFormOf(dialog.d)} onCancel={close} disabledReason={p.disabledReason}
            onSubmit={async (d) => { await p.onUpdateDestination(d); close(); }}
            onStage={p.stage ? async (d) => { await p.stage!.updateDestination(d); close(); } : undefined} />
        ) : null}
      </Dialog>
      <ConfirmDialog open={dialog.kind === 'remove-dest'} title="Remove this real server?" confirmLabel="Remove real server"
        alternative={p.stage && dialog.kind === 'remove-dest' ? { label: 'Add to draft', onClick: async () => { await p.stage!.removeDestination(dialog.d); close(); } } : undefined}
        onCancel={close} onConfirm={async () => { if (dialog.kind === 'remove-dest') await p.onRemoveDestination(dialog.d); close(); }}>
        {dialog.kind === 'remove-dest' ? (
          <p><span className="font-mono">{formatDestination(dialog.d)}</span> has {dialog.d.activeConns} active connection{dialog.d.activeConns === 1 ? '' : 's'}; removing it cuts them. To let them finish first, drain it instead.</p>
        ) : null}
      </ConfirmDialog>
      {dialog.kind === 'drain' ? (
        <DrainDialog d={dialog.d} progress={p.drainProgress} onStart={(o) => p.onDrain(dialog.d, o)} onClose={close} />
      ) : null}
      {dialog.kind === 'drain-many' && p.onDrainMany ? (
        <DrainManyDialog ds={dialog.ds} onClose={close}
          onStart={async (o) => { const r = await p.onDrainMany!(dialog.ds, o); setPicked(new Set()); return r; }} />
      ) : null}
    </div>
  );
}

function DrainDialog({ d, progress, onStart, onClose }: { d: DestinationState; progress: DrainProgress | null; onStart: (o: { removeWhenDrained: boolean }) => Promise<void>; onClose: () => void }) {
  const [started, setStarted] = useState(false);
  const [remove, setRemove] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const first = useFirstDrain(progress);
  const name = formatDestination(d);
  return (
    <Dialog open onClose={onClose} title={`Drain ${name}`}
      footer={
        started ? <Button onClick={onClose}>{progress?.done || progress?.gone ? 'Close' : 'Close (the drain goes on; its progress stays on the page)'}</Button> : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" onClick={async () => { setError(null); try { await onStart({ removeWhenDrained: remove }); setStarted(true); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } }}>Set weight 0 and drain</Button>
          </>
        )
      }>
      {!started ? (
        <>
          <p className="text-sm text-ink-2">The weight becomes 0 (Restore puts back {d.weight}): no new connections go to this server, existing ones finish, and clients with a persistence template keep coming until it expires. The page follows both down to zero.</p>
          <label className="mt-3 flex items-start gap-2 text-sm">
            <input type="checkbox" className="mt-0.5" checked={remove} onChange={(e) => setRemove(e.target.checked)} />
            <span>Remove it when drained: the agent removes it (journaled) once no connection and no template is left, even after this page closes. A weight set meanwhile keeps it.</span>
          </label>
        </>
      ) : progress ? (
        <>
          <DrainStatus progress={progress} fraction={drainFraction(progress, first)} />
          {progress.caveat ? <p className="mt-3 rounded-md border border-warn/40 bg-warn/5 px-3 py-2 text-xs text-ink-2">{progress.caveat}</p> : null}
        </>
      ) : <p className="text-sm text-ink-3">Reading the connection table…</p>}
      {error ? <p role="alert" className="mt-3 text-sm text-danger">{error}</p> : null}
    </Dialog>
  );
}

/** Drain a set of real servers (a rack) in one go: the agent reads them all first, so a missing one drains none. */
function DrainManyDialog({ ds, onStart, onClose }: {
  ds: DestinationState[];
  onStart: (o: { removeWhenDrained: boolean }) => Promise<{ journalIds: number[] }>;
  onClose: () => void;
}) {
  const [remove, setRemove] = useState(false);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<{ journalIds: number[]; removeWhenDrained: boolean } | null>(null);
  const [error, setError] = useState<string | null>(null);
  const n = ds.length;
  const servers = `${n} real server${n === 1 ? '' : 's'}`;
  return (
    <Dialog open onClose={onClose} title={`Drain ${servers}`}
      footer={
        done ? <Button onClick={onClose}>Close</Button> : (
          <>
            <Button onClick={onClose}>Cancel</Button>
            <Button variant="primary" disabledReason={busy ? 'Draining…' : null} onClick={async () => {
              setError(null);
              setBusy(true);
              try {
                const r = await onStart({ removeWhenDrained: remove });
                setDone({ journalIds: r.journalIds, removeWhenDrained: remove });
              } catch (e) {
                setError(e instanceof Error ? e.message : String(e));
              } finally {
                setBusy(false);
              }
            }}>Set weight 0 and drain {servers}</Button>
          </>
        )
      }>
      {done ? (
        <p role="status" className="text-sm text-ink-2">
          Drained {servers} (journal {done.journalIds.map((j) => `#${j}`).join(', ')}). Their weight is 0; the table&apos;s
          active / inactive / persistent counts show them emptying{done.removeWhenDrained ? ', and the agent removes each once it is empty' : ''}.
          Restore on each row puts its weight back.
        </p>
      ) : (
        <>
          <p className="text-sm text-ink-2">Each weight becomes 0 (Restore puts it back): no new connections go to them, existing ones finish, and clients with a persistence template keep coming until it expires. All are checked first: if one is no longer there, none is drained.</p>
          <ul aria-label="Real servers to drain" className="mt-3 max-h-48 space-y-0.5 overflow-y-auto rounded-md border border-line px-3 py-2 font-mono text-xs">
            {ds.map((d) => <li key={destinationId(d)}>{formatDestination(d)} <span className="text-ink-3">weight {d.weight}, {d.activeConns} active</span></li>)}
          </ul>
          <label className="mt-3 flex items-start gap-2 text-sm">
            <input type="checkbox" className="mt-0.5" checked={remove} onChange={(e) => setRemove(e.target.checked)} />
            <span>Remove them when drained: the agent removes each (journaled) once no connection and no template is left, even after this page closes. A weight set meanwhile keeps that one.</span>
          </label>
        </>
      )}
      {error ? <p role="alert" className="mt-3 text-sm text-danger">{error}</p> : null}
    </Dialog>
  );
}

/** The first reading of a drain, against which progress is measured. */
function useFirstDrain(progress: DrainProgress | null): { emptyIn: number | null; total: number } | null {
  const [first, setFirst] = useState<{ emptyIn: number | null; total: number } | null>(null);
  if (progress && first === null) setFirst({ emptyIn: progress.remains?.emptyIn ?? null, total: progress.active + progress.inactive + progress.persistent });
  return first;
}

/** A drain's progress that stays on the page after its dialog closes, with Restore. */
function DrainStrip({ progress, onRestore, onDismiss, disabledReason }: { progress: DrainProgress; onRestore: () => Promise<void>; onDismiss: () => void; disabledReason: string | null }) {
  const first = useFirstDrain(progress);
  const [error, setError] = useState<string | null>(null);
  return (
    <section aria-label="Drain in progress" className="rounded-md border border-accent/30 bg-accent/5 px-4 py-3">
      <div className="mb-2 flex flex-wrap items-center justify-between gap-2">
        <p className="text-sm font-semibold">Draining <span className="font-mono">{formatDestination(progress.destination)}</span></p>
        <div className="flex gap-2">
          {progress.restoreWeight !== null && !progress.gone ? (
            <Button size="sm" onClick={async () => { setError(null); try { await onRestore(); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } }} disabledReason={disabledReason}>
              Restore weight {progress.restoreWeight}
            </Button>
          ) : null}
          <Button size="sm" variant="ghost" onClick={onDismiss}>{progress.done || progress.gone ? 'Dismiss' : 'Stop following'}</Button>
        </div>
      </div>
      <DrainStatus progress={progress} fraction={drainFraction(progress, first)} />
      {error ? <p role="alert" className="mt-2 text-sm text-danger">{error}</p> : null}
    </section>
  );
}

function Stat({ label, value, wide }: { label: string; value: string; wide?: boolean }) {
  return (
    <div className={wide ? 'min-w-32' : 'min-w-24'}>
      <dt className="text-[11px] uppercase tracking-wide text-ink-3">{label}</dt>
      <dd className="num text-base font-semibold">{value}</dd>
    </div>
  );
}

/** New connections per real server against what the weights call for, and the flag that helps. */
function SkewAlert({ alarm }: { alarm: SkewAlarm }) {
  const minutes = Math.round((Date.now() - alarm.since) / 60_000);
  const held = minutes < 1 ? 'under a minute' : `${minutes} min`;
  return (
    <div role="alert" aria-label="Hash skew" className="rounded-md border border-warn/40 bg-warn/10 px-4 py-3 text-sm">
      <p className="font-semibold text-warn">
        Hash skew: {alarm.scheduler} sends new connections away from the weights (for {held}, {formatCount(alarm.conns)} connections in the last window).
      </p>
      <ul className="mt-2 space-y-1">
        {alarm.servers.map((x) => (
          <li key={x.id} className="flex items-center gap-3" data-share={x.share.toFixed(2)}>
            <span className="w-44 font-mono text-xs">{x.label}</span>
            <span className="relative h-2 w-48 rounded bg-panel-2" title={`${Math.round(x.share * 100)}% of new connections; its weight calls for ${Math.round(x.expected * 100)}%`}>
              <span className="absolute inset-y-0 left-0 rounded bg-warn" style={{ width: `${Math.round(x.share * 100)}%` }} />
              <span className="absolute inset-y-[-3px] w-0.5 bg-ink" style={{ left: `${Math.round(x.expected * 100)}%` }} />
            </span>
            <span className="text-xs text-ink-2">{Math.round(x.share * 100)}% (weight share {Math.round(x.expected * 100)}%)</span>
          </li>
        ))}
      </ul>
      <p className="mt-2 text-ink-2">{alarm.cause}</p>
      {alarm.fix ? <p className="mt-1 text-ink-2">Flag <span className="font-mono">{alarm.flag}</span> spreads by port too: <code className="font-mono text-xs">{alarm.fix}</code> (or set it under Scheduling).</p> : null}
    </div>
  );
}
