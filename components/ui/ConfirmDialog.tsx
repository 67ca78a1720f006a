'use client';
import { useState, type ReactNode } from 'react';
import { Button } from './Button';
import { Dialog } from './Dialog';

/** Destructive actions ask first and name exactly what will go. */
export function ConfirmDialog({ open, title, children, confirmLabel, onConfirm, onCancel, alternative }: {
  open: boolean; title: string; children: ReactNode; confirmLabel: string;
  onConfirm: () => Promise<unknown> | void; onCancel: () => void;
  /** a second way through, e.g. "Add to draft" instead of doing it now */
  alternative?: { label: string; onClick: () => Promise<unknown> } | undefined;
}) {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  return (
    <Dialog
      open={open}
      onClose={onCancel}
      title={title}
      footer={
        <>
          <Button onClick={onCancel} autoFocus>Cancel</Button>
          {alternative ? (
            <Button
              disabled={busy}
              onClick={async () => {
                setBusy(true);
                setError(null);
                try {
                  await alternative.onClick();
                } catch (e) {
                  setError(e instanceof Error ? e.message : String(e));
                } finally {
                  setBusy(false);
                }
              }}
            >
              {alternative.label}
            </Button>
          ) : null}
          <Button
            variant="danger"
            disabled={busy}
            onClick={async () => {
              setBusy(true);
              setError(null);
              try {
                await onConfirm();
              } catch (e) {
                setError(e instanceof Error ? e.message : String(e));
              } finally {
                setBusy(false);
              }
            }}
          >
            {busy ? 'Working…' : confirmLabel}
          </Button>
        </>
      }
    >
      <div className="text-sm text-ink-2">{children}</div>
      {error ? <p role="alert" className="mt-3 text-sm text-danger">{error}</p> : null}
    </Dialog>
  );
}
