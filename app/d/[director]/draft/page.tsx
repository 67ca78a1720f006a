'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { errorText, useDirectorAccess, useDirectorId } from '@/components/data/hooks';
import { useTRPC, useTRPCClient } from '@/components/data/trpc';
import { DraftPanel, type ApplyResult } from '@/components/changeset/DraftPanel';
import { useDraft } from '@/components/changeset/useDraft';
import { useFleetOthers } from '@/components/changeset/useFleetOthers';
import type { FleetOthers } from '@/lib/changeset/fleet-vips';

export default function DraftPage() {
  const director = useDirectorId();
  const access = useDirectorAccess(director);
  const trpc = useTRPC();
  const client = useTRPCClient();
  const qc = useQueryClient();
  // the VIPs the rest of the fleet serves, so the verdict flags a new service on one of them
  const fleet = useFleetOthers(director);
  const draft = useDraft(3000, fleet.others);
  const canary = useQuery({ ...trpc.changesets.canary.queryOptions(), refetchInterval: 1000, retry: false });
  const [progress, setProgress] = useState<{ done: number; total: number } | null>(null);
  const [result, setResult] = useState<ApplyResult | null>(null);
  const invalidate = () => Promise.all([
    qc.invalidateQueries({ queryKey: trpc.changesets.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.services.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.journal.pathKey() }),
  ]);
  const unstage = useMutation(trpc.changesets.unstage.mutationOptions({ onSettled: invalidate }));
  const discard = useMutation(trpc.changesets.discard.mutationOptions({ onSettled: invalidate }));
  const commit = useMutation(trpc.changesets.commit.mutationOptions({ onSettled: invalidate }));
  const undo = useMutation(trpc.journal.undoEntry.mutationOptions({ onSettled: invalidate }));
  const stop = useMutation(trpc.changesets.stopCanary.mutationOptions({ onSettled: invalidate }));

  const apply = async (o: { acknowledge: boolean; canarySeconds: number | null }) => {
    if (!draft.data) return;
    const progressId = `c${crypto.randomUUID().replace(/-/g, '')}`;
    let sub: { unsubscribe: () => void } | null = null;
    // subscribe first so no step is missed; a socket that is down must not hold the apply back
    await new Promise<void>((resolve) => {
      sub = client.changesets.onProgress.subscribe({ progressId }, {
        onStarted: () => resolve(),
        onData: (e) => setProgress({ done: e.data.done, total: e.data.total }),
        onError: () => resolve(),
      });
      setTimeout(resolve, 3000);
    });
    try {
      const r = await commit.mutateAsync({
        rev: draft.data.rev, acknowledge: o.acknowledge, progressId, others: fleet.others,
        ...(o.canarySeconds ? { canary: { seconds: o.canarySeconds } } : {}),
      });
      setResult({ journalId: r.journalId, applied: r.applied, undone: false });
    } finally {
      (sub as { unsubscribe: () => void } | null)?.unsubscribe();
      setProgress(null);
    }
  };

  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Change set</h1>
      <FleetNote fleet={fleet} />
      <DraftPanel
        draft={draft.data}
        error={errorText(draft.error)}
        disabledReason={access.disabledReason}
        onUnstage={async (id) => { await unstage.mutateAsync({ id }); }}
        onDiscard={async () => { await discard.mutateAsync(); }}
        onApply={apply}
        progress={progress}
        result={result}
        onUndo={async (id) => { await undo.mutateAsync({ id }); setResult((r) => (r ? { ...r, undone: true } : r)); }}
        canary={canary.data ?? null}
        onStopCanary={async () => { await stop.mutateAsync(); }}
      />
    </div>
  );
}

/** What the verdict's "VIP served by another director" rule checked against, and what it could not. */
function FleetNote({ fleet }: { fleet: FleetOthers }) {
  if (fleet.others === null) return null;
  const checked = fleet.others.map((o) => o.director);
  return (
    <p aria-label="Fleet VIPs checked" className="text-xs text-ink-3">
      {checked.length ? `New VIPs are checked against ${checked.join(', ')}.` : 'No other director\'s VIPs are checked.'}
      {fleet.peers.length ? ` HA peers (${fleet.peers.join(', ')}) serve the same VIPs by design and are left out.` : ''}
      {fleet.unread.length ? ` Not checked (could not be read): ${fleet.unread.join(', ')}.` : ''}
      {fleet.truncated.length ? ` Only the first 4096 VIPs of ${fleet.truncated.join(', ')} are checked.` : ''}
    </p>
  );
}
