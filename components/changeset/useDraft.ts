'use client';
/** The director's change set from the console: the draft (polled), and staging each form's change into it. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import type { DestinationSpec, DestinationState, ServiceKey, ServiceSpec } from '@/lib/ipvs/model';
import { useTRPC } from '@/components/data/trpc';
import { useStableCallback } from '@/components/data/hooks';
import type { StageActions } from '@/components/views/ServiceView';

const keyOf = (d: { family: DestinationSpec['family']; address: string; port: number }) => ({ family: d.family, address: d.address, port: d.port });

export function useDraft(poll = 5000) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.changesets.get.queryOptions({ others: null }), refetchInterval: poll, retry: false });
}

/** stage(edit), refreshing the draft after. */
export function useStageEdit() {
  const trpc = useTRPC();
  const qc = useQueryClient();
  const m = useMutation(trpc.changesets.stage.mutationOptions({
    onSuccess: () => qc.invalidateQueries({ queryKey: trpc.changesets.get.queryKey() }),
  }));
  return useStableCallback((edit: unknown) => m.mutateAsync({ edit }));
}

/** "Add to draft" for every form of one service's page. */
export function useStageActions(service: ServiceKey | undefined): StageActions | undefined {
  const stage = useStageEdit();
  return useMemo(() => (service ? {
    updateService: async (spec: ServiceSpec) => {
      await stage({ op: 'service.update', key: service, patch: { scheduler: spec.scheduler, flags: spec.flags, timeout: spec.timeout, netmask: spec.netmask } });
    },
    removeService: async () => { await stage({ op: 'service.remove', key: service }); },
    addDestination: async (d: DestinationSpec) => { await stage({ op: 'destination.create', service, destination: d }); },
    updateDestination: async (d: DestinationSpec) => {
      await stage({
        op: 'destination.update', service, destination: keyOf(d),
        patch: { forward: d.forward, weight: d.weight, upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: d.tunnel },
      });
    },
    removeDestination: async (d: DestinationState) => { await stage({ op: 'destination.remove', service, destination: keyOf(d) }); },
  } : undefined), [service, stage]);
}
