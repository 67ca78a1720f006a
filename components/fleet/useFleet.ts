'use client';
/**
 * Every director's summary, read every few seconds over plain HTTP (no
 * socket per director: the fleet page may list dozens). Each director is
 * read on its own, so one that hangs or refuses does not hold up the rest.
 */
import type { TRPCClient } from '@trpc/client';
import { useQueries } from '@tanstack/react-query';
import { useEffect, useRef, useState } from 'react';
import type { LabAppRouter as AppRouter } from '@/server/lab/app-router';
import { errorText } from '../data/hooks';
import { httpClient } from '../data/trpc';
import type { FleetInput } from './summary';
import { describeChange } from '@/lib/agent/outside';
import { formatServiceKey } from '@/lib/ipvs/format';

const POLL_MS = 5000;
/** points kept per director for the sparklines: the last five minutes */
const KEEP = 60;

const clients = new Map<string, TRPCClient<AppRouter>>();
function client(id: string): TRPCClient<AppRouter> {
  let c = clients.get(id);
  if (!c) {
    c = httpClient(id);
    clients.set(id, c);
  }
  return c;
}

/** An optional part of an agent (HA, health checks) that this one does not run reads as null. */
const optional = <T,>(p: Promise<T>): Promise<T | null> => p.catch(() => null);

async function readDirector(id: string, name: string, signal: AbortSignal): Promise<FleetInput> {
  const c = client(id);
  const o = { signal };
  try {
    const [summary, ha, health, journal, skew, outside] = await Promise.all([
      c.services.summary.query(undefined, o),
      optional(c.ha.status.query(undefined, o)),
      optional(c.health.list.query({}, o)),
      optional(c.journal.list.query({ limit: 1 }, o)),
      optional(c.skew.list.query(undefined, o)),
      optional(c.outside.list.query(undefined, o)),
    ]);
    const last = journal?.[0];
    return {
      id, name, summary, skew: skew?.length ?? null, ha: ha && ha.enabled ? ha : null, health,
      lastChange: last ? { at: last.at, op: last.op, actor: last.actor, tokenName: last.tokenName } : null,
      outside: outside ? outside.changes.map((x) => ({ serviceId: x.serviceId, label: formatServiceKey(x.service), changes: x.changes.map(describeChange) })) : null,
    };
  } catch (e) {
    return { id, name, error: errorText(e) ?? 'no answer' };
  }
}

export interface FleetHistory { cps: number[]; bps: number[] }

export function useFleet(directors: ReadonlyArray<{ id: string; name: string }>): { inputs: (FleetInput | undefined)[]; history: ReadonlyMap<string, FleetHistory> } {
  const results = useQueries({
    queries: directors.map((d) => ({
      queryKey: ['fleet', d.id],
      queryFn: ({ signal }: { signal: AbortSignal }) => readDirector(d.id, d.name, AbortSignal.any([signal, AbortSignal.timeout(POLL_MS)])),
      refetchInterval: POLL_MS,
      retry: false,
    })),
  });
  const inputs = results.map((r) => r.data);
  // sparkline points, one per read of each director
  const hist = useRef(new Map<string, FleetHistory & { seen: number }>());
  const [, bump] = useState(0);
  const stamp = results.map((r) => r.dataUpdatedAt).join(',');
  useEffect(() => {
    results.forEach((r, i) => {
      const d = r.data;
      if (!d || d.error) return;
      const h = hist.current.get(d.id) ?? { cps: [], bps: [], seen: 0 };
      if (r.dataUpdatedAt === h.seen) return;
      h.seen = r.dataUpdatedAt;
      h.cps = [...h.cps, d.summary?.cps ?? 0].slice(-KEEP);
      h.bps = [...h.bps, d.summary?.bps ?? 0].slice(-KEEP);
      hist.current.set(directors[i]!.id, h);
    });
    bump((x) => x + 1);
    // results change identity every render; the stamps say when data did
  }, [stamp]);
  return { inputs, history: hist.current };
}
