'use client';
import { useMemo, useState } from 'react';
import { demoWrite, useDemo } from '@/components/demo/useDemo';
import { formatSnapshot } from '@/lib/snapshot/format';
import { makeSnapshot, stringifySnapshot, toRules } from '@/lib/snapshot/json';
import { parseSnapshot } from '@/lib/snapshot/parse';
import { planRestore, renderPlan } from '@/lib/snapshot/plan';
import type { SnapshotFormat } from '@/components/snapshots/ExportPanel';
import { SnapshotsView } from '@/components/views/SnapshotsView';

export default function DemoSnapshots() {
  const { services, disabledReason } = useDemo();
  const [format, setFormat] = useState<SnapshotFormat>('ipvsadm');
  const text = useMemo(() => (format === 'ipvsadm' ? formatSnapshot(toRules(services)) : stringifySnapshot(makeSnapshot(services, { host: 'demo-director', ipvsVersion: '1.2.1' }))), [services, format]);
  return (
    <SnapshotsView
      exportFormat={format} onExportFormat={setFormat} exportText={text} exportLoading={false} exportError={null} filenameBase="demo"
      onPlan={async (a) => {
        // The real parser and planner from lib/snapshot, against the demo table.
        const p = await parseSnapshot(a.text);
        if (p.errors.length) throw { message: 'invalid input', data: { zodError: { issues: p.errors.map((e) => ({ message: `line ${e.line}${e.column !== undefined ? `:${e.column}` : ''}: ${e.message}` })) } } };
        const ops = planRestore(services, p.services, { mode: a.prune ? 'replace' : 'merge', lines: p.lines });
        return { ops, text: renderPlan(ops) };
      }}
      onApply={async () => { await demoWrite(); return { applied: 0 }; }}
      journal={[
        { id: 42, at: new Date(Date.now() - 60_000).toISOString(), role: 'operator', tokenName: 'operator', op: 'destinations.drain', summary: 'changed real server 10.1.0.24:80 of TCP 192.168.150.100:80: weight 1 → 0' },
        { id: 41, at: new Date(Date.now() - 3_600_000).toISOString(), role: 'operator', tokenName: 'operator', op: 'services.update', summary: 'changed service TCP 192.168.150.100:443: scheduler wlc → sh, flags' },
        { id: 40, at: new Date(Date.now() - 7_200_000).toISOString(), role: 'operator', tokenName: 'operator', op: 'snapshot.restore', summary: 'added service UDP 192.168.150.53:53; added service FWM 7' },
      ]}
      journalError={null} onUndo={demoWrite} disabledReason={disabledReason}
    />
  );
}
