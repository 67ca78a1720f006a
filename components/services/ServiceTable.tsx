'use client';
import Link from 'next/link';
import { memo, useEffect, useRef, useState, type ReactNode } from 'react';
import type { LiveSample } from '@/lib/agent/live-wire';
import { serviceKeyParts } from '@/lib/ipvs/format';
import type { ServiceEntry } from '@/lib/ipvs/model';
import { formatBitRate, formatCount, formatRate } from '../format';
import { SparkValue } from '../ui/SparkValue';
import { Badge } from '../ui/Badge';
import { serviceFlagLabels, serviceForwardLabels } from './labels';

export interface ServiceRowLive {
  sample: LiveSample | undefined;
  cps: readonly number[];
  pps: readonly number[];
  bps: readonly number[];
  /** what the sparklines span ("last minute", "last 24 hours") */
  span?: string;
}

/** A line of zeros draws the same whatever its length: one shared array keeps idle rows from drawing again as the minute fills. */
const FLAT: readonly number[] = Object.freeze([0, 0]);
const flat = (a: readonly number[]) => (a.length >= 2 && a.every((v) => v === 0) ? FLAT : a);

const TH = 'px-3 py-2 text-left text-[11px] font-semibold uppercase tracking-wide text-ink-3';
/** Above this many services only the rows near the viewport are rendered. */
const VIRTUAL_FROM = 60;
const ROW_H = 41;
/** Rows drawn above and below the viewport. */
const OVERSCAN = 8;
/** Rows drawn before the table's place on the page is known (about a viewport's worth and the overscan). */
const FIRST_GUESS = 28;

/**
 * Every virtual service of a director, one dense row each, with live rates.
 * `ids` are the services' ids in the same order (computed once per list, not per tick).
 */
export function ServiceTable({ services, ids, live, hrefFor }: {
  services: readonly ServiceEntry[];
  ids: readonly string[];
  live: (id: string) => ServiceRowLive;
  hrefFor: (id: string) => string;
}) {
  const row = (i: number) => {
    const s = services[i]!;
    const id = ids[i]!;
    const l = live(id);
    const v = l.sample;
    // numbers, not the sample: ticks overwrite a sample in place, and a row whose numbers and
    // sparklines (the same shared array while idle) did not change is not drawn again
    return <ServiceRow key={id} s={s} id={id} href={hrefFor(id)} cps={v?.cps ?? 0} pps={v ? v.inPps + v.outPps : 0} bps={v ? v.inBps + v.outBps : 0}
      active={v?.active} inactive={v?.inactive} cpsSeries={flat(l.cps)} ppsSeries={flat(l.pps)} bpsSeries={flat(l.bps)} span={l.span ?? 'last minute'} />;
  };
  return (
    <TableFrame>
      {services.length < VIRTUAL_FROM ? services.map((_, i) => row(i)) : <VirtualRows count={services.length} row={row} />}
    </TableFrame>
  );
}

/**
 * Rows near the viewport only, with spacer rows keeping the page height: with
 * a thousand services a tick re-renders ~40 rows instead of all of them.
 * The page itself scrolls (not an inner box), so keyboard and find-in-page paging work as usual.
 * Rows have one height, so the rows in view follow from where the table's body is in the viewport
 * (the top spacer's edge): no per-row bookkeeping for 10,000 rows, and a re-render only when that range moves.
 */
function VirtualRows({ count, row }: { count: number; row: (i: number) => ReactNode }) {
  const marker = useRef<HTMLTableRowElement>(null);
  const [range, setRange] = useState<readonly [number, number]>([0, FIRST_GUESS]);
  useEffect(() => {
    const el = marker.current;
    if (!el) return;
    const update = () => {
      const top = el.getBoundingClientRect().top;
      const v0 = Math.max(0, Math.floor(-top / ROW_H));
      const v1 = Math.max(v0, Math.ceil((window.innerHeight - top) / ROW_H));
      // keep the drawn rows while they cover the view with at most twice the overscan to spare
      setRange((r) => (r[0] <= v0 && r[1] >= v1 && v0 - r[0] <= 2 * OVERSCAN && r[1] - v1 <= 2 * OVERSCAN ? r : [Math.max(0, v0 - OVERSCAN), v1 + OVERSCAN]));
    };
    // measured in the next frame, not in the commit: reading the position there would lay out the new rows inside React's task
    const frame = requestAnimationFrame(update);
    window.addEventListener('scroll', update, { passive: true });
    window.addEventListener('resize', update);
    return () => { cancelAnimationFrame(frame); window.removeEventListener('scroll', update); window.removeEventListener('resize', update); };
  }, [count]);
  const first = Math.min(range[0], Math.max(0, count - 1));
  const last = Math.min(range[1], count - 1);
  const rows: ReactNode[] = [];
  for (let i = first; i <= last; i++) rows.push(row(i));
  return (
    <>
      <tr ref={marker} aria-hidden style={{ height: first * ROW_H }} />
      {rows}
      <tr aria-hidden style={{ height: Math.max(0, count - 1 - last) * ROW_H }} />
    </>
  );
}

function TableFrame({ children }: { children: ReactNode }) {
  return (
    <div className="overflow-x-auto">
      <table className="w-full min-w-[1230px] table-fixed border-collapse text-sm">
        <colgroup>
          <col className="w-[60px]" /><col className="w-[210px]" /><col className="w-[64px]" /><col className="w-[72px]" /><col />
          <col className="w-[56px]" /><col className="w-[150px]" /><col className="w-[150px]" /><col className="w-[176px]" /><col className="w-[120px]" />
        </colgroup>
        <thead className="border-b border-line">
          <tr>
            <th className={TH}>Proto</th>
            <th className={TH}>Virtual address</th>
            <th className={TH}>Sched</th>
            <th className={TH} title="forwarding method of the real servers: DR (-g), NAT (-m), TUN (-i)">Fwd</th>
            <th className={TH}>Flags</th>
            <th className={`${TH} text-right`} title="real servers with weight > 0 / all">Up</th>
            <th className={`${TH} text-right`}>New conns</th>
            <th className={`${TH} text-right`}>Packets</th>
            <th className={`${TH} text-right`}>Traffic</th>
            <th className={`${TH} text-right`}>Active / inact.</th>
          </tr>
        </thead>
        <tbody>{children}</tbody>
      </table>
    </div>
  );
}

// Its link is not prefetched: Next prefetches every link in view, a long task with a screenful of services.
const ServiceRow = memo(function ServiceRow({ s, id, href, cps, pps, bps, active: liveActive, inactive: liveInactive, cpsSeries, ppsSeries, bpsSeries, span }: {
  s: ServiceEntry; id: string; href: string; cps: number; pps: number; bps: number; active: number | undefined; inactive: number | undefined;
  cpsSeries: readonly number[]; ppsSeries: readonly number[]; bpsSeries: readonly number[]; span: string;
}) {
  const up = s.destinations.filter((d) => d.weight > 0).length;
  const total = s.destinations.length;
  const active = liveActive ?? s.destinations.reduce((a, d) => a + d.activeConns, 0);
  const inactive = liveInactive ?? s.destinations.reduce((a, d) => a + d.inactiveConns, 0);
  const flags = serviceFlagLabels(s);
  const forward = serviceForwardLabels(s);
  return (
    <tr className="h-[41px] border-b border-line/70 hover:bg-panel-2/60" data-service-id={id}>
      <td className="px-3 py-2"><Badge tone={s.key.kind === 'fwmark' ? 'accent' : 'neutral'}>{serviceKeyParts(s.key)[0]}</Badge></td>
      <td className="truncate px-3 py-2 font-mono text-[13px]">
        <Link href={href} prefetch={false} className="text-accent hover:underline">{serviceKeyParts(s.key)[1]}</Link>
      </td>
      <td className="px-3 py-2 font-mono text-[13px]">{s.scheduler}</td>
      <td className="truncate px-3 py-2 text-xs" title={forward.length > 1 ? 'real servers of this service use different forwarding methods' : undefined}>
        {forward.length ? forward.join(' + ') : <span className="text-ink-3">—</span>}
      </td>
      <td className="px-3 py-1.5 text-xs text-ink-2">
        {flags.length ? <span className="flex gap-1 overflow-hidden" title={flags.join(', ')}>{flags.map((f) => <span key={f} className="rounded bg-panel-2 px-1.5 py-px whitespace-nowrap">{f}</span>)}</span> : <span className="text-ink-3">—</span>}
      </td>
      <td className="px-3 py-2 text-right">
        <span className={`num ${total === 0 || up === 0 ? 'text-danger' : up < total ? 'text-warn' : ''}`} title={`${up} of ${total} real servers take new connections (weight > 0)`}>
          {up}/{total}
        </span>
      </td>
      <td className="px-3 py-2"><SparkValue text={formatRate(cps)} series={cpsSeries} label={`new connections per second, ${span}`} /></td>
      <td className="px-3 py-2"><SparkValue text={formatRate(pps)} series={ppsSeries} label={`packets per second, ${span}`} /></td>
      <td className="px-3 py-2"><SparkValue text={formatBitRate(bps)} series={bpsSeries} label={`traffic, ${span}`} wide /></td>
      <td className="px-3 py-2 text-right"><span className="num">{formatCount(active)}</span><span className="text-ink-3"> / </span><span className="num text-ink-2">{formatCount(inactive)}</span></td>
    </tr>
  );
});
