'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { errorText, useDirectorAccess, useDirectorId } from '@/components/data/hooks';
import { useTRPC } from '@/components/data/trpc';
import { DoctorView } from '@/components/doctor/DoctorView';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { TableSkeleton } from '@/components/ui/Skeleton';

/** What is wrong with this director and how to fix it (the agent's doctor.* procedures). */
export default function DoctorPage() {
  const director = useDirectorId();
  const trpc = useTRPC();
  const qc = useQueryClient();
  const access = useDirectorAccess(director);
  // a look walks the connection table: every 10 s is enough for settings that rarely change
  const run = useQuery({ ...trpc.doctor.run.queryOptions(), refetchInterval: 10_000 });
  const probe = useMutation(trpc.doctor.probeArp.mutationOptions({
    onSuccess: (r) => { qc.setQueryData(trpc.doctor.run.queryKey(), r); },
  }));

  const error = errorText(run.error);
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-lg font-semibold">Doctor</h1>
        <p className="text-sm text-ink-2">
          What would make traffic die on {director}: its own settings for the forwarding methods in use, IPVS&apos;s settings against the services,
          real servers as the director sees them, and who answers ARP for the VIPs. Each finding shows what was read, why it matters and the line that fixes it.
        </p>
      </div>
      {error ? <ErrorNote title="The doctor could not look at this director">{error}</ErrorNote>
        : run.isPending || !run.data ? <TableSkeleton />
          : (
            <DoctorView
              report={run.data}
              onProbe={() => probe.mutate()}
              probing={probe.isPending}
              probeDisabledReason={access.disabledReason}
              probeError={errorText(probe.error)}
            />
          )}
    </div>
  );
}
