'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { errorText, useDirectorAccess, useDirectorId } from '@/components/data/hooks';
import { useTRPC, useTRPCClient } from '@/components/data/trpc';
import type { ApplyFn } from '@/components/snapshots/ImportFlow';
import type { SnapshotFormat } from '@/components/snapshots/ExportPanel';
import { describeJournalEntry } from '@/components/snapshots/journal-summary';
import { SnapshotsView } from '@/components/views/SnapshotsView';

export default function SnapshotsPage() {
  const director = useDirectorId();
  const access = useDirectorAccess(director);
  const trpc = useTRPC();
  const qc = useQueryClient();
  const [format, setFormat] = useState<SnapshotFormat>('ipvsadm');
  const [thresholds, setThresholds] = useState(true);
  const exported = useQuery(trpc.snapshot.export.queryOptions({ format, thresholds }, { refetchInterval: 10_000 }));
  const journal = useQuery(trpc.journal.list.queryOptions({ limit: 100 }));
  const invalidate = () => Promise.all([
    qc.invalidateQueries({ queryKey: trpc.services.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.journal.pathKey() }),
    qc.invalidateQueries({ queryKey: trpc.snapshot.pathKey() }),
  ]);
  const restore = useMutation(trpc.snapshot.restore.mutationOptions({ onSettled: invalidate }));
  const client = useTRPCClient();
  // Follow the restore's progress on the live socket; subscribe first so no step is missed.
  const apply: ApplyFn = async (a, onProgress) => {
    const progressId = `r${crypto.randomUUID().replace(/-/g, '')}`;
    let sub: { unsubscribe: () => void } | null = null;
    await new Promise<void>((resolve) => {
      sub = client.snapshot.onRestoreProgress.subscribe({ progressId }, {
        onStarted: () => resolve(),
        onData: (e) => onProgress({ done: e.data.done, total: e.data.total }),
        onError: () => resolve(),
      });
      // a socket that is down must not hold the apply back; the bar then waits for the result
      setTimeout(resolve, 3000);
    });
    try {
      return await restore.mutateAsync({ ...a, progressId });
    } finally {
      (sub as { unsubscribe: () => void } | null)?.unsubscribe();
    }
  };
  const undo = useMutation(trpc.journal.undoEntry.mutationOptions({ onSettled: invalidate }));
  const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, '-');
  return (
    <SnapshotsView
      exportFormat={format}
      onExportFormat={setFormat}
      exportThresholds={thresholds}
      onExportThresholds={setThresholds}
      exportText={exported.data?.text}
      exportLoading={exported.isPending}
      exportError={errorText(exported.error)}
      filenameBase={`${director}-${stamp}`}
      onPlan={(a) => qc.fetchQuery({ ...trpc.snapshot.plan.queryOptions(a), staleTime: 0 })}
      onApply={apply}
      journal={journal.data?.map((e) => ({ id: e.id, at: e.at, role: e.role, tokenName: e.tokenName, ...(e.actor ? { actor: e.actor } : {}), op: e.op, summary: describeJournalEntry(e), ...(e.undoes ? { undoes: e.undoes } : {}) }))}
      journalError={errorText(journal.error)}
      onUndo={(id) => undo.mutateAsync({ id })}
      disabledReason={access.disabledReason}
    />
  );
}
