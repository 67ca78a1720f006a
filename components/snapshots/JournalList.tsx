'use client';
import { useState } from 'react';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { opLabel } from './op-labels';

export interface JournalRow {
  id: number;
  at: string;
  role: string;
  tokenName: string;
  /** the console user who made the change, when the console named one */
  actor?: string;
  op: string;
  summary: string;
  undoes?: number;
}

/**
 * The change journal, newest first. Any change can be undone while what it
 * touched is as it left it; the agent says otherwise (which object, why).
 */
export function JournalList({ entries, onUndo, disabledReason }: { entries: readonly JournalRow[]; onUndo: (id: number) => Promise<unknown>; disabledReason: string | null }) {
  const [confirm, setConfirm] = useState<JournalRow | null>(null);
  if (entries.length === 0) return <p className="py-4 text-sm text-ink-3">No changes recorded yet. Every change made through Director (forms, drains, imports, health actions) is listed here and can be undone; changes made with ipvsadm directly are not.</p>;
  const undoneBy = new Map(entries.flatMap((e) => (e.undoes ? [[e.undoes, e.id] as const] : [])));
  return (
    <>
      <table className="w-full table-fixed text-sm">
        <colgroup><col className="w-16" /><col className="w-48" /><col className="w-44" /><col /><col className="w-28" /></colgroup>
        <thead className="border-b border-line text-left text-[11px] uppercase tracking-wide text-ink-3">
          <tr><th className="px-2 py-1.5">#</th><th className="px-2 py-1.5">When</th><th className="px-2 py-1.5">Operation</th><th className="px-2 py-1.5">What</th><th /></tr>
        </thead>
        <tbody>
          {entries.map((e) => (
            <tr key={e.id} className="border-b border-line/60 align-top">
              <td className="num px-2 py-1.5 text-ink-3">{e.id}</td>
              <td className="num px-2 py-1.5 text-ink-2">{new Date(e.at).toLocaleString()}</td>
              <td className="px-2 py-1.5 text-xs" title={e.op}>{opLabel(e.op)}<div className="text-ink-3">{e.actor ? `${e.actor} (${e.role})` : e.tokenName}</div></td>
              <td className="px-2 py-1.5 text-xs text-ink-2">{e.summary}{e.undoes ? <span className="text-ink-3"> (undid #{e.undoes})</span> : null}</td>
              <td className="px-2 py-1.5 text-right">
                {undoneBy.has(e.id)
                  ? <span className="text-xs text-ink-3">undone by #{undoneBy.get(e.id)}</span>
                  : <Button size="sm" onClick={() => setConfirm(e)} disabledReason={disabledReason}>Undo</Button>}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog open={confirm !== null} title={confirm ? `Undo #${confirm.id} (${opLabel(confirm.op).toLowerCase()})?` : ''} confirmLabel="Undo" onCancel={() => setConfirm(null)}
        onConfirm={async () => { if (confirm) await onUndo(confirm.id); setConfirm(null); }}>
        What this change touched goes back to how it was before it: {confirm?.summary}
        {confirm && confirm.id !== entries[0]?.id ? ' Later changes to other services and real servers stay; if a later change touched the same ones, the agent refuses and says which.' : ''}
      </ConfirmDialog>
    </>
  );
}
