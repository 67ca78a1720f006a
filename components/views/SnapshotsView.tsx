'use client';
import { ExportPanel, type SnapshotFormat } from '../snapshots/ExportPanel';
import { ImportFlow, type ApplyFn, type PlanResult } from '../snapshots/ImportFlow';
import { JournalList, type JournalRow } from '../snapshots/JournalList';
import { ErrorNote } from '../ui/ErrorNote';
import { Panel } from '../ui/Panel';
import { TableSkeleton } from '../ui/Skeleton';

export function SnapshotsView(p: {
  exportFormat: SnapshotFormat;
  onExportFormat: (f: SnapshotFormat) => void;
  exportThresholds?: boolean;
  onExportThresholds?: (on: boolean) => void;
  exportText: string | undefined;
  exportLoading: boolean;
  exportError: string | null;
  filenameBase: string;
  onPlan: (a: { format: SnapshotFormat; text: string; prune: boolean }) => Promise<PlanResult>;
  onApply: ApplyFn;
  journal: readonly JournalRow[] | undefined;
  journalError: string | null;
  onUndo: (id: number) => Promise<unknown>;
  disabledReason: string | null;
}) {
  return (
    <div className="space-y-4">
      <h1 className="text-lg font-semibold">Snapshots</h1>
      <div className="grid gap-4 2xl:grid-cols-[minmax(0,2fr)_minmax(0,3fr)]">
        <Panel title="Export">
          <ExportPanel format={p.exportFormat} onFormat={p.onExportFormat} thresholds={p.exportThresholds} onThresholds={p.onExportThresholds} text={p.exportText} loading={p.exportLoading} error={p.exportError} filenameBase={p.filenameBase} />
        </Panel>
        <Panel title="Import">
          <ImportFlow onPlan={p.onPlan} onApply={p.onApply} disabledReason={p.disabledReason} />
        </Panel>
      </div>
      <Panel title="Change journal">
        {p.journalError ? <ErrorNote title="Could not read the journal">{p.journalError}</ErrorNote>
          : !p.journal ? <TableSkeleton rows={4} cols={4} />
          : <JournalList entries={p.journal} onUndo={p.onUndo} disabledReason={p.disabledReason} />}
      </Panel>
    </div>
  );
}
