'use client';
/**
 * Where a drain stands: the connections and the persistence templates still
 * pointing at the real server, when it will be empty if nothing new
 * arrives, and "done" only when both are gone.
 */
import type { DrainProgress } from '@/lib/agent/events';
import { formatDuration } from '../format';

/** Share of the way to empty: by time left when the table says it, else by connections. */
export function drainFraction(p: DrainProgress | null, first: { emptyIn: number | null; total: number } | null): number {
  if (!p) return 0;
  if (p.done) return 1;
  if (p.remains?.emptyIn != null && first?.emptyIn) return Math.max(0, Math.min(1, 1 - p.remains.emptyIn / first.emptyIn));
  const now = p.active + p.inactive + p.persistent;
  return first && first.total > 0 ? Math.max(0, Math.min(1, 1 - now / first.total)) : 0;
}

export function drainWords(p: DrainProgress): string {
  if (p.gone) return 'The real server or its service went away.';
  if (p.done) return 'Drained: no connections and no persistence templates left.';
  const parts = [`${p.active} active`, `${p.inactive} inactive connection${p.inactive === 1 ? '' : 's'}`];
  if (p.persistent > 0 || (p.remains && p.remains.templates > 0)) parts.push(`${p.remains?.templates ?? p.persistent} persistence template${(p.remains?.templates ?? p.persistent) === 1 ? '' : 's'}`);
  const r = p.remains;
  const when = r?.emptyIn != null ? `; empty in about ${formatDuration(r.emptyIn)}${r.partial ? ' or more' : ''} if nothing new arrives` : '';
  return `${parts.join(', ')} remain${when}.`;
}

export function DrainStatus({ progress, fraction }: { progress: DrainProgress; fraction: number }) {
  const r = progress.remains;
  return (
    <div className="space-y-2 text-sm" aria-live="polite">
      <div role="progressbar" aria-valuemin={0} aria-valuemax={100} aria-valuenow={Math.round(fraction * 100)} aria-label="Drain progress" className="h-2 overflow-hidden rounded bg-panel-2">
        <div className={`h-full transition-[width] duration-700 ${progress.done ? 'bg-ok' : 'bg-accent'}`} style={{ width: `${fraction * 100}%` }} />
      </div>
      <p className="num" data-drain-status>{drainWords(progress)}</p>
      {r && (r.templatesLeft !== null || r.connectionsLeft !== null) ? (
        <dl className="grid grid-cols-2 gap-x-4 text-xs text-ink-2 sm:grid-cols-4">
          <div><dt className="text-ink-3">last connection ends in</dt><dd className="num">{r.connectionsLeft === null ? '—' : formatDuration(r.connectionsLeft)}</dd></div>
          <div><dt className="text-ink-3">last template expires in</dt><dd className="num">{r.templatesLeft === null ? '—' : formatDuration(r.templatesLeft)}</dd></div>
          <div><dt className="text-ink-3">UDP entries</dt><dd className="num">{r.udp}</dd></div>
          <div><dt className="text-ink-3">templates</dt><dd className="num">{r.templates}</dd></div>
        </dl>
      ) : null}
      {r && r.udp > 0 ? (
        <p className="text-xs text-ink-3">UDP entries end only by their timeout. With <code>net.ipv4.vs.expire_nodest_conn=1</code> the kernel drops entries of a removed real server at their next packet instead.</p>
      ) : null}
    </div>
  );
}
