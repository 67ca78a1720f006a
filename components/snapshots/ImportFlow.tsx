'use client';
import { useState } from 'react';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { inputClass } from '../ui/Field';
import type { SnapshotFormat } from './ExportPanel';
import { failingLine, importErrorMessages, stepKind } from './plan-lines';

/** The VRRP half of a keepalived.conf, as the VIP group Director would run (a preview). */
export interface VrrpPreviewRow {
  instance: string;
  line: number;
  group: { name: string; vips?: string[]; interface?: string; virtualRouterId?: number; priority?: number; preempt?: boolean };
  issues: string[];
  notes: string[];
}

/** What the agent's snapshot.plan returns that this view uses. */
export interface PlanResult {
  ops: ReadonlyArray<{ kind: string }>;
  text: string;
  keepalived?: { checks: string[]; checksRemoved: string[]; notes: string[]; warnings: string[]; vrrp: VrrpPreviewRow[] };
}

/** Operations the agent has applied so far (snapshot.onRestoreProgress). */
export interface ApplyProgress { done: number; total: number }
export type ApplyFn = (a: { format: SnapshotFormat; text: string; prune: boolean }, onProgress: (p: ApplyProgress) => void) => Promise<{ applied: number }>;

type Phase =
  | { kind: 'edit' }
  | { kind: 'planning' }
  | { kind: 'planned'; plan: PlanResult }
  | { kind: 'applying'; plan: PlanResult; progress: ApplyProgress | null }
  | { kind: 'done'; applied: number; ms: number }
  | { kind: 'failed'; messages: string[]; line: number | null; during: 'plan' | 'apply'; undone: number };

/** Health-check configurations a keepalived.conf sets or removes. */
const checkChanges = (p: PlanResult) => (p.keepalived ? p.keepalived.checks.length + p.keepalived.checksRemoved.length : 0);

const KIND_CLASS = { add: 'text-ok', remove: 'text-danger', change: 'text-warn' } as const;
const KIND_SIGN = { add: '+', remove: '−', change: '~' } as const;

/** Upload or paste → plan shown as a diff → apply → result, or the failing line and that nothing changed. */
export function ImportFlow({ onPlan, onApply, disabledReason }: {
  onPlan: (a: { format: SnapshotFormat; text: string; prune: boolean }) => Promise<PlanResult>;
  onApply: ApplyFn;
  disabledReason: string | null;
}) {
  const [text, setText] = useState('');
  const [format, setFormat] = useState<SnapshotFormat>('ipvsadm');
  const [prune, setPrune] = useState(false);
  const [phase, setPhase] = useState<Phase>({ kind: 'edit' });
  const [confirm, setConfirm] = useState(false);
  const lines = text.split('\n');

  const plan = async () => {
    setPhase({ kind: 'planning' });
    try {
      setPhase({ kind: 'planned', plan: await onPlan({ format, text, prune }) });
    } catch (e) {
      const messages = importErrorMessages(e);
      setPhase({ kind: 'failed', messages, line: failingLine(messages[0] ?? ''), during: 'plan', undone: 0 });
    }
  };
  const apply = async (p: PlanResult) => {
    setConfirm(false);
    const startedAt = performance.now();
    let last: ApplyProgress | null = null;
    setPhase({ kind: 'applying', plan: p, progress: null });
    try {
      const r = await onApply({ format, text, prune }, (pr) => {
        last = pr;
        setPhase((ph) => (ph.kind === 'applying' ? { ...ph, progress: pr } : ph));
      });
      setPhase({ kind: 'done', applied: r.applied, ms: performance.now() - startedAt });
    } catch (e) {
      const messages = importErrorMessages(e);
      const undone = (last as ApplyProgress | null)?.done ?? 0;
      setPhase({ kind: 'failed', messages, line: failingLine(messages[0] ?? ''), during: 'apply', undone });
    }
  };
  const removals = phase.kind === 'planned' ? phase.plan.ops.filter((o) => o.kind.startsWith('remove')).length : 0;

  return (
    <div className="grid gap-4 xl:grid-cols-2">
      <div className="space-y-3">
        <div className="flex flex-wrap items-center gap-3">
          <select aria-label="Snapshot format" value={format} onChange={(e) => setFormat(e.target.value as SnapshotFormat)} className={`${inputClass} w-40`}>
            <option value="ipvsadm">ipvsadm -S text</option><option value="json">JSON</option><option value="keepalived">keepalived.conf</option>
          </select>
          <label className="inline-flex cursor-pointer items-center rounded-md border border-line px-3 py-1.5 text-sm hover:bg-panel-2">
            Upload file…
            <input type="file" accept=".txt,.ipvsadm,.json,.conf,text/plain,application/json" className="sr-only"
              onChange={async (e) => {
                const f = e.target.files?.[0];
                if (!f) return;
                setText(await f.text());
                if (f.name.endsWith('.json')) setFormat('json');
                else if (f.name.endsWith('.conf') || f.name.includes('keepalived')) setFormat('keepalived');
                setPhase({ kind: 'edit' });
              }} />
          </label>
          <label className="flex items-center gap-1.5 text-sm text-ink-2" title="Also remove services and real servers the snapshot does not mention">
            <input type="checkbox" checked={prune} onChange={(e) => setPrune(e.target.checked)} /> Remove what the snapshot lacks
          </label>
        </div>
        <div className="relative">
          <label htmlFor="snapshot-text" className="sr-only">Snapshot text</label>
          <textarea
            id="snapshot-text"
            value={text}
            onChange={(e) => { setText(e.target.value); if (phase.kind !== 'edit') setPhase({ kind: 'edit' }); }}
            spellCheck={false}
            placeholder={'-A -t 192.168.150.100:80 -s wlc\n-a -t 192.168.150.100:80 -r 10.1.0.21:80 -g -w 1'}
            className="h-72 w-full resize-y rounded-md border border-line bg-surface p-3 font-mono text-xs leading-5"
          />
        </div>
        {phase.kind === 'failed' && phase.line !== null && lines[phase.line - 1] !== undefined ? (
          <p className="rounded-md border border-danger/40 bg-danger/5 px-3 py-2 font-mono text-xs">
            <span className="text-ink-3">line {phase.line}: </span>{lines[phase.line - 1]}
          </p>
        ) : null}
        <Button variant="primary" onClick={plan} disabled={text.trim() === '' || phase.kind === 'planning' || phase.kind === 'applying'}>
          {phase.kind === 'planning' ? 'Planning…' : 'Show plan'}
        </Button>
      </div>

      <div aria-live="polite" className="min-h-40 rounded-md border border-line bg-surface p-3">
        {phase.kind === 'edit' ? <p className="text-sm text-ink-3">Paste or upload a snapshot, then “Show plan” to see exactly what would change. Nothing is applied until you confirm.</p> : null}
        {phase.kind === 'planning' ? <p className="text-sm text-ink-2">Comparing the snapshot with the live table…</p> : null}
        {phase.kind === 'planned' || phase.kind === 'applying' ? (
          <>
            <p className="mb-2 text-sm font-medium">{phase.plan.ops.length === 0 ? (checkChanges(phase.plan) > 0 ? 'The table already matches; only the checks change.' : 'Nothing to do: the table already matches.') : `${phase.plan.ops.length} change${phase.plan.ops.length === 1 ? '' : 's'}:`}</p>
            {phase.plan.ops.length > 0 ? (
              <ol className="max-h-72 overflow-auto font-mono text-xs leading-5" aria-label="Plan">
                {phase.plan.text.split('\n').filter((l) => l.trim() !== '').map((line, i) => {
                  if (/^\s/.test(line)) return <li key={i} className="whitespace-pre text-ink-3">{line}</li>;
                  if (!/^[+~-] /.test(line)) return <li key={i} className="mt-1 text-ink-2">{line}</li>;
                  const k = stepKind(line);
                  return <li key={i} className={`whitespace-pre ${KIND_CLASS[k]}`}><span aria-label={k} className="inline-block w-4">{KIND_SIGN[k]}</span>{line.slice(2)}</li>;
                })}
              </ol>
            ) : null}
            {phase.plan.keepalived ? <KeepalivedExtras k={phase.plan.keepalived} /> : null}
            {phase.kind === 'applying' ? <ApplyBar plan={phase.plan} progress={phase.progress} /> : phase.plan.ops.length > 0 || checkChanges(phase.plan) > 0 ? (
              <div className="mt-3 flex gap-2">
                <Button variant={removals ? 'danger' : 'primary'} onClick={() => (removals ? setConfirm(true) : apply(phase.plan))} disabledReason={disabledReason}>
                  {phase.plan.ops.length > 0 ? `Apply ${phase.plan.ops.length} change${phase.plan.ops.length === 1 ? '' : 's'}` : 'Apply the checks'}
                </Button>
                <Button onClick={() => setPhase({ kind: 'edit' })}>Discard plan</Button>
              </div>
            ) : null}
            <ConfirmDialog open={confirm} title="Apply a plan that removes rules?" confirmLabel={`Apply, removing ${removals}`}
              onCancel={() => setConfirm(false)} onConfirm={() => apply(phase.plan)}>
              This plan removes {removals} service{removals === 1 ? '' : 's'} or real server{removals === 1 ? '' : 's'}; their connections will be cut. The change can be undone from the journal.
            </ConfirmDialog>
          </>
        ) : null}
        {phase.kind === 'done' ? (
          <p role="status" className="text-sm text-ok">
            Applied {phase.applied} change{phase.applied === 1 ? '' : 's'} in {(phase.ms / 1000).toFixed(1)} s. The journal below has the entry; “Undo” reverts it.
          </p>
        ) : null}
        {phase.kind === 'failed' ? (
          <div role="alert" className="text-sm">
            <p className="font-semibold text-danger">{phase.during === 'plan' ? 'The snapshot could not be read' : 'The kernel refused the change'}</p>
            <ul className="mt-1 space-y-0.5 font-mono text-xs text-ink">{phase.messages.map((m) => <li key={m}>{m}</li>)}</ul>
            <p className="mt-2 text-ink-2">
              {phase.during === 'plan'
                ? 'Nothing was changed. Fix the line named above and show the plan again.'
                : `Nothing changed: the agent rolled back ${phase.undone > 0 ? `the ${phase.undone} operation${phase.undone === 1 ? '' : 's'} it had already applied` : 'every step of this import'}, and the table is as it was. Fix the line named above, then plan again.`}
            </p>
          </div>
        ) : null}
      </div>
    </div>
  );
}

/** A keepalived.conf's other halves: the checks it sets, what it drops, and its VRRP as Director's HA would be. */
function KeepalivedExtras({ k }: { k: NonNullable<PlanResult['keepalived']> }) {
  return (
    <div className="mt-3 space-y-2 border-t border-line pt-2 text-xs">
      <div>
        <p className="font-medium text-ink-2">Health checks</p>
        {k.checks.length === 0 && k.checksRemoved.length === 0 ? <p className="text-ink-3">The file has no checkers.</p> : null}
        <ul className="font-mono">
          {k.checks.map((c) => <li key={c} className="text-ok">+ {c}</li>)}
          {k.checksRemoved.map((c) => <li key={c} className="text-danger">− {c}: its checks are removed (the file has none)</li>)}
        </ul>
      </div>
      {k.warnings.length + k.notes.length > 0 ? (
        <details>
          <summary className="cursor-pointer text-ink-2">{k.warnings.length} warning{k.warnings.length === 1 ? '' : 's'}, {k.notes.length} note{k.notes.length === 1 ? '' : 's'}</summary>
          <ul className="mt-1 font-mono">
            {k.warnings.map((w) => <li key={w} className="text-warn">{w}</li>)}
            {k.notes.map((n) => <li key={n} className="text-ink-3">{n}</li>)}
          </ul>
        </details>
      ) : null}
      {k.vrrp.length > 0 ? (
        <div>
          <p className="font-medium text-ink-2">VRRP, as Director's HA configuration would hold it (preview: HA is set in the agent's configuration, an import does not change it)</p>
          <table className="mt-1 w-full text-left" aria-label="VRRP preview">
            <thead className="text-ink-3"><tr><th className="pr-2">instance</th><th className="pr-2">group</th><th className="pr-2">VIPs</th><th className="pr-2">interface</th><th className="pr-2">VRID</th><th className="pr-2">priority</th><th>preempt</th></tr></thead>
            <tbody className="font-mono">
              {k.vrrp.map((v) => (
                <tr key={v.instance} className="align-top">
                  <td className="pr-2">{v.instance}<span className="text-ink-3"> (line {v.line})</span></td>
                  <td className="pr-2">{v.group.name}</td>
                  <td className="pr-2">{v.group.vips?.join(' ') || '—'}</td>
                  <td className="pr-2">{v.group.interface || '—'}</td>
                  <td className="pr-2">{v.group.virtualRouterId ?? '—'}</td>
                  <td className="pr-2">{v.group.priority ?? '—'}</td>
                  <td>{v.group.preempt ? 'yes' : 'no'}</td>
                </tr>
              ))}
            </tbody>
          </table>
          {k.vrrp.flatMap((v) => [...v.issues.map((i) => ({ t: `${v.instance}: ${i}`, bad: true })), ...v.notes.map((n) => ({ t: `${v.instance}: ${n}`, bad: false }))]).map((x) => (
            <p key={x.t} className={x.bad ? 'text-danger' : 'text-ink-3'}>{x.t}</p>
          ))}
        </div>
      ) : null}
    </div>
  );
}

/** Real progress: operations the agent has applied of the plan's total, as it reports them. */
function ApplyBar({ plan, progress }: { plan: PlanResult; progress: ApplyProgress | null }) {
  const total = progress?.total || plan.ops.length;
  const done = progress?.done ?? 0;
  const pct = total > 0 ? Math.round((done / total) * 100) : 0;
  return (
    <div className="mt-3">
      <p className="mb-1 flex justify-between text-sm text-ink-2">
        <span>{progress ? 'Applying, as one journal entry…' : 'Waiting for the agent…'}</span>
        <span className="num">{done.toLocaleString('en')} of {total.toLocaleString('en')} operations</span>
      </p>
      <div className="h-1.5 overflow-hidden rounded bg-panel-2" role="progressbar" aria-label="Applying" aria-valuemin={0} aria-valuemax={total} aria-valuenow={done}
        aria-valuetext={`${done} of ${total} operations applied`}>
        <div className="h-full bg-accent transition-[width] duration-150" style={{ width: `${pct}%` }} />
      </div>
    </div>
  );
}
