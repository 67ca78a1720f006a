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

/** The change journal, newest first; the newest entry can be undone. */
export function JournalList({ entries, onUndo, disabledReason }: { entries: readonly JournalRow[]; onUndo: () => Promise<unknown>; disabledReason: string | null }) {
  const [confirm, setConfirm] = useState(false);
  if (entries.length === 0) return <p className="py-4 text-sm text-ink-3">No changes recorded yet. Every change made through Director (forms, drains, imports, health actions) is listed here and can be undone; changes made with ipvsadm directly are not.</p>;
  const newest = entries[0]!;
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
                {e.id === newest.id ? <Button size="sm" onClick={() => setConfirm(true)} disabledReason={disabledReason}>Undo</Button> : null}
              </td>
            </tr>
          ))}
        </tbody>
      </table>
      <ConfirmDialog open={confirm} title={`Undo #${newest.id} (${opLabel(newest.op).toLowerCase()})?`} confirmLabel="Undo" onCancel={() => setConfirm(false)}
        onConfirm={async () => { await onUndo(); setConfirm(false); }}>
        The table goes back to how it was before this change: {newest.summary}
      </ConfirmDialog>
    </>
  );
}
