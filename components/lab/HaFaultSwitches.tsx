'use client';
import { useState } from 'react';
import { haSwitches, type HaSwitch } from '@/lib/lab/ha-switches';
import type { HaFaultInput, HaLabStatus, HaStandingFault } from '@/lib/lab/ha-topology';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { Panel } from '../ui/Panel';

/**
 * The HA faults of the lab. Which are on comes from the lab (its markers), so
 * a reload, another tab or the other director's page shows the same; Repair
 * undoes exactly the fault it stands beside.
 */
export function HaFaultSwitches({ ha, onFault, onRepair, disabledReason }: {
  ha: HaLabStatus;
  onFault: (input: HaFaultInput) => Promise<void>;
  onRepair: (fault: HaStandingFault | undefined) => Promise<void>;
  disabledReason: string | null;
}) {
  const [asking, setAsking] = useState<HaSwitch | null>(null);
  const [busy, setBusy] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const rows = haSwitches(ha);
  const onCount = rows.filter((r) => r.on).length;
  const repair = async (key: string, f: HaStandingFault | undefined) => {
    setBusy(key);
    setError(null);
    try { await onRepair(f); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } finally { setBusy(null); }
  };
  return (
    <Panel title="HA fault switches"
      actions={<Button size="sm" disabled={onCount === 0 || busy !== null} disabledReason={disabledReason}
        onClick={() => void repair('all', undefined)}>{onCount ? `Repair all (${onCount} on)` : 'Nothing to repair'}</Button>}>
      <ul className="divide-y divide-line/70" aria-label="HA switches">
        {rows.map((r) => (
          <li key={r.id} data-switch={r.id} data-on={r.on ? 'yes' : 'no'} className="flex items-center justify-between gap-3 py-2">
            <div className="min-w-0">
              <p className="text-sm font-medium">{r.label}{' '}
                {r.kind === 'once' ? <Badge>once</Badge> : <Badge tone={r.on ? 'danger' : 'neutral'}>{r.on ? 'on' : 'off'}</Badge>}
              </p>
              <p className="text-xs text-ink-3">{r.effect}</p>
            </div>
            {r.on
              ? <Button disabled={busy !== null} disabledReason={disabledReason} onClick={() => void repair(r.id, r.standing ?? undefined)}>{busy === r.id ? 'Repairing…' : 'Repair'}</Button>
              : <Button variant="danger" disabled={busy !== null} disabledReason={disabledReason} onClick={() => setAsking(r)}>{r.kind === 'once' ? 'Do it…' : 'Turn on…'}</Button>}
          </li>
        ))}
      </ul>
      {disabledReason ? <p className="mt-1 text-xs text-ink-3">{disabledReason}</p> : null}
      {error ? <p role="alert" className="mt-2 text-sm text-danger">{error}</p> : null}
      <ConfirmDialog open={asking !== null} title={asking ? `${asking.label}?` : ''} confirmLabel={asking?.kind === 'once' ? 'Do it' : 'Turn on'}
        onCancel={() => setAsking(null)}
        onConfirm={async () => {
          if (!asking) return;
          await onFault(asking.turnOn);
          setAsking(null);
        }}>
        <p className="text-sm">{asking?.effect}</p>
        {asking?.kind === 'standing' ? <p className="mt-2 text-xs text-ink-3">It stays on until you repair it here (the lab remembers it across reloads).</p> : null}
      </ConfirmDialog>
    </Panel>
  );
}
