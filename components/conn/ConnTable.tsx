'use client';
import { useEffect, useState } from 'react';
import { formatDuration } from '../format';
import { stateColor } from './state-colors';

/** The fields of lib/conn/parse ConnEntry the table shows. */
export interface ConnRow {
  protocol: string;
  clientAddr: string;
  clientPort: number;
  vaddr: string | null;
  fwmark: number | null;
  vport: number;
  destAddr: string;
  destPort: number;
  state: string;
  expires: number;
  template: boolean;
}

const ROW_H = 28;
/** Rows drawn above and below the box's view, so a short scroll shows rows at once. */
const OVERSCAN = 20;
const COLS = 'grid grid-cols-[64px_minmax(200px,1.3fr)_minmax(200px,1.3fr)_minmax(200px,1.3fr)_130px_90px]';

function hp(addr: string, port: number): string {
  return addr.includes(':') ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/**
 * Connection entries, virtualised: only the rows in the box's view exist in the DOM, so
 * 100,000+ entries scroll smoothly. Rows have one height and the box a fixed one, so the rows in
 * view follow from the scroll offset alone (no measuring, no per-entry bookkeeping: a list of
 * a million offsets was a long task of its own). Rows come from a sparse, server-paged
 * cache (`rowAt`); missing ones show a placeholder and are requested through
 * `onRange` as they scroll into view.
 */
export function ConnTable({ count, rowAt, onRange, height = 520 }: {
  count: number;
  rowAt: (index: number) => ConnRow | undefined;
  onRange: (start: number, end: number) => void;
  height?: number;
}) {
  // the first row at the box's top edge; a scroll within one row changes nothing
  const [topRow, setTopRow] = useState(0);
  const first = Math.max(0, Math.min(topRow, count - 1) - OVERSCAN);
  const last = Math.min(count - 1, topRow + Math.ceil(height / ROW_H) + OVERSCAN);
  useEffect(() => {
    if (count > 0) onRange(first, last);
  }, [first, last, count, onRange]);
  const rows: number[] = [];
  for (let i = first; i <= last; i++) rows.push(i);

  return (
    <div className="overflow-x-auto rounded-md border border-line text-[13px]" role="table" aria-label="Connection entries" aria-rowcount={count}>
      <div className="min-w-[860px]">
      <div className={`${COLS} gap-2 border-b border-line bg-panel-2 px-3 py-2 text-[11px] font-semibold uppercase tracking-wide text-ink-3`} role="row">
        <span role="columnheader">Proto</span>
        <span role="columnheader">Client</span>
        <span role="columnheader">Virtual</span>
        <span role="columnheader">Real server</span>
        <span role="columnheader">State</span>
        <span role="columnheader" className="text-right">Expires</span>
      </div>
      <div onScroll={(e) => setTopRow(Math.floor(e.currentTarget.scrollTop / ROW_H))} style={{ height, overflow: 'auto', contain: 'strict' }}>
        {count === 0 ? <p className="py-10 text-center text-sm text-ink-3">No entries match these filters. Widen them (or “Clear filters”); entries exist only while clients are connected or within their state timeout.</p> : null}
        <div style={{ height: count * ROW_H, position: 'relative' }}>
          {rows.map((i) => {
            const r = rowAt(i);
            return (
              <div
                key={i}
                role="row"
                aria-rowindex={i + 1}
                className={`${COLS} absolute left-0 right-0 items-center gap-2 border-b border-line/50 px-3 font-mono`}
                style={{ height: ROW_H, transform: `translateY(${i * ROW_H}px)` }}
              >
                {r ? (
                  <>
                    <span role="cell" className="text-ink-2">{r.protocol.toUpperCase()}{r.template ? <span title="persistence template" className="ml-1 text-ink-3">T</span> : null}</span>
                    <span role="cell" className="truncate">{hp(r.clientAddr, r.clientPort)}</span>
                    <span role="cell" className="truncate text-ink-2">{r.vaddr === null ? `fwmark ${r.fwmark ?? '?'}` : hp(r.vaddr, r.vport)}</span>
                    <span role="cell" className="truncate">{hp(r.destAddr, r.destPort)}</span>
                    <span role="cell" className="flex items-center gap-1.5">
                      <span aria-hidden className="h-2 w-2 shrink-0 rounded-full" style={{ background: stateColor(r.state) }} />
                      {r.state}
                    </span>
                    <span role="cell" className="num text-right text-ink-2">{formatDuration(r.expires)}</span>
                  </>
                ) : (
                  <span role="cell" className="col-span-6 h-3 w-2/3 skeleton" aria-label="loading" />
                )}
              </div>
            );
          })}
        </div>
      </div>
      </div>
    </div>
  );
}
