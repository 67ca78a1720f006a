'use client';
/**
 * A director's draft: the staged edits (each can be dropped), the diff against
 * the live table, the verdict's findings with why, and Apply (all or nothing,
 * with progress; a flagged draft needs the operator's acknowledgement; an
 * optional canary). After an apply: the journal entry it made, to undo in one
 * step, and what the canary saw.
 */
import { useState } from 'react';
import type { Severity, VerdictFinding } from '@/lib/changeset/verdict';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { Panel } from '../ui/Panel';

export interface DraftEditRow { id: number; text: string; by: string; at: string }

export interface DraftData {
  rev: number;
  edits: DraftEditRow[];
  diff: string;
  steps: string[];
  verdict: { findings: VerdictFinding[]; flagged: boolean };
  problem: string | null;
}

export interface CanaryView {
  journalId: number;
  state: 'watching' | 'passed' | 'rolled-back' | 'rollback-failed' | 'stopped';
  until: number;
  targets: string[];
  reason: string | null;
  rollbackJournalId: number | null;
  last: string[];
}

export interface ApplyResult { journalId: number; applied: number; undone: boolean }

const TONE: Record<Severity, 'danger' | 'warn' | 'neutral'> = { critical: 'danger', warning: 'warn', info: 'neutral' };

export function DraftPanel(p: {
  draft: DraftData | undefined;
  error: string | null;
  disabledReason: string | null;
  onUnstage: (id: number) => Promise<void>;
  onDiscard: () => Promise<void>;
  onApply: (o: { acknowledge: boolean; canarySeconds: number | null }) => Promise<void>;
  progress: { done: number; total: number } | null;
  result: ApplyResult | null;
  onUndo: (journalId: number) => Promise<void>;
  canary: CanaryView | null;
  onStopCanary: () => Promise<void>;
}) {
  const [ack, setAck] = useState(false);
  const [canaryOn, setCanaryOn] = useState(false);
  const [seconds, setSeconds] = useState(60);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const d = p.draft;
  const run = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try { await f(); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } finally { setBusy(false); }
  };
  const flagged = !!d?.verdict.flagged;
  // the canary may have undone it already: offering Undo then would only meet "already undone"
  const rolledBack = !!p.result && p.canary?.journalId === p.result.journalId && p.canary.state === 'rolled-back';
  const canApply = !!d && d.edits.length > 0 && !d.problem && (!flagged || ack);

  return (
    <div className="space-y-4" data-testid="draft-panel">
      {p.result ? (
        <div role="status" className="flex items-center justify-between gap-3 rounded-md border border-ok/40 bg-ok/5 px-4 py-2 text-sm">
          <span>
            {p.result.undone ? <>Change set #{p.result.journalId} undone.</>
              : rolledBack ? <>Change set #{p.result.journalId} was applied, then rolled back by its canary.</>
              : <>Applied {p.result.applied} operation{p.result.applied === 1 ? '' : 's'} as journal entry <strong>#{p.result.journalId}</strong>: one undo reverts all of it.</>}
          </span>
          {!p.result.undone && !rolledBack ? <Button size="sm" disabled={busy} disabledReason={p.disabledReason} onClick={() => run(() => p.onUndo(p.result!.journalId))}>Undo change set</Button> : null}
        </div>
      ) : null}
      {p.canary ? <CanaryStrip c={p.canary} onStop={() => run(p.onStopCanary)} /> : null}

      <Panel title={`Draft${d ? ` (${d.edits.length} edit${d.edits.length === 1 ? '' : 's'})` : ''}`}
        actions={d && d.edits.length ? <Button size="sm" disabled={busy} disabledReason={p.disabledReason} onClick={() => run(p.onDiscard)}>Discard draft</Button> : null}>
        {p.error ? <p role="alert" className="text-sm text-danger">{p.error}</p> : !d ? <p className="text-sm text-ink-3">Reading the draft…</p> : d.edits.length === 0 ? (
          <p className="text-sm text-ink-3">Nothing staged. In the service and real server forms, <strong>Add to draft</strong> collects a change here instead of applying it at once; apply the lot together, as one change you can undo in one step.</p>
        ) : (
          <ol className="space-y-1 text-sm" aria-label="Staged edits">
            {d.edits.map((e, i) => (
              <li key={e.id} className="flex items-center justify-between gap-3 rounded border border-line px-3 py-1.5">
                <span><span className="mr-2 text-ink-3">{i + 1}.</span>{e.text} <span className="text-xs text-ink-3">({e.by})</span></span>
                <Button size="sm" variant="ghost" aria-label={`Drop edit ${i + 1}`} disabled={busy} disabledReason={p.disabledReason} onClick={() => run(() => p.onUnstage(e.id))}>Drop</Button>
              </li>
            ))}
          </ol>
        )}
        {d?.problem ? <p role="alert" className="mt-3 rounded-md bg-danger/5 px-3 py-2 text-sm text-danger">The draft no longer fits the live table: {d.problem}. Drop the edit it names, or discard the draft.</p> : null}
      </Panel>

      {d && d.edits.length > 0 && !d.problem ? (
        <>
          <Panel title="Diff against the live table">
            <pre data-testid="draft-diff" className="overflow-x-auto whitespace-pre font-mono text-xs leading-5">{d.diff.split('\n').map((l, i) => (
              <div key={i} className={l.startsWith('+') ? 'text-ok' : l.startsWith('-') ? 'text-danger' : l.startsWith('~') ? 'text-warn' : 'text-ink-3'}>{l || ' '}</div>
            ))}</pre>
          </Panel>
          <Panel title="Verdict" actions={<Badge tone={flagged ? 'danger' : 'ok'}>{flagged ? 'flagged' : 'no findings'}</Badge>}>
            {d.verdict.findings.length === 0 ? <p className="text-sm text-ink-3">The rules found nothing wrong with the table as this change would leave it.</p> : (
              <ul className="space-y-3" aria-label="Findings">
                {d.verdict.findings.map((f, i) => (
                  <li key={i} className="rounded border border-line px-3 py-2" data-testid="finding">
                    <div className="flex items-center gap-2"><Badge tone={TONE[f.severity]}>{f.severity}</Badge><span className="text-sm font-medium">{f.title}</span></div>
                    <p className="mt-1 text-xs text-ink-2">{f.why}</p>
                    <p className="mt-1 text-[11px] text-ink-3">{f.rule} · {f.subject}</p>
                  </li>
                ))}
              </ul>
            )}
          </Panel>
          <Panel title="Apply">
            <div className="space-y-3 text-sm">
              <p className="text-ink-2">{d.steps.length} kernel operation{d.steps.length === 1 ? '' : 's'}, all or nothing: if the kernel refuses one, those already made are undone and the table stays as it is.</p>
              {flagged ? (
                <label className="flex items-start gap-2"><input type="checkbox" checked={ack} onChange={(e) => setAck(e.target.checked)} className="mt-0.5" />
                  <span>I have read the findings above and apply this change set anyway.</span></label>
              ) : null}
              <label className="flex items-center gap-2"><input type="checkbox" checked={canaryOn} onChange={(e) => setCanaryOn(e.target.checked)} />
                <span>Canary: watch the real servers it brings in for</span>
                <input type="number" min={5} max={900} value={seconds} onChange={(e) => setSeconds(Number(e.target.value))} aria-label="Canary seconds"
                  className="w-20 rounded border border-line bg-panel px-2 py-0.5" disabled={!canaryOn} />
                <span>s and roll back by itself if they fail</span></label>
              {p.progress && busy ? <p role="status" className="text-ink-2">Applying… {p.progress.done} of {p.progress.total}</p> : null}
              {error ? <p role="alert" className="rounded-md bg-danger/5 px-3 py-2 text-danger">{error}</p> : null}
              <div className="flex justify-end">
                <Button variant="primary" disabled={busy || !canApply} disabledReason={p.disabledReason ?? (flagged && !ack ? 'The verdict flags this change set: acknowledge the findings first' : null)}
                  onClick={() => run(async () => { await p.onApply({ acknowledge: ack, canarySeconds: canaryOn ? seconds : null }); setAck(false); })}>
                  {busy ? 'Applying…' : `Apply ${d.edits.length} edit${d.edits.length === 1 ? '' : 's'}`}
                </Button>
              </div>
            </div>
          </Panel>
        </>
      ) : error ? <p role="alert" className="text-sm text-danger">{error}</p> : null}
    </div>
  );
}

function CanaryStrip({ c, onStop }: { c: CanaryView; onStop: () => void }) {
  const left = Math.max(0, Math.round((c.until - Date.now()) / 1000));
  const tone = c.state === 'watching' ? 'border-accent/40 bg-accent/5' : c.state === 'passed' ? 'border-ok/40 bg-ok/5' : 'border-danger/40 bg-danger/5';
  return (
    <div role="status" data-testid="canary" className={`rounded-md border px-4 py-2 text-sm ${tone}`}>
      <div className="flex items-center justify-between gap-3">
        <span>
          <strong>Canary of change set #{c.journalId}: </strong>
          {c.state === 'watching' ? `watching ${c.targets.join(', ')} for ${left} s more`
            : c.state === 'passed' ? 'passed'
            : c.state === 'rolled-back' ? `rolled back by itself (journal entry #${c.rollbackJournalId})`
            : c.state === 'rollback-failed' ? 'the rollback failed' : 'stopped'}
        </span>
        {c.state === 'watching' ? <Button size="sm" onClick={onStop}>Stop watching</Button> : null}
      </div>
      {c.reason ? <p className="mt-1 text-xs text-ink-2">{c.reason}</p> : null}
      {c.last.length ? <ul className="mt-1 font-mono text-[11px] text-ink-3">{c.last.map((l) => <li key={l}>{l}</li>)}</ul> : null}
    </div>
  );
}
