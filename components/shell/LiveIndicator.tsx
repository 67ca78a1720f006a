'use client';
import { useEffect, useState } from 'react';
import { useLiveState } from '../data/live-status';
import { cx } from '../ui/cx';

export function LiveIndicator() {
  const s = useLiveState();
  const [now, setNow] = useState(() => Date.now());
  useEffect(() => {
    if (s.kind !== 'reconnecting') return;
    const t = setInterval(() => setNow(Date.now()), 500);
    return () => clearInterval(t);
  }, [s.kind]);

  let dot = 'bg-ink-3';
  let text = 'Offline';
  let title = 'No live connection to a director on this page.';
  if (s.kind === 'live') {
    dot = 'bg-ok';
    text = 'Live';
    title = 'Receiving live updates from the director.';
  } else if (s.kind === 'connecting') {
    dot = 'bg-warn animate-pulse';
    text = 'Connecting';
    title = 'Opening the live connection…';
  } else if (s.kind === 'reconnecting') {
    const secs = Math.max(0, Math.ceil((s.retryAt - now) / 1000));
    dot = 'bg-warn animate-pulse';
    text = secs > 0 ? `Reconnecting in ${secs}s` : `Reconnecting… (${s.attempt + 1})`;
    title = `Live connection lost (attempt ${s.attempt + 1}). Figures on screen may be stale; retrying with backoff. If this persists, check that the agent is running.`;
  }
  return (
    <span role="status" aria-live="polite" title={title} className="inline-flex w-40 items-center gap-2 text-xs text-ink-2">
      <span aria-hidden className={cx('h-2 w-2 shrink-0 rounded-full', dot)} />
      <span className="num truncate">{text}</span>
    </span>
  );
}
