'use client';
import { useVirtualizer } from '@tanstack/react-virtual';
import { memo, useMemo, useRef, type CSSProperties, type ReactNode } from 'react';
import { formatCount } from '../format';
import { compareStates, stateColor } from './state-colors';

/** Stacked bar of connection entries per state, with the counts beside it. */
export const StateBar = memo(function StateBar({ byState, total, scaleMax }: {
  byState: Readonly<Record<string, number>>;
  total: number;
  /** total of the largest row, so rows compare by length */
  scaleMax: number;
}) {
  const states = Object.keys(byState).filter((s) => (byState[s] ?? 0) > 0).sort(compareStates);
  const width = scaleMax > 0 ? Math.max(total > 0 ? 2 : 0, (total / scaleMax) * 100) : 0;
  return (
    <div className="flex h-3.5 w-full overflow-hidden rounded-sm bg-panel-2" role="img"
      aria-label={states.map((s) => `${s} ${byState[s]}`).join(', ') || 'no connections'}>
      <div className="flex h-full" style={{ width: `${width}%` }}>
        {states.map((s) => (
          <div key={s} title={`${s}: ${byState[s]}`} style={{ width: `${((byState[s] ?? 0) / (total || 1)) * 100}%`, background: stateColor(s) }} />
        ))}
      </div>
    </div>
  );
});

export function StateLegend({ states }: { states: readonly string[] }) {
  return (
    <ul className="flex flex-wrap gap-x-4 gap-y-1 text-xs text-ink-2">
      {[...states].sort(compareStates).map((s) => (
        <li key={s} className="flex items-center gap-1.5">
          <span aria-hidden className="h-2.5 w-2.5 rounded-sm" style={{ background: stateColor(s) }} />
          <span className="font-mono">{s}</span>
        </li>
      ))}
    </ul>
  );
}

export interface HistogramRow {
  id: string;
  label: string;
  byState: Record<string, number>;
  flagged?: 'warn' | 'critical';
  indent?: boolean;
}

const ROW_H = 30;
/** Above this many rows the histogram scrolls in its own box and renders only what is in view. */
const VIRTUAL_FROM = 40;

/** One bar per service and, indented under it, per real server. */
export function StateHistogram({ rows, onSelect, selected }: {
  rows: readonly HistogramRow[];
  onSelect?: (id: string) => void;
  selected?: string | null;
}) {
  const totals = useMemo(() => rows.map((r) => Object.values(r.byState).reduce((a, b) => a + b, 0)), [rows]);
  const max = useMemo(() => Math.max(0, ...totals), [totals]);
  const row = (i: number, style?: CSSProperties) => {
    const r = rows[i]!;
    return <HistogramLine key={r.id} r={r} total={totals[i] ?? 0} max={max} selected={selected === r.id} onSelect={onSelect} style={style} />;
  };
  if (rows.length < VIRTUAL_FROM) return <div className="space-y-1">{rows.map((_, i) => row(i))}</div>;
  return <VirtualHistogram count={rows.length} row={row} />;
}

function VirtualHistogram({ count, row }: { count: number; row: (i: number, style: CSSProperties) => ReactNode }) {
  const box = useRef<HTMLDivElement>(null);
  const v = useVirtualizer({ count, getScrollElement: () => box.current, estimateSize: () => ROW_H, overscan: 10 });
  return (
    <div ref={box} className="h-[420px] overflow-y-auto" tabIndex={0} aria-label="Histogram rows (scrolls)">
      <div className="relative w-full" style={{ height: v.getTotalSize() }}>
        {v.getVirtualItems().map((it) => row(it.index, { position: 'absolute', top: 0, left: 0, transform: `translateY(${it.start}px)`, height: ROW_H - 2 }))}
      </div>
    </div>
  );
}

const HistogramLine = memo(function HistogramLine({ r, total, max, selected, onSelect, style }: {
  r: HistogramRow; total: number; max: number; selected: boolean; onSelect: ((id: string) => void) | undefined; style: CSSProperties | undefined;
}) {
  const syn = r.byState.SYN_RECV ?? 0;
  const est = r.byState.ESTABLISHED ?? 0;
  return (
    <button
      type="button"
      style={style}
      onClick={() => onSelect?.(r.id)}
      aria-pressed={selected}
      className={`grid w-full grid-cols-[minmax(180px,260px)_1fr_70px_80px_80px] items-center gap-3 rounded px-2 py-1 text-left hover:bg-panel-2 ${selected ? 'bg-panel-2 ring-1 ring-accent/50' : ''}`}
    >
      <span className={`truncate font-mono text-[13px] ${r.indent ? 'pl-5 text-ink-2' : 'font-medium'}`}>
        {r.flagged ? <span className={r.flagged === 'critical' ? 'text-danger' : 'text-warn'} title="SYN_RECV piling up">▲ </span> : null}
        {r.label}
      </span>
      <StateBar byState={r.byState} total={total} scaleMax={max} />
      <span className="num text-right text-xs" title="all entries">{formatCount(total)}</span>
      <span className="num text-right text-xs" style={{ color: stateColor('ESTABLISHED') }} title="ESTABLISHED">{formatCount(est)} est</span>
      <span className={`num text-right text-xs ${syn > 0 ? '' : 'text-ink-3'}`} style={syn > 0 ? { color: stateColor('SYN_RECV') } : undefined} title="SYN_RECV">{formatCount(syn)} syn</span>
    </button>
  );
});
