'use client';
import { skipToken, useMutation, useQuery } from '@tanstack/react-query';
import { useSubscription } from '@trpc/tanstack-react-query';
import Link from 'next/link';
import { useParams } from 'next/navigation';
import { useEffect, useMemo, useState } from 'react';
import type { HistoryRange } from '@/lib/history/rings';
import { ChartHistory } from '@/components/data/history-series';
import type { DrainProgress, ServedService } from '@/lib/agent/events';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import type { DestinationKey, DestinationState, ServiceKey } from '@/lib/ipvs/model';
import { errorText, useDirectorAccess, useDirectorId, usePatchServices, useServices, useStats } from '@/components/data/hooks';
import { replyPatch } from '@/lib/agent/table-patch';
import { chartData, chartFromHistory, destinationColors, shareMap } from '@/components/data/service-derived';
import { useTRPC } from '@/components/data/trpc';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Skeleton, TableSkeleton } from '@/components/ui/Skeleton';
import { ServiceView, type ChartMetric } from '@/components/views/ServiceView';
import { OutsideAlarm } from '@/components/services/OutsideAlarm';
import { DraftBanner } from '@/components/changeset/DraftBanner';
import { useDraft, useStageActions } from '@/components/changeset/useDraft';

const keyOf = (d: DestinationState): DestinationKey => ({ family: d.family, address: d.address, port: d.port });

export default function ServicePage() {
  const director = useDirectorId();
  const sid = decodeURIComponent(useParams<{ service: string }>().service);
  const trpc = useTRPC();
  const patch = usePatchServices();
  const access = useDirectorAccess(director);
  const services = useServices();
  const stats = useStats(director);
  const [metric, setMetric] = useState<ChartMetric>('cps');
  const [range, setRange] = useState<HistoryRange>('15m');
  // the agent's history, so the chart is full at once; live ticks are appended to it below
  const past = useQuery({ ...trpc.history.get.queryOptions({ service: sid, range }), gcTime: 0, refetchOnWindowFocus: false, retry: false });
  const history = useMemo(() => (past.data ? new ChartHistory(range, past.data) : null), [past.data, range]);
  useEffect(() => {
    if (!history) return;
    return stats.subscribe(() => {
      const svc = stats.table.services.get(sid);
      if (svc) history.addTick(stats.table.at, stats.table.intervalMs, svc.dests);
    });
  }, [history, stats, sid]);
  const [draining, setDraining] = useState<DestinationKey | null>(null);
  const service = services.data?.find((s) => serviceId(s.key) === sid);
  const draft = useDraft();
  const stage = useStageActions(service);
  // each reply carries the service as written: the cached table is patched with it, not read again
  const opts = { onSuccess: (r: { service: ServedService }) => patch(replyPatch(r)) };
  const update = useMutation(trpc.services.update.mutationOptions(opts));
  const remove = useMutation(trpc.services.remove.mutationOptions({ onSuccess: (r) => patch(replyPatch({ removed: r.removed.key, at: Date.now() })) }));
  const addDest = useMutation(trpc.destinations.create.mutationOptions(opts));
  const updDest = useMutation(trpc.destinations.update.mutationOptions(opts));
  const rmDest = useMutation(trpc.destinations.remove.mutationOptions({
    onSuccess: (r, v) => patch(replyPatch(r.service ? { service: r.service } : { removed: v.service as ServiceKey, at: Date.now() })),
  }));
  const drain = useMutation(trpc.destinations.drain.mutationOptions(opts));
  const drainMany = useMutation(trpc.destinations.drainMany.mutationOptions({
    onSuccess: (r) => { for (const svc of r.services) patch(replyPatch({ service: svc })); },
  }));
  const restore = useMutation(trpc.destinations.restore.mutationOptions(opts));
  const zero = useMutation(trpc.stats.zero.mutationOptions());
  const drainSub = useSubscription(trpc.destinations.onDrain.subscriptionOptions(
    service && draining ? { service: service.key, destination: draining } : skipToken,
  ));
  const progress = (drainSub.data?.data ?? null) as DrainProgress | null;
  // health badges: who took a server out (a check, maintenance, an operator); an agent without checks answers an error, shown as nothing
  const healthRows = useQuery({ ...trpc.health.list.queryOptions(service ? { service: service.key } : skipToken), refetchInterval: 3000, retry: false });
  const health = useMemo(() => (healthRows.data ? new Map(healthRows.data.map((r) => [r.destinationId, r])) : undefined), [healthRows.data]);
  // hash skew (sh/mh/dh): the agent judges it over minutes; an agent without it answers an error, shown as nothing
  const hashing = service ? ['sh', 'mh', 'dh'].includes(service.scheduler) : false;
  const skewRows = useQuery({ ...trpc.skew.list.queryOptions(hashing ? undefined : skipToken), refetchInterval: 10_000, retry: false });
  const skew = skewRows.data?.find((a) => a.service === sid) ?? null;
  // slow starts under way: polled while one runs here, then every 15 s (one may start from the CLI)
  const ramps = useQuery({ ...trpc.destinations.slowStarts.queryOptions(), refetchInterval: (q) => (q.state.data?.length ? 1000 : 15_000), retry: false });
  const slowStarts = useMemo(() => new Map((ramps.data ?? []).filter((r) => service && serviceId(r.service) === sid).map((r) => [destinationId(r.destination), r])), [ramps.data, service, sid]);
  const stopRamp = useMutation(trpc.destinations.stopSlowStart.mutationOptions());
  const pending = useQuery({ ...trpc.destinations.pendingRemovals.queryOptions(), refetchInterval: 5000, retry: false });
  const removals = useMemo(() => new Set((pending.data ?? []).filter((r) => serviceId(r.service) === sid).map((r) => destinationId(r.destination))), [pending.data, sid]);

  // changes made outside Director (ipvsadm): read at about the agent's tick; an agent without the watch answers an error, shown as nothing
  const outsideList = useQuery({ ...trpc.outside.list.queryOptions(), refetchInterval: 1000, retry: false });
  const outside = outsideList.data?.changes.find((c) => c.serviceId === sid) ?? null;
  const afterOutside = { onSuccess: () => { void outsideList.refetch(); } };
  const adopt = useMutation(trpc.outside.adopt.mutationOptions(afterOutside));
  const revert = useMutation(trpc.outside.revert.mutationOptions(afterOutside));
  const alarm = outside ? (
    <OutsideAlarm
      change={outside}
      disabledReason={access.disabledReason}
      onAdopt={(id) => adopt.mutateAsync({ id })}
      onRevert={(id) => revert.mutateAsync({ id })}
    />
  ) : null;

  const colors = useMemo(() => (service ? destinationColors(service) : new Map<string, string>()), [service]);
  if (services.error) return <ErrorNote title="Could not read this service">{errorText(services.error)}</ErrorNote>;
  if (!services.data) return <div className="space-y-4"><Skeleton className="h-12 w-96" /><Skeleton className="h-72 w-full" /><TableSkeleton rows={4} cols={8} /></div>;
  if (!service) {
    return (
      <>
      {alarm}
      <ErrorNote title="This virtual service no longer exists" action={<Link className="text-accent underline" href={`/d/${encodeURIComponent(director)}`}>Back to the overview</Link>}>
        It may have been removed in another tab or with ipvsadm. The overview lists what exists now.
      </ErrorNote>
      </>
    );
  }
  const shares = shareMap(stats, sid, service);
  // an agent without history (older, or it answered an error) leaves the chart to the live ticks
  const chart = history ? chartFromHistory(history, service, metric, colors) : chartData(stats, sid, service, metric, colors);
  return (
    <div className="space-y-4">
    {alarm}
    <DraftBanner count={draft.data?.edits.length ?? 0} href={`/d/${encodeURIComponent(director)}/draft`} />
    <ServiceView
      service={service}
      sample={stats.service(sid)}
      destSample={(did) => stats.destinationSample(sid, did)}
      shares={shares}
      colors={colors}
      chart={chart}
      metric={metric}
      onMetric={setMetric}
      range={range}
      onRange={setRange}
      disabledReason={access.disabledReason}
      onSaveScheduler={async (p) => { await update.mutateAsync({ key: service.key, patch: { scheduler: p.scheduler, flags: p.flags } }); }}
      onUpdateService={async (spec) => {
        await update.mutateAsync({ key: service.key, patch: { scheduler: spec.scheduler, flags: spec.flags, timeout: spec.timeout, netmask: spec.netmask } });
      }}
      onRemoveService={async () => { await remove.mutateAsync({ key: service.key }); window.location.assign(`/d/${encodeURIComponent(director)}`); }}
      onZeroCounters={async () => { await zero.mutateAsync({ key: service.key }); }}
      onAddDestination={async (d, o) => { await addDest.mutateAsync({ service: service.key, destination: d, ...o }); void ramps.refetch(); }}
      slowStarts={slowStarts}
      removals={removals}
      onStopSlowStart={async (d) => { await stopRamp.mutateAsync({ service: service.key, destination: d }); void ramps.refetch(); }}
      onUpdateDestination={async (d) => {
        await updDest.mutateAsync({ service: service.key, destination: keyOf(d as DestinationState), patch: { forward: d.forward, weight: d.weight, upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: d.tunnel } });
      }}
      onRemoveDestination={async (d) => { await rmDest.mutateAsync({ service: service.key, destination: keyOf(d) }); }}
      onDrain={async (d, o) => { await drain.mutateAsync({ service: service.key, destination: keyOf(d), ...o }); setDraining(keyOf(d)); }}
      drainProgress={progress && draining && destinationId(progress.destination) === destinationId(draining) ? progress : null}
      onDrainClose={() => setDraining(null)}
      onDrainMany={async (ds, o) => {
        const r = await drainMany.mutateAsync({ items: ds.map((d) => ({ service: service.key, destination: keyOf(d) })), ...o });
        if (o.removeWhenDrained) void pending.refetch();
        return { journalIds: r.drained.map((x) => x.journalId) };
      }}
      onRestore={async (d) => { await restore.mutateAsync({ service: service.key, destination: d }); }}
      health={health}
      skew={skew}
      stage={stage}
    />
    </div>
  );
}
