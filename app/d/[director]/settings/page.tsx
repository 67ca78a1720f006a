'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorText, useDirectorAccess, useDirectorId, useServices } from '@/components/data/hooks';
import { useTRPC } from '@/components/data/trpc';
import { SettingsView } from '@/components/views/SettingsView';

export default function SettingsPage() {
  const director = useDirectorId();
  const access = useDirectorAccess(director);
  const trpc = useTRPC();
  const qc = useQueryClient();
  const services = useServices();
  const timeouts = useQuery(trpc.timeouts.get.queryOptions(undefined, { refetchInterval: 15_000 }));
  const daemons = useQuery(trpc.sync.list.queryOptions(undefined, { refetchInterval: 10_000 }));
  const settled = () => Promise.all([
    qc.invalidateQueries({ queryKey: trpc.timeouts.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.sync.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.services.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.journal.pathKey() }),
  ]);
  const setTimeouts = useMutation(trpc.timeouts.set.mutationOptions({ onSettled: settled }));
  const zero = useMutation(trpc.stats.zero.mutationOptions({ onSettled: settled }));
  const start = useMutation(trpc.sync.start.mutationOptions({ onSettled: settled }));
  const stop = useMutation(trpc.sync.stop.mutationOptions({ onSettled: settled }));
  const clear = useMutation(trpc.table.clear.mutationOptions({ onSettled: settled }));
  return (
    <SettingsView
      directorName={access.name}
      serviceCount={services.data?.length}
      timeouts={timeouts.data}
      timeoutsError={errorText(timeouts.error)}
      daemons={daemons.data}
      daemonsError={errorText(daemons.error)}
      disabledReason={access.disabledReason}
      onSetTimeouts={(t) => setTimeouts.mutateAsync(t)}
      onZeroAll={() => zero.mutateAsync({})}
      onStartDaemon={(cfg) => start.mutateAsync(cfg)}
      onStopDaemon={(state) => stop.mutateAsync({ state })}
      onClear={() => clear.mutateAsync()}
    />
  );
}
