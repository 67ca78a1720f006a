'use client';
import { useCallback, useMemo, useState } from 'react';
import { demoConn, demoSummary } from '@/components/demo/demo-data';
import { useDemo } from '@/components/demo/useDemo';
import { ConnectionsView, NO_FILTERS, type ConnFilters } from '@/components/views/ConnectionsView';

const TOTAL = 120_000;

export default function DemoConnections() {
  const { services } = useDemo();
  const [filters, setFilters] = useState<ConnFilters>(NO_FILTERS);
  const summary = useMemo(() => demoSummary(services), [services]);
  const rowAt = useCallback((i: number) => demoConn(i, services), [services]);
  return (
    <ConnectionsView services={services} summary={summary} summaryError={null} filters={filters} onFilters={setFilters}
      clientError={null} table={{ count: TOTAL, matched: TOTAL, rowAt, onRange: () => {} }} tableError={null} />
  );
}
