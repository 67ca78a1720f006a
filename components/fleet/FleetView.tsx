'use client';
/** Every director the console knows, one row each: reachable or not, roles, load, alarms, the last change. */
import Link from 'next/link';
import { formatBitRate, formatRate } from '../format';
import { ago } from '../health/TransitionTimeline';
import { VRRP_TONE } from '../ha/cluster';
import { Badge } from '../ui/Badge';
import { Panel } from '../ui/Panel';
import { SparkValue } from '../ui/SparkValue';
import type { FleetHistory } from './useFleet';
import type { FleetAlarm, FleetRow } from './summary';

const TH = 'px-3 py-2 text-left text-[11px] font-semibold uppercase tracking-wide text-ink-3';

export function FleetView({ rows, alarms, history, now, loading }: {
  rows: readonly (FleetRow | null)[];
  alarms: readonly FleetAlarm[];
  history: ReadonlyMap<string, FleetHistory>;
  now: number;
  /** names of directors still being read, parallel to rows */
  loading: readonly string[];
}) {
  const ok = rows.filter((r): r is FleetRow => r !== null);
  const reachable = ok.filter((r) => r.reachable).length;
  const withAlarms = ok.filter((r) => r.alarms.length > 0).length;
  return (
    <div className="space-y-4">
      <div className="flex flex-wrap items-end justify-between gap-3">
        <div>
          <h1 className="text-lg font-semibold">Fleet</h1>
          <p className="text-sm text-ink-3">{rows.length} director{rows.length === 1 ? '' : 's'} · {reachable} reachable · {withAlarms} with alarms</p>
        </div>
      </div>
      {alarms.length > 0 ? (
        <div role="alert" className="rounded-md border border-danger/40 bg-danger/10 px-4 py-3 text-sm font-semibold text-danger">
          {alarms.map((a) => <p key={a.text}>{a.text}</p>)}
        </div>
      ) : null}
      <Panel bodyClassName="p-0">
        <div className="overflow-x-auto">
          <table aria-label="Directors" className="w-full min-w-[1100px] border-collapse text-sm">
            <thead className="border-b border-line">
              <tr>
                <th className={TH}>Director</th>
                <th className={TH}>HA role</th>
                <th className={`${TH} text-right`}>Services</th>
                <th className={`${TH} text-right`} title="real servers with weight > 0 / all">Real servers up</th>
                <th className={`${TH} text-right`}>New conns</th>
                <th className={`${TH} text-right`}>Traffic</th>
                <th className={TH}>Alarms</th>
                <th className={TH}>Last change</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((r, i) => (r ? <Row key={r.id} r={r} h={history.get(r.id)} now={now} /> : (
                <tr key={`loading-${i}`} className="border-b border-line/70"><td className="px-3 py-2 text-ink-3" colSpan={8}>{loading[i]}: reading…</td></tr>
              )))}
            </tbody>
          </table>
        </div>
      </Panel>
    </div>
  );
}

function Row({ r, h, now }: { r: FleetRow; h: FleetHistory | undefined; now: number }) {
  const href = `/d/${encodeURIComponent(r.id)}`;
  return (
    <tr className="border-b border-line/70 align-top hover:bg-panel-2/60" data-director={r.id}>
      <td className="px-3 py-2">
        <div className="flex items-center gap-2">
          <span aria-hidden className={`inline-block h-2.5 w-2.5 rounded-full ${r.reachable ? 'bg-ok' : 'bg-danger'}`} />
          <Link href={href} className="font-medium text-accent hover:underline">{r.name}</Link>
          {r.reachable ? null : <Badge tone="danger">unreachable</Badge>}
        </div>
        {r.error ? <p className="mt-0.5 max-w-72 truncate text-xs text-ink-3" title={r.error}>{r.error}</p> : null}
      </td>
      <td className="px-3 py-2">
        {r.ha.length === 0 ? <span className="text-ink-3">{r.reachable ? 'no HA' : '—'}</span> : (
          <div className="flex flex-wrap gap-1">
            {r.ha.map((g) => (
              <Badge key={g.group} tone={g.fenced ? 'danger' : VRRP_TONE[g.state as keyof typeof VRRP_TONE] ?? 'neutral'} title={`${g.group}: ${g.state}${g.leaseHere ? ', holds the lease' : ''}${g.fenced ? ', fenced' : ''}`}>
                {g.group} {g.state.toLowerCase()}{g.leaseHere ? ' · lease' : ''}
              </Badge>
            ))}
          </div>
        )}
      </td>
      <td className="px-3 py-2 text-right"><span className="num">{r.reachable ? r.services : '—'}</span></td>
      <td className="px-3 py-2 text-right">
        {r.reachable ? <span className={`num ${r.total > 0 && r.up === 0 ? 'text-danger' : r.up < r.total ? 'text-warn' : ''}`}>{r.up}/{r.total}</span> : '—'}
      </td>
      <td className="px-3 py-2"><SparkValue text={r.reachable ? formatRate(r.cps) : '—'} series={h?.cps ?? []} label={`${r.name}: new connections per second, last five minutes`} wide sparkWidth={72} /></td>
      <td className="px-3 py-2"><SparkValue text={r.reachable ? formatBitRate(r.bps) : '—'} series={h?.bps ?? []} label={`${r.name}: traffic, last five minutes`} wide sparkWidth={72} /></td>
      <td className="px-3 py-2">
        {r.alarms.length === 0 ? <span className="text-ok">none</span> : (
          <ul className="space-y-0.5">{r.alarms.map((a) => (
            <li key={a.text}>
              {a.service
                ? <Link href={`/d/${encodeURIComponent(r.id)}/s/${encodeURIComponent(a.service)}`} title={a.detail}><Badge tone={a.tone}>{a.text}</Badge></Link>
                : <Badge tone={a.tone} {...(a.detail ? { title: a.detail } : {})}>{a.text}</Badge>}
              {a.detail ? <div className="mt-0.5 font-mono text-[11px] text-ink-2">{a.detail}</div> : null}
            </li>
          ))}</ul>
        )}
      </td>
      <td className="px-3 py-2 text-xs">
        {r.lastChange ? (
          <>
            <span>{r.lastChange.what}</span>
            <div className="text-ink-3">{r.lastChange.who} · {ago(now - Date.parse(r.lastChange.at))}</div>
          </>
        ) : <span className="text-ink-3">{r.reachable ? 'none recorded' : '—'}</span>}
      </td>
    </tr>
  );
}
