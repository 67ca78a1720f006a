import type { LabCheck } from '@/lib/lab/checks';
import { Badge } from '../ui/Badge';

/** One line per check: ok, broken, unknown, or n/a where the lab as built has nothing to check. */
export function LabCheckList({ checks, label }: { checks: LabCheck[]; label: string }) {
  return (
    <ul className="space-y-1.5" aria-label={label}>
      {checks.map((c) => (
        <li key={c.label} className="flex items-center justify-between gap-2 text-xs" data-check={c.label}>
          <span className="text-ink-2" title={c.detail}>{c.label}{c.detail && c.applies ? <span className="ml-1 text-ink-3">· {c.detail}</span> : null}</span>
          {!c.applies
            ? <Badge title={c.detail}>n/a</Badge>
            : <Badge tone={c.ok === null ? 'neutral' : c.ok ? 'ok' : 'danger'}>{c.ok === null ? 'unknown' : c.ok ? 'ok' : 'broken'}</Badge>}
        </li>
      ))}
    </ul>
  );
}
