'use client';
import { useQueryClient } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import { useCallback, useDeferredValue, useEffect, useMemo, useReducer, useRef, useState } from 'react';
import { destinationId, keptServiceId } from '@/lib/ipvs/ids';
import { clientFilterError } from '@/components/conn/client-filter';
import type { ConnRow } from '@/components/conn/ConnTable';
import { PagedRows } from '@/components/conn/paged-rows';
import { indexSummary } from '@/components/conn/summary-index';
import { errorText, useServices } from '@/components/data/hooks';
import { useTRPC } from '@/components/data/trpc';
import { ConnectionsView, NO_FILTERS, type ConnFilters } from '@/components/views/ConnectionsView';
import { PersistenceLens } from '@/components/conn/PersistenceLens';

const PAGE = 500;

export default function ConnectionsPage() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const services = useServices();
  const summarySub = useSubscription(trpc.connections.onSummary.subscriptionOptions({}));
  const summary = useMemo(() => (summarySub.data ? indexSummary(summarySub.data.data.summary) : undefined), [summarySub.data]);
  // the services' arrival and each summary tick render in the background, in slices the browser can interleave
  const shownServices = useDeferredValue(services.data);
  const shownSummary = useDeferredValue(summary);
  const [filters, setFilters] = useState<ConnFilters>(NO_FILTERS);
  const [matched, setMatched] = useState<number | null>(null);
  const [tableError, setTableError] = useState<string | null>(null);
  const [, bump] = useReducer((x: number) => x + 1, 0);
  const rows = useRef(new PagedRows<ConnRow>(PAGE));
  const view = useRef({ first: 0, last: 0 });

  const clientError = clientFilterError(filters.client);

  const input = useMemo(() => {
    const svc = filters.service ? services.data?.find((s) => keptServiceId(s) === filters.service) : undefined;
    const dest = svc?.destinations.find((d) => destinationId(d) === filters.destination);
    return {
      ...(svc ? { service: svc.key } : {}),
      ...(dest ? { destination: { family: dest.family, address: dest.address, port: dest.port } } : {}),
      ...(filters.state ? { state: filters.state } : {}),
      ...(filters.client && !clientError ? { client: filters.client } : {}),
    };
  }, [services.data, filters, clientError]);

  const load = useCallback(async (pages: number[]) => {
    await Promise.all(pages.map(async (p) => {
      try {
        const r = await qc.fetchQuery({ ...trpc.connections.list.queryOptions({ ...input, cursor: p * PAGE, limit: PAGE }), staleTime: 0 });
        rows.current.fill(p, r.entries as ConnRow[], Math.floor(view.current.first / PAGE));
        setMatched(r.total);
        setTableError(null);
      } catch (e) {
        rows.current.fail(p);
        setTableError(errorText(e));
      }
    }));
    bump();
  }, [qc, trpc, input]);

  // New filters: forget every page and start from the top.
  useEffect(() => {
    rows.current.clear();
    setMatched(null);
    void load(rows.current.claim(0, PAGE - 1));
  }, [load]);

  // The table is live: refresh the pages in view every few seconds.
  useEffect(() => {
    const t = setInterval(() => {
      const pages = rows.current.loadedPages.filter((p) => p >= Math.floor(view.current.first / PAGE) && p <= Math.floor(view.current.last / PAGE));
      void load(pages);
    }, 5000);
    return () => clearInterval(t);
  }, [load]);

  const onRange = useCallback((a: number, b: number) => {
    view.current = { first: a, last: b };
    const pages = rows.current.claim(a, b);
    if (pages.length) void load(pages);
  }, [load]);

  return (
    <div className="space-y-4">
      <ConnectionsView
        services={shownServices}
        summary={shownSummary}
        summaryError={errorText(summarySub.error)}
        filters={filters}
        onFilters={setFilters}
        clientError={clientError}
        table={{ count: matched ?? 0, matched, rowAt: (i) => rows.current.rowAt(i), onRange }}
        tableError={tableError}
      />
      <PersistenceLens services={shownServices} />
    </div>
  );
}
