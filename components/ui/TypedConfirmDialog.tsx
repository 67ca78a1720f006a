'use client';
import { useId, useState, type ReactNode } from 'react';
import { Button } from './Button';
import { Dialog } from './Dialog';
import { inputClass } from './Field';

/**
 * For the few actions that destroy a lot at once (clearing a director's whole
 * table): the confirm button stays disabled until the operator types one of
 * the accepted words, so a stray click or Enter cannot do it.
 */
export function TypedConfirmDialog({ open, title, children, accept, confirmLabel, onConfirm, onCancel }: {
  open: boolean; title: string; children: ReactNode;
  /** words that confirm, e.g. the director's name and "clear"; the first is the one suggested */
  accept: readonly string[];
  confirmLabel: string;
  onConfirm: () => Promise<unknown>;
  onCancel: () => void;
}) {
  const id = useId();
  const [typed, setTyped] = useState('');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const ok = accept.includes(typed.trim());
  const close = () => { setTyped(''); setError(null); onCancel(); };
  const run = async () => {
    if (!ok || busy) return;
    setBusy(true);
    setError(null);
    try {
      await onConfirm();
      setTyped('');
    } catch (e) {
      setError(e instanceof Error ? e.message : String(e));
    } finally {
      setBusy(false);
    }
  };
  return (
    <Dialog
      open={open}
      onClose={close}
      title={title}
      footer={
        <>
          <Button onClick={close} autoFocus>Cancel</Button>
          <Button variant="danger" disabled={!ok || busy} onClick={() => void run()}>{busy ? 'Working…' : confirmLabel}</Button>
        </>
      }
    >
      <div className="space-y-3 text-sm text-ink-2">
        {children}
        <div>
          <label htmlFor={id} className="mb-1 block text-xs font-medium text-ink-2">
            Type {accept.map((w, i) => <span key={w}>{i > 0 ? ' or ' : ''}<code className="font-mono text-ink">{w}</code></span>)} to confirm
          </label>
          <input
            id={id}
            className={inputClass}
            value={typed}
            autoComplete="off"
            spellCheck={false}
            onChange={(e) => setTyped(e.target.value)}
            onKeyDown={(e) => { if (e.key === 'Enter') { e.preventDefault(); void run(); } }}
          />
        </div>
      </div>
      {error ? <p role="alert" className="mt-3 text-sm text-danger">{error}</p> : null}
    </Dialog>
  );
}
