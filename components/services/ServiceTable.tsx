'use client';
import { useWindowVirtualizer } from '@tanstack/react-virtual';
import Link from 'next/link';
import { memo, useLayoutEffect, useRef, useState, type ReactNode } from 'react';
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

const TH = 'px-3 py-2 text-left text-[11px] font-semibold uppercase tracking-wide text-ink-3';
/** Above this many services only the rows near the viewport are rendered. */
const VIRTUAL_FROM = 60;
const ROW_H = 41;

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
    return <ServiceRow key={id} s={s} id={id} live={live(id)} href={hrefFor(id)} />;
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
 */
function VirtualRows({ count, row }: { count: number; row: (i: number) => ReactNode }) {
  const marker = useRef<HTMLTableRowElement>(null);
  const [margin, setMargin] = useState(0);
  useLayoutEffect(() => {
    const el = marker.current;
    if (el) setMargin(el.getBoundingClientRect().top + window.scrollY);
  }, []);
  const v = useWindowVirtualizer({ count, estimateSize: () => ROW_H, overscan: 12, scrollMargin: margin });
  const items = v.getVirtualItems();
  const top = items.length ? items[0]!.start - margin : 0;
  const bottom = items.length ? v.getTotalSize() - (items[items.length - 1]!.end - margin) : v.getTotalSize();
  return (
    <>
      <tr ref={marker} aria-hidden style={{ height: Math.max(0, top) }} />
      {items.map((it) => row(it.index))}
      <tr aria-hidden style={{ height: Math.max(0, bottom) }} />
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

const ServiceRow = memo(function ServiceRow({ s, id, live, href }: { s: ServiceEntry; id: string; live: ServiceRowLive; href: string }) {
  const up = s.destinations.filter((d) => d.weight > 0).length;
  const total = s.destinations.length;
  const v = live.sample;
  const active = v?.active ?? s.destinations.reduce((a, d) => a + d.activeConns, 0);
  const inactive = v?.inactive ?? s.destinations.reduce((a, d) => a + d.inactiveConns, 0);
  const flags = serviceFlagLabels(s);
  const forward = serviceForwardLabels(s);
  return (
    <tr className="h-[41px] border-b border-line/70 hover:bg-panel-2/60" data-service-id={id}>
      <td className="px-3 py-2"><Badge tone={s.key.kind === 'fwmark' ? 'accent' : 'neutral'}>{serviceKeyParts(s.key)[0]}</Badge></td>
      <td className="truncate px-3 py-2 font-mono text-[13px]">
        <Link href={href} className="text-accent hover:underline">{serviceKeyParts(s.key)[1]}</Link>
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
      <td className="px-3 py-2"><SparkValue text={formatRate(v?.cps ?? 0)} series={live.cps} label={`new connections per second, ${live.span ?? 'last minute'}`} /></td>
      <td className="px-3 py-2"><SparkValue text={formatRate(v ? v.inPps + v.outPps : 0)} series={live.pps} label={`packets per second, ${live.span ?? 'last minute'}`} /></td>
      <td className="px-3 py-2"><SparkValue text={formatBitRate(v ? v.inBps + v.outBps : 0)} series={live.bps} label={`traffic, ${live.span ?? 'last minute'}`} wide /></td>
      <td className="px-3 py-2 text-right"><span className="num">{formatCount(active)}</span><span className="text-ink-3"> / </span><span className="num text-ink-2">{formatCount(inactive)}</span></td>
    </tr>
  );
});
