import type { HealthDisplayState } from './HealthBadge';
import { HealthBadge } from './HealthBadge';

export interface TimelineEntry {
  id: number;
  at: number;
  destination: { address: string; port: number; family: 'inet' | 'inet6' };
  from: string;
  to: string;
  message: string;
  action: string;
}

const asState = (s: string): HealthDisplayState => (['up', 'down', 'maintenance', 'unknown'].includes(s) ? s as HealthDisplayState : 'unknown');

/** Transitions newest first: when, which server, from -> to, why, and what the agent did. */
export function TransitionTimeline({ entries, now }: { entries: readonly TimelineEntry[]; now: number }) {
  if (entries.length === 0) return <p className="text-sm text-ink-3">No transitions yet: a server going down or coming back is listed here with the reason and what the agent did.</p>;
  return (
    <ol className="space-y-2" aria-label="Health transitions">
      {entries.map((e) => (
        <li key={e.id} className="flex flex-wrap items-center gap-2 border-l-2 border-line pl-3 text-sm">
          <time dateTime={new Date(e.at).toISOString()} title={new Date(e.at).toLocaleString()} className="w-20 tabular-nums text-ink-3">
            {ago(now - e.at)}
          </time>
          <span className="font-mono text-ink">{e.destination.family === 'inet6' ? `[${e.destination.address}]` : e.destination.address}:{e.destination.port}</span>
          <HealthBadge state={asState(e.from)} />
          <span aria-hidden>→</span>
          <HealthBadge state={asState(e.to)} />
          <span className="text-ink-2">{e.message}</span>
          {e.action ? <span className="text-ink-3">· {e.action}</span> : null}
        </li>
      ))}
    </ol>
  );
}

export function ago(ms: number): string {
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.floor(s / 60)} min ago`;
  if (s < 86_400) return `${Math.floor(s / 3600)} h ago`;
  return `${Math.floor(s / 86_400)} d ago`;
}
