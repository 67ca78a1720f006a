import type { ReactNode } from 'react';

/** An error that tells the operator what to do next, not just what broke. */
export function ErrorNote({ title, children, action }: { title: string; children?: ReactNode; action?: ReactNode }) {
  return (
    <div role="alert" className="rounded-md border border-danger/40 bg-danger/5 px-4 py-3 text-sm">
      <p className="font-semibold text-danger">{title}</p>
      {children ? <div className="mt-1 text-ink-2">{children}</div> : null}
      {action ? <div className="mt-2">{action}</div> : null}
    </div>
  );
}
