'use client';
/** Every director's rehearsal reports (ha.rehearsals), read every 2 s: a drill's steps show while it runs. */
import { useCallback, useEffect, useState } from 'react';
import type { RehearsalReport } from '@/lib/ha/rehearsal';
import { haProcedures } from './ha-client';

const POLL_MS = 2000;

export function mergeRehearsals(lists: readonly { running: RehearsalReport | null; history: readonly RehearsalReport[] }[]) {
  const history = lists.flatMap((l) => l.history).sort((a, b) => b.at - a.at);
  return { running: lists.find((l) => l.running)?.running ?? null, history };
}

export function useRehearsals(ids: readonly string[]) {
  const [state, setState] = useState<{ running: RehearsalReport | null; history: RehearsalReport[] }>({ running: null, history: [] });
  const key = ids.join('\n');
  const read = useCallback(async () => {
    const lists = await Promise.all((key ? key.split('\n') : []).map((id) =>
      // an agent without ha.rehearsals (older) or unreachable contributes nothing
      haProcedures(id).rehearsals.query(undefined, { signal: AbortSignal.timeout(4000) }).catch(() => ({ running: null, history: [] }))));
    setState(mergeRehearsals(lists));
  }, [key]);
  useEffect(() => {
    void read();
    const t = setInterval(() => void read(), POLL_MS);
    return () => clearInterval(t);
  }, [read]);
  return { ...state, reload: read };
}
