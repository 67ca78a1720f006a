import type { ReactNode } from 'react';
import { cx } from './cx';

type Tone = 'neutral' | 'ok' | 'warn' | 'danger' | 'accent';
const TONE: Record<Tone, string> = {
  neutral: 'bg-panel-2 text-ink-2 border-line',
  ok: 'bg-ok/10 text-ok border-ok/30',
  warn: 'bg-warn/10 text-warn border-warn/40',
  danger: 'bg-danger/10 text-danger border-danger/40',
  accent: 'bg-accent/10 text-accent border-accent/30',
};

export function Badge({ tone = 'neutral', children, title, className }: { tone?: Tone; children: ReactNode; title?: string; className?: string }) {
  return (
    <span title={title} className={cx('inline-flex items-center rounded border px-1.5 py-px text-[11px] font-medium uppercase tracking-wide whitespace-nowrap', TONE[tone], className)}>
      {children}
    </span>
  );
}
