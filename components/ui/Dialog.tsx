'use client';
import { useEffect, useRef, type ReactNode } from 'react';

/**
 * Modal on the native <dialog>: focus trapping, Escape and the top layer come
 * from the browser, so keyboard use works without a library.
 */
export function Dialog({ open, onClose, title, children, footer, wide }: {
  open: boolean; onClose: () => void; title: string; children: ReactNode; footer?: ReactNode; wide?: boolean;
}) {
  const ref = useRef<HTMLDialogElement>(null);
  useEffect(() => {
    const d = ref.current;
    if (!d) return;
    if (open && !d.open) d.showModal();
    if (!open && d.open) d.close();
  }, [open]);
  return (
    <dialog
      ref={ref}
      onClose={onClose}
      aria-label={title}
      className={`m-auto rounded-lg border border-line bg-panel p-0 text-ink shadow-xl ${wide ? 'w-[min(960px,94vw)]' : 'w-[min(560px,94vw)]'}`}
    >
      {open ? (
        <div className="flex max-h-[88vh] flex-col">
          <header className="border-b border-line px-5 py-3"><h2 className="text-base font-semibold">{title}</h2></header>
          <div className="overflow-auto px-5 py-4">{children}</div>
          {footer ? <footer className="flex justify-end gap-2 border-t border-line px-5 py-3">{footer}</footer> : null}
        </div>
      ) : null}
    </dialog>
  );
}
