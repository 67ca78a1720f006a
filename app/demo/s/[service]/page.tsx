'use client';
import { useParams } from 'next/navigation';
import { useMemo, useState } from 'react';
import { serviceId } from '@/lib/ipvs/ids';
import { chartData, destinationColors, shareMap } from '@/components/data/service-derived';
import { demoWrite, useDemo } from '@/components/demo/useDemo';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { ServiceView, type ChartMetric } from '@/components/views/ServiceView';

export default function DemoService() {
  const { services, stats, disabledReason } = useDemo();
  const sid = decodeURIComponent(useParams<{ service: string }>().service);
  const [metric, setMetric] = useState<ChartMetric>('cps');
  const service = services.find((s) => serviceId(s.key) === sid);
  const colors = useMemo(() => (service ? destinationColors(service) : new Map<string, string>()), [service]);
  if (!service) return <ErrorNote title="No such demo service">Pick one from the demo overview.</ErrorNote>;
  return (
    <ServiceView service={service} sample={stats.service(sid)} destSample={(did) => stats.destinationSample(sid, did)}
      shares={shareMap(stats, sid, service)} colors={colors} chart={chartData(stats, sid, service, metric, colors)}
      metric={metric} onMetric={setMetric} disabledReason={disabledReason}
      onSaveScheduler={demoWrite} onUpdateService={demoWrite} onRemoveService={demoWrite} onZeroCounters={demoWrite} onAddDestination={demoWrite}
      onUpdateDestination={demoWrite} onRemoveDestination={demoWrite} onDrain={demoWrite} drainProgress={null} onDrainClose={() => {}} onRestore={demoWrite} />
  );
}
