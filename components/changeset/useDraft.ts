'use client';
/** The director's change set from the console: the draft (polled), and staging each form's change into it. */
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useMemo } from 'react';
import type { DestinationSpec, DestinationState, ServiceEntry, ServiceSpec } from '@/lib/ipvs/model';
import { destinationId } from '@/lib/ipvs/ids';
import { useTRPC } from '@/components/data/trpc';
import { useStableCallback } from '@/components/data/hooks';
import type { StageActions } from '@/components/views/ServiceView';

const keyOf = (d: { family: DestinationSpec['family']; address: string; port: number }) => ({ family: d.family, address: d.address, port: d.port });

/** `others`: the fleet's VIPs for the verdict (useFleetOthers); null: not checked. */
export function useDraft(poll = 5000, others: { director: string; vips: string[] }[] | null = null) {
  const trpc = useTRPC();
  return useQuery({ ...trpc.changesets.get.queryOptions({ others }), refetchInterval: poll, retry: false, placeholderData: (prev) => prev });
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

/** Only the fields a form changed, so the draft reads "weight 0", not every field the form holds. */
function changed<T extends object>(was: T | undefined, now: T): Partial<T> {
  if (!was) return now;
  const out: Partial<T> = {};
  for (const k of Object.keys(now) as (keyof T)[]) {
    if (JSON.stringify(was[k]) !== JSON.stringify(now[k])) out[k] = now[k];
  }
  return out;
}

/** "Add to draft" for every form of one service's page. */
export function useStageActions(entry: ServiceEntry | undefined): StageActions | undefined {
  const stage = useStageEdit();
  return useMemo(() => {
    if (!entry) return undefined;
    const service = entry.key;
    return {
      updateService: async (spec: ServiceSpec) => {
        const now = { scheduler: spec.scheduler, flags: spec.flags, timeout: spec.timeout, netmask: spec.netmask };
        await stage({ op: 'service.update', key: service, patch: changed({ scheduler: entry.scheduler, flags: entry.flags, timeout: entry.timeout, netmask: entry.netmask }, now) });
      },
      removeService: async () => { await stage({ op: 'service.remove', key: service }); },
      addDestination: async (d: DestinationSpec) => { await stage({ op: 'destination.create', service, destination: d }); },
      updateDestination: async (d: DestinationSpec) => {
        const was = entry.destinations.find((x) => destinationId(x) === destinationId(d));
        const pick = (x: DestinationSpec) => ({ forward: x.forward, weight: x.weight, upperThreshold: x.upperThreshold, lowerThreshold: x.lowerThreshold, tunnel: x.tunnel });
        await stage({ op: 'destination.update', service, destination: keyOf(d), patch: changed(was ? pick(was) : undefined, pick(d)) });
      },
      removeDestination: async (d: DestinationState) => { await stage({ op: 'destination.remove', service, destination: keyOf(d) }); },
    };
  }, [entry, stage]);
}
