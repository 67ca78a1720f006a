'use client';
/**
 * Failover rehearsal (issue #26 item 8): a button per VIP group on its lease
 * holder, the drill's steps while it runs, and every director's kept
 * reports in one table. Data-free like HaView: the page passes the calls.
 */
import { useState } from 'react';
import type { RehearsalReport } from '@/lib/ha/rehearsal';
import type { HandBack } from './handback';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Panel } from '../ui/Panel';

export interface RehearsalGroup { name: string; holder: string | null; peers: string[] }

export interface RehearsalsProps {
  groups: readonly RehearsalGroup[];
  /** every director's reports, newest first */
  history: readonly RehearsalReport[];
  /** the drill under way on some director (its steps so far) */
  running: RehearsalReport | null;
  names: ReadonlyMap<string, string>;
  disabledReason: (directorId: string) => string | null;
  /** the drill on `holder`; with `handBack`, the console then hands the group back to it (handback.ts) */
  rehearse: (holder: string, group: string, handBack: boolean) => Promise<RehearsalReport>;
  /** the last hand-back: under way (to whom), or its outcome */
  handBack: { running: string } | HandBack | null;
}

const TONE = { ready: 'ok', 'not-ready': 'warn', failed: 'danger' } as const;
const when = (t: number) => new Date(t).toLocaleString([], { month: 'short', day: 'numeric', hour: '2-digit', minute: '2-digit', second: '2-digit' });
const conns = (c: RehearsalReport['connectionsBefore']) => (c ? `${c.active} / ${c.inactive}` : '—');

export function RehearsalsPanel({ groups, history, running, names, disabledReason, rehearse, handBack }: RehearsalsProps) {
  const [ask, setAsk] = useState<RehearsalGroup | null>(null);
  const [back, setBack] = useState(true);
  const [error, setError] = useState<string | null>(null);
  const n = (id: string) => names.get(id) ?? id;
  // handing back needs the operator role on the director that will hold the lease after the drill
  const backWhy = ask ? ask.peers.map(disabledReason).find((w) => w !== null) ?? null : null;
  const busy = running ? 'A rehearsal is under way.' : handBack && 'running' in handBack ? `Handing the lease back to ${n(handBack.running)}.` : null;
  return (
    <Panel title="Failover rehearsal" actions={<span className="text-xs text-ink-3">a drill on the lease holder, then the lease handed back</span>}>
      <div className="mb-3 flex flex-wrap items-center gap-3">
        {groups.map((g) => {
          const why = !g.holder ? 'Nobody holds the lease: nothing to rehearse.' : g.peers.length === 0 ? 'No other director in this group.' : disabledReason(g.holder);
          return (
            <Button key={g.name} size="sm" disabledReason={busy ?? why} onClick={() => { setError(null); setAsk(g); }}
              title={`Hand ${g.name} over from ${g.holder ? n(g.holder) : 'nobody'} and measure it`}>
              Rehearse failover of {g.name}
            </Button>
          );
        })}
        {running ? (
          <ol className="flex flex-wrap gap-2 text-xs" aria-label="Rehearsal progress">
            {running.steps.map((s, i) => <li key={i}><Badge tone={i === running.steps.length - 1 ? 'warn' : 'ok'}>{s.step}</Badge></li>)}
          </ol>
        ) : null}
        {handBack && 'running' in handBack ? <Badge tone="warn">handing back to {n(handBack.running)}</Badge> : null}
        {handBack && !('running' in handBack) && handBack.ok ? (
          <span className="text-sm text-ok" data-testid="handback">Handed back to {n(handBack.to)} in {(handBack.ms / 1000).toFixed(2)} s</span>
        ) : null}
        {handBack && !('running' in handBack) && !handBack.ok ? <span role="alert" className="text-sm text-danger" data-testid="handback">{handBack.error}</span> : null}
        {error ? <span role="alert" className="text-sm text-danger">{error}</span> : null}
      </div>
      <table className="w-full text-sm" aria-label="Rehearsal reports">
        <thead className="text-left text-xs text-ink-3">
          <tr>
            <th className="py-1 font-medium">When</th><th className="pl-3 font-medium">Who</th><th className="pl-3 font-medium">Group</th><th className="pl-3 font-medium">Result</th>
            <th className="pl-3 text-right font-medium">Failover</th><th className="pl-3 text-right font-medium">Failed requests</th>
            <th className="pl-3 text-right font-medium" title="IPVS active / inactive connections">Connections before</th><th className="pl-3 text-right font-medium">after</th>
          </tr>
        </thead>
        <tbody>
          {history.length === 0 ? <tr><td colSpan={8} className="py-2 text-ink-3">No rehearsal yet.</td></tr> : null}
          {history.map((r) => (
            <tr key={`${r.director} ${r.id}`} className="border-t border-line align-top" data-rehearsal={r.result}>
              <td className="py-1.5 num">{when(r.at)}</td>
              <td className="pl-3">{r.by} <span className="text-xs text-ink-3">on {n(r.director)}</span></td>
              <td className="pl-3 font-mono">{r.group}</td>
              <td className="pl-3">
                <Badge tone={TONE[r.result]}>{r.result}</Badge>
                {r.reason ? <div className="max-w-md text-xs text-ink-3">{r.reason}</div> : null}
                {r.newHolder ? <div className="text-xs text-ink-3" title={r.handback ?? undefined}>failed over to {n(r.newHolder)}</div> : null}
              </td>
              <td className="num pl-3 text-right">{r.failoverMs === null ? '—' : `${(r.failoverMs / 1000).toFixed(2)} s`}</td>
              <td className="num pl-3 text-right" data-testid="failed-requests">{r.failedRequests ?? '—'}</td>
              <td className="num pl-3 text-right">{conns(r.connectionsBefore)}</td>
              <td className="num pl-3 text-right">{conns(r.connectionsAfter)}</td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog
        open={ask !== null}
        title={`Rehearse a failover of ${ask?.name ?? ''}?`}
        confirmLabel="Rehearse"
        onCancel={() => setAsk(null)}
        onConfirm={async () => {
          const g = ask!;
          setAsk(null);
          try {
            const r = await rehearse(g.holder!, g.name, back && backWhy === null);
            if (r.result !== 'ready') setError(`Rehearsal ${r.result}: ${r.reason ?? ''}`);
          } catch (e) {
            setError(e instanceof Error ? e.message : String(e));
          }
        }}
      >
        <p>
          {ask?.holder ? n(ask.holder) : ''} checks that its peers answer, the tables are equal and the sync daemons run, then hands the lease
          {' '}to {ask?.peers.map(n).join(', ')} and measures the failover. Connections not carried by the sync daemon are cut.
        </p>
        <label className="mt-3 flex items-start gap-2">
          <input type="checkbox" className="mt-1" checked={back && backWhy === null} disabled={backWhy !== null} onChange={(e) => setBack(e.target.checked)} />
          <span>
            Hand the lease back to {ask?.holder ? n(ask.holder) : ''} when the drill is done (after one sync-daemon flush), and time it
            {backWhy ? <span className="block text-xs text-ink-3">{backWhy}</span> : null}
          </span>
        </label>
      </ConfirmDialog>
    </Panel>
  );
}
