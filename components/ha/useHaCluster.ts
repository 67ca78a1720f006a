'use client';
/**
 * Live HA status of every configured director: a `ha.onStatus` subscription
 * each (pushes on every change), plus a `ha.status` read every few seconds so
 * an agent that died without closing its socket still turns "unreachable".
 */
import { useCallback, useEffect, useMemo, useRef, useState } from 'react';
import { errorText } from '../data/hooks';
import { buildClusterView, carrySince, feedAfterFailure, trackedAlarmKeys, type ClusterView, type DirectorFeed, type DirectorRef } from './cluster';
import { haProcedures, isMissingProcedure, notEnabledStatus, parseStatusMessage } from './ha-client';

const POLL_MS = 4000;
const READ_TIMEOUT_MS = 4000;

export function useHaCluster(directors: readonly DirectorRef[]): {
  view: ClusterView;
  now: number;
  refresh: (directorId: string) => void;
} {
  const [feeds, setFeeds] = useState<Record<string, DirectorFeed>>({});
  const [now, setNow] = useState(() => Date.now());
  const pollers = useRef(new Map<string, () => void>());
  const ids = directors.map((d) => d.id).join('\n');

  useEffect(() => {
    const t = setInterval(() => setNow(Date.now()), 1000);
    return () => clearInterval(t);
  }, []);

  useEffect(() => {
    const stops: Array<() => void> = [];
    for (const id of ids ? ids.split('\n') : []) {
      const ha = haProcedures(id);
      // Last success, so a read that started before a pushed status cannot overwrite it with a stale failure.
      let lastOkAt = 0;
      let stopped = false;
      const ok = (m: unknown) => {
        const r = parseStatusMessage(m);
        const at = Date.now();
        if (r.ok) lastOkAt = at;
        setFeeds((f) => ({ ...f, [id]: r.ok ? { kind: 'ok', status: r.status, at } : feedAfterFailure(f[id], r.error, at) }));
      };
      const failed = (e: unknown, startedAt: number) => {
        if (stopped || lastOkAt > startedAt) return;
        const at = Date.now();
        if (isMissingProcedure(e)) {
          lastOkAt = at;
          setFeeds((f) => ({ ...f, [id]: { kind: 'ok', status: notEnabledStatus(id, at, 'this agent has no HA controller (no ha router): update it'), at } }));
          return;
        }
        const error = errorText(e) ?? 'No answer.';
        setFeeds((f) => ({ ...f, [id]: feedAfterFailure(f[id], error, at) }));
      };
      const read = () => {
        const startedAt = Date.now();
        ha.status.query(undefined, { signal: AbortSignal.timeout(READ_TIMEOUT_MS) }).then(
          (m) => { if (!stopped) ok(m); },
          (e: unknown) => failed(e, startedAt),
        );
      };
      read();
      const timer = setInterval(read, POLL_MS);
      pollers.current.set(id, read);
      const sub = ha.onStatus.subscribe(undefined, {
        onData: (m) => { if (!stopped) ok(m); },
        // The socket reconnects by itself and resubscribes; the reads say whether the agent answers meanwhile.
        onError: (e) => failed(e, Date.now()),
      });
      stops.push(() => {
        stopped = true;
        clearInterval(timer);
        sub.unsubscribe();
        pollers.current.delete(id);
      });
    }
    return () => stops.forEach((s) => s());
  }, [ids]);

  // How long each alarm has lasted: first sighting kept while the alarm stays.
  const since = useRef(new Map<string, number>());
  const view = useMemo(() => {
    since.current = carrySince(since.current, trackedAlarmKeys(directors, feeds), Date.now());
    return buildClusterView(directors, feeds, now, since.current);
  }, [directors, feeds, now]);

  const refresh = useCallback((id: string) => pollers.current.get(id)?.(), []);
  return { view, now, refresh };
}

