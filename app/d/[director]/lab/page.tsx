'use client';
import { useMutation, useQuery } from '@tanstack/react-query';
import { errorText, useDirectorAccess, useDirectorId } from '@/components/data/hooks';
import { useTRPC } from '@/components/data/trpc';
import { ErrorNote } from '@/components/ui/ErrorNote';
import { Skeleton } from '@/components/ui/Skeleton';
import { LabView } from '@/components/views/LabView';

export default function LabPage() {
  const director = useDirectorId();
  const access = useDirectorAccess(director);
  const trpc = useTRPC();
  // each look at the namespaces costs the lab kernel about a second: a slow poll is enough
  const status = useQuery(trpc.lab.status.queryOptions({ fresh: false }, { refetchInterval: 4000, retry: false }));
  const rate = useMutation(trpc.lab.setRate.mutationOptions({ onSettled: () => status.refetch() }));
  const fault = useMutation(trpc.lab.fault.mutationOptions({ onSettled: () => status.refetch() }));
  const haFault = useMutation(trpc.lab.haFault.mutationOptions({ onSettled: () => status.refetch() }));
  const haRepair = useMutation(trpc.lab.haRepair.mutationOptions({ onSettled: () => status.refetch() }));
  if (status.error) {
    // a production agent has no lab.* procedures at all; an older one answered NOT_IMPLEMENTED
    const notLab = /NOT_IMPLEMENTED|does not run in the lab|No procedure found on path "lab\./.test(status.error.message);
    return (
      <ErrorNote title={notLab ? 'This director is not the lab' : 'Could not read the lab'}>
        {notLab ? 'Its agent runs on a real host, not inside the lab kernel. Start the lab with: npm start -- --lab' : errorText(status.error)}
      </ErrorNote>
    );
  }
  if (!status.data) return <Skeleton className="h-96 w-full" />;
  return (
    <LabView
      status={status.data}
      onRate={async (r) => { await rate.mutateAsync({ rate: r }); }}
      onFault={async (server, f, on) => { await fault.mutateAsync({ server, fault: f as 'remove-vip', on }); }}
      onHaFault={async (input) => { await haFault.mutateAsync(input); }}
      onHaRepair={async (f) => { await haRepair.mutateAsync({ fault: f }); }}
      disabledReason={access.disabledReason}
    />
  );
}
