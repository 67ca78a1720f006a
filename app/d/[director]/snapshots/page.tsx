'use client';
import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { errorText, useDirectorAccess, useDirectorId } from '@/components/data/hooks';
import { useTRPC } from '@/components/data/trpc';
import type { SnapshotFormat } from '@/components/snapshots/ExportPanel';
import { summarizeJournal } from '@/components/snapshots/journal-summary';
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
  const undo = useMutation(trpc.journal.undo.mutationOptions({ onSettled: invalidate }));
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
      onApply={(a) => restore.mutateAsync(a)}
      journal={journal.data?.map((e) => ({ id: e.id, at: e.at, role: e.role, tokenName: e.tokenName, op: e.op, summary: summarizeJournal(e.objects), ...(e.undoes ? { undoes: e.undoes } : {}) }))}
      journalError={errorText(journal.error)}
      onUndo={() => undo.mutateAsync()}
      disabledReason={access.disabledReason}
    />
  );
}
