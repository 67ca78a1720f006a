'use client';
import { useState } from 'react';
import type { LiveSample } from '@/lib/agent/live-wire';
import { formatDestination } from '@/lib/ipvs/format';
import { destinationId } from '@/lib/ipvs/ids';
import type { DestinationState } from '@/lib/ipvs/model';
import { formatBitRate, formatCount, formatPercent, formatRate } from '../format';
import { Button } from '../ui/Button';
import { Badge } from '../ui/Badge';
import type { Share } from './shares';
import { FORWARD_LABEL } from './labels';
import { outOfService, type DestHealth } from './out-of-service';

const TH = 'px-3 py-2 text-left text-[11px] font-semibold uppercase tracking-wide text-ink-3';

export interface DestinationActions {
  onEdit: (d: DestinationState) => void;
  onDrain: (d: DestinationState) => void;
  onRemove: (d: DestinationState) => void;
  /** back to the weight before its drain (the agent refuses when it was not drained through Director) */
  onRestore?: (d: DestinationState) => Promise<void>;
  /** end a slow start where it stands */
  onStopSlowStart?: (d: DestinationState) => Promise<void>;
  /** null when allowed, else why not */
  disabledReason: string | null;
}

/** A slow start under way, as destinations.slowStarts reports it. */
export interface SlowStartView { target: number; weight: number; step: number; steps: number; endsAt: number; by?: string }

/** Rows picked for an action on several at once (drain a rack), by destination id. */
export interface RowSelection {
  selected: ReadonlySet<string>;
  onChange: (next: ReadonlySet<string>) => void;
}

/** Real servers of one service, with what the scheduler is doing: connection share beside weight share. */
export function DestinationTable({ destinations, samples, shares, colors, actions, weightsMeaningful, health, slowStarts, removals, selection }: {
  destinations: readonly DestinationState[];
  samples: (id: string) => LiveSample | undefined;
  shares: ReadonlyMap<string, Share>;
  colors: ReadonlyMap<string, string>;
  actions: DestinationActions;
  weightsMeaningful: boolean;
  /** what the health checks say, by destination id, when the service is checked */
  health?: ReadonlyMap<string, DestHealth> | undefined;
  /** slow starts under way, by destination id */
  slowStarts?: ReadonlyMap<string, SlowStartView> | undefined;
  /** destination ids the agent removes once drained */
  removals?: ReadonlySet<string> | undefined;
  /** with it, a checkbox per row (and one for all) */
  selection?: RowSelection | undefined;
}) {
  if (destinations.length === 0) {
    return <p className="py-6 text-center text-sm text-ink-3">No real servers yet. Add one to start sending traffic to this service.</p>;
  }
  const ids = destinations.map((d) => destinationId(d));
  const picked = selection ? ids.filter((id) => selection.selected.has(id)).length : 0;
  const toggle = (id: string, on: boolean) => {
    if (!selection) return;
    const next = new Set(selection.selected);
    if (on) next.add(id);
    else next.delete(id);
    selection.onChange(next);
  };
  return (
    <div className="overflow-x-auto">
      {/* every column has its width and the table its sum, so below it the table scrolls in its card: the actions
          (Edit, Drain, Remove: 188 px) overlapped the connection counts at 1280 px when they had what was left; the share
          bar and its figures take 190 px and the padding */}
      <table aria-label="Real servers" className={`w-full ${selection ? 'min-w-[1196px]' : 'min-w-[1172px]'} table-fixed border-collapse text-sm`}>
        <colgroup>
          <col className={selection ? 'w-[224px]' : 'w-[200px]'} /><col className="w-[88px]" /><col className="w-[70px]" /><col className="w-[96px]" />
          <col className="w-[214px]" /><col className="w-[88px]" /><col className="w-[92px]" /><col className="w-[136px]" /><col className="w-[188px]" />
        </colgroup>
        <thead className="border-b border-line">
          <tr>
            <th className={TH}>
              {/* the boxes sit in the first cell, so the columns stay where they are with or without them */}
              {selection ? (
                <input type="checkbox" className="mr-2 align-middle" aria-label="Select all real servers" checked={picked > 0 && picked === ids.length}
                  ref={(el) => { if (el) el.indeterminate = picked > 0 && picked < ids.length; }}
                  onChange={(e) => selection.onChange(new Set(e.target.checked ? ids : []))} />
              ) : null}
              Real server
            </th>
            <th className={TH}>Forward</th>
            <th className={`${TH} text-right`}>Weight</th>
            <th className={`${TH} text-right`} title="lower / upper connection thresholds (0 = none)">Thresholds</th>
            <th className={TH} title="share of new connections (bar) against share of weight (tick)">Conn share vs weight</th>
            <th className={`${TH} text-right`}>Conns/s</th>
            <th className={`${TH} text-right`}>Traffic</th>
            <th className={`${TH} text-right`}>Act / inact / pers</th>
            <th className={`${TH} text-right`}><span className="sr-only">Actions</span></th>
          </tr>
        </thead>
        <tbody>
          {destinations.map((d) => {
            const id = destinationId(d);
            const v = samples(id);
            const sh = shares.get(id);
            const out = outOfService(d.weight, health?.get(id));
            const ramp = slowStarts?.get(id);
            return (
              <tr key={id} className="border-b border-line/70" data-destination-id={id}>
                <td className="px-3 py-2 font-mono text-[13px]">
                  <div className="flex min-w-0 items-center gap-2">
                    {selection ? (
                      <input type="checkbox" className="shrink-0" aria-label={`Select ${formatDestination(d)}`} checked={selection.selected.has(id)} onChange={(e) => toggle(id, e.target.checked)} />
                    ) : null}
                    <span aria-hidden className="inline-block h-2.5 w-2.5 shrink-0 rounded-sm" style={{ background: colors.get(id) }} />
                    <span className="truncate" title={formatDestination(d)}>{formatDestination(d)}</span>
                    {out ? <Badge tone={out.tone} className="shrink-0" title={out.title}>{out.label}</Badge> : null}
                  </div>
                  {ramp || removals?.has(id) ? (
                    <div className={`mt-1 flex flex-wrap items-center gap-1 ${selection ? 'pl-[39px]' : 'pl-[18px]'}`}>
                      {ramp ? <SlowStartBadge ramp={ramp} /> : null}
                      {removals?.has(id) ? <Badge tone="warn" title="The agent removes it once no connection and no persistence template is left; a weight set meanwhile keeps it.">removed when drained</Badge> : null}
                    </div>
                  ) : null}
                </td>
                <td className="px-3 py-2 text-xs text-ink-2">
                  {FORWARD_LABEL[d.forward]}
                  {d.forward === 'tun' ? <span className="ml-1 text-ink-3">{d.tunnel.type}{d.tunnel.type === 'gue' ? `:${d.tunnel.port}` : ''}</span> : null}
                </td>
                <td className="px-3 py-2 text-right"><span className="num">{d.weight}</span></td>
                <td className="px-3 py-2 text-right text-ink-2"><span className="num">{d.lowerThreshold || '–'} / {d.upperThreshold || '–'}</span></td>
                <td className="px-3 py-2"><ShareBar share={sh} weightsMeaningful={weightsMeaningful} /></td>
                <td className="px-3 py-2 text-right"><span className="num">{formatRate(v?.cps ?? 0)}</span></td>
                <td className="px-3 py-2 text-right"><span className="num">{formatBitRate(v ? v.inBps + v.outBps : 0)}</span></td>
                <td className="px-3 py-2 text-right">
                  <span className="num">{formatCount(v?.active ?? d.activeConns)}</span>
                  <span className="text-ink-3"> / </span><span className="num text-ink-2">{formatCount(v?.inactive ?? d.inactiveConns)}</span>
                  <span className="text-ink-3"> / </span><span className="num text-ink-2">{formatCount(v?.persistent ?? d.persistentConns)}</span>
                </td>
                <td className="px-3 py-2">
                  <div className="flex flex-wrap justify-end gap-1">
                    {ramp && actions.onStopSlowStart
                      ? <Button size="sm" variant="ghost" title="End the slow start: the weight it reached stays" onClick={() => void actions.onStopSlowStart!(d)} disabledReason={actions.disabledReason}>Stop ramp</Button>
                      : null}
                    <Button size="sm" variant="ghost" onClick={() => actions.onEdit(d)} disabledReason={actions.disabledReason}>Edit</Button>
                    {d.weight === 0 && actions.onRestore
                      ? <RestoreButton onRestore={() => actions.onRestore!(d)} disabledReason={actions.disabledReason} />
                      : <Button size="sm" variant="ghost" onClick={() => actions.onDrain(d)} disabledReason={actions.disabledReason}>Drain</Button>}
                    <Button size="sm" variant="ghost" className="text-danger" onClick={() => actions.onRemove(d)} disabledReason={actions.disabledReason}>Remove</Button>
                  </div>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}

function ShareBar({ share, weightsMeaningful }: { share: Share | undefined; weightsMeaningful: boolean }) {
  const conn = share?.connShare ?? 0;
  const weight = share?.weightShare ?? 0;
  const skewed = weightsMeaningful && share?.skew != null && Math.abs(share.skew) > 0.15;
  return (
    <div className="flex items-center gap-2" title={`new connections ${formatPercent(conn)} · weight ${formatPercent(weight)}`}>
      <div className="relative h-2.5 w-24 shrink-0 rounded-sm bg-panel-2">
        <div className={`h-full rounded-sm ${skewed ? 'bg-warn' : 'bg-accent'}`} style={{ width: `${conn * 100}%` }} />
        <div aria-hidden className="absolute -top-0.5 h-3.5 w-0.5 bg-ink" style={{ left: `calc(${weight * 100}% - 1px)` }} />
      </div>
      <span className="num w-[86px] text-xs text-ink-2">{share?.skew == null ? '—' : formatPercent(conn)} <span className="text-ink-3">/ {formatPercent(weight)}</span></span>
    </div>
  );
}

function RestoreButton({ onRestore, disabledReason }: { onRestore: () => Promise<void>; disabledReason: string | null }) {
  const [error, setError] = useState<string | null>(null);
  return (
    <span className="inline-flex items-center gap-1">
      <Button size="sm" variant="ghost" title="Back to the weight it had before its drain" disabledReason={disabledReason}
        onClick={async () => { setError(null); try { await onRestore(); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } }}>Restore</Button>
      {error ? <span role="alert" className="max-w-64 text-xs text-danger">{error}</span> : null}
    </span>
  );
}

/** "slow start 3 → 10" with a progress bar of its steps. */
function SlowStartBadge({ ramp }: { ramp: SlowStartView }) {
  const left = Math.max(0, Math.round((ramp.endsAt - Date.now()) / 1000));
  return (
    <span className="inline-flex shrink-0 items-center gap-1" role="status" aria-label={`slow start: weight ${ramp.weight} of ${ramp.target}, step ${ramp.step} of ${ramp.steps}`}
      title={`Slow start${ramp.by ? ` by ${ramp.by}` : ''}: weight ${ramp.weight}, climbing to ${ramp.target} (step ${ramp.step} of ${ramp.steps}, about ${left} s left)`}>
      <Badge tone="accent">slow start {ramp.weight} → {ramp.target}</Badge>
      <span aria-hidden className="h-1.5 w-10 rounded bg-panel-2"><span className="block h-full rounded bg-accent" style={{ width: `${Math.round((100 * ramp.step) / ramp.steps)}%` }} /></span>
    </span>
  );
}
