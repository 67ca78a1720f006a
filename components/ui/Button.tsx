'use client';
import { useId, type ButtonHTMLAttributes } from 'react';
import { cx } from './cx';

type Variant = 'primary' | 'secondary' | 'danger' | 'ghost';

const VARIANT: Record<Variant, string> = {
  primary: 'bg-accent text-white border-transparent hover:brightness-110',
  secondary: 'bg-panel text-ink border-line hover:bg-panel-2',
  danger: 'bg-panel text-danger border-danger/50 hover:bg-danger hover:text-white',
  ghost: 'bg-transparent text-ink-2 border-transparent hover:bg-panel-2 hover:text-ink',
};

export interface ButtonProps extends ButtonHTMLAttributes<HTMLButtonElement> {
  variant?: Variant;
  size?: 'sm' | 'md';
  /** When set the button is disabled and says why (a viewer may see but not use operator controls). */
  disabledReason?: string | null;
}

export function Button({ variant = 'secondary', size = 'md', disabledReason, className, disabled, title, ...rest }: ButtonProps) {
  const reasonId = useId();
  const off = Boolean(disabled || disabledReason);
  return (
    <>
      <button
        type="button"
        {...rest}
        disabled={off}
        title={disabledReason ?? title}
        aria-describedby={disabledReason ? reasonId : rest['aria-describedby']}
        className={cx(
          'inline-flex items-center justify-center gap-1.5 rounded-md border font-medium whitespace-nowrap transition-colors',
          size === 'sm' ? 'h-7 px-2.5 text-xs' : 'h-9 px-3.5 text-sm',
          VARIANT[variant],
          off && 'cursor-not-allowed opacity-50 hover:brightness-100',
          className,
        )}
      />
      {disabledReason ? <span id={reasonId} className="sr-only">{disabledReason}</span> : null}
    </>
  );
}
