'use client';
/**
 * The HA panel on built statuses (no agent): every alarm state an operator
 * may meet, some of which the lab can only produce with careful timing.
 */
import { useSearchParams } from 'next/navigation';
import Link from 'next/link';
import { Suspense, useMemo } from 'react';
import { buildClusterView } from '@/components/ha/cluster';
import { HA_SCENARIOS } from '@/components/ha/scenarios';
import { HaView } from '@/components/ha/HaView';
import { T0 } from '@/components/ha/fixtures';

function Preview() {
  const q = useSearchParams();
  const name = q.get('scenario') ?? 'healthy';
  const sc = HA_SCENARIOS.find((s) => s.name === name) ?? HA_SCENARIOS[0]!;
  const now = T0;
  const view = useMemo(() => buildClusterView(sc.directors, sc.feeds(), now, new Map(sc.alarmSince ?? [])), [sc, now]);
  return (
    <div className="space-y-4">
      <p className="rounded-md border border-accent/40 bg-accent/5 px-4 py-2 text-sm text-ink-2">
        Preview with built statuses, no agent involved. Scenario:{' '}
        {HA_SCENARIOS.map((s) => (
          <Link key={s.name} href={`/ha/preview?scenario=${s.name}`} className={s.name === sc.name ? 'mr-3 font-semibold text-ink' : 'mr-3 text-accent underline'}>{s.name}</Link>
        ))}
      </p>
      <HaView view={view} now={now} actions={{
        disabledReason: () => 'Preview: no agent behind these statuses.',
        handover: async () => undefined,
        maintenance: async () => undefined,
        confirmReplicated: async () => undefined,
      }} />
    </div>
  );
}

export default function HaPreviewPage() {
  return <Suspense><Preview /></Suspense>;
}
