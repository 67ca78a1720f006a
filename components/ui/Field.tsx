import type { ReactNode } from 'react';

/** A labelled control with its hint and its error beside it (errors are announced). */
export function Field({ id, label, hint, error, children, className }: {
  id: string; label: string; hint?: ReactNode; error?: string | undefined; children: ReactNode; className?: string;
}) {
  return (
    <div className={className}>
      <label htmlFor={id} className="mb-1 block text-xs font-medium text-ink-2">{label}</label>
      {children}
      {error ? (
        <p id={`${id}-error`} role="alert" className="mt-1 text-xs text-danger">{error}</p>
      ) : hint ? (
        <p id={`${id}-hint`} className="mt-1 text-xs text-ink-3">{hint}</p>
      ) : null}
    </div>
  );
}

export const inputClass =
  'h-9 w-full rounded-md border border-line bg-surface px-2.5 text-sm text-ink placeholder:text-ink-3 aria-[invalid=true]:border-danger disabled:opacity-60';
