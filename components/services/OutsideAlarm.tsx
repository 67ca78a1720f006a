'use client';
/**
 * A service changed outside Director (ipvsadm, keepalived, a script): what
 * differs from what Director last wrote, and the two ways out: adopt it
 * (Director takes it as its own, journaled) or revert it (Director's last
 * configuration put back, journaled). Data comes as props.
 */
import { useState } from 'react';
import { describeChange, type OutsideChange } from '@/lib/agent/outside';
import { formatServiceKey } from '@/lib/ipvs/format';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';

export function OutsideAlarm({ change, disabledReason, onAdopt, onRevert }: {
  change: OutsideChange;
  disabledReason: string | null;
  onAdopt: (id: number) => Promise<unknown>;
  onRevert: (id: number) => Promise<unknown>;
}) {
  const [confirm, setConfirm] = useState<'adopt' | 'revert' | null>(null);
  const label = formatServiceKey(change.service);
  return (
    <section role="alert" aria-label="Changed outside Director" className="rounded-lg border border-warn/50 bg-warn/10 px-4 py-3 text-sm">
      <div className="flex flex-wrap items-start justify-between gap-3">
        <div>
          <h2 className="font-semibold text-warn">Changed outside Director</h2>
          <p className="text-ink-2">
            {label} is not as Director last wrote it (since {new Date(change.since).toLocaleTimeString()}): another tool changed it.
          </p>
          <ul className="mt-1 list-disc pl-5 font-mono text-xs text-ink">
            {change.changes.map((c) => <li key={describeChange(c)}>{describeChange(c)}</li>)}
          </ul>
        </div>
        <div className="flex gap-2">
          <Button size="sm" disabledReason={disabledReason} onClick={() => setConfirm('adopt')}>Adopt</Button>
          <Button size="sm" variant="danger" disabledReason={disabledReason} onClick={() => setConfirm('revert')}>Revert</Button>
        </div>
      </div>
      <ConfirmDialog
        open={confirm !== null}
        title={confirm === 'adopt' ? `Adopt the change to ${label}?` : `Revert ${label} to what Director last wrote?`}
        confirmLabel={confirm === 'adopt' ? 'Adopt' : 'Revert'}
        onCancel={() => setConfirm(null)}
        onConfirm={async () => {
          await (confirm === 'adopt' ? onAdopt(change.id) : onRevert(change.id));
          setConfirm(null);
        }}
      >
        {confirm === 'adopt'
          ? <p>The table stays as it is; the journal records the change as made outside Director and adopted by you.</p>
          : <p>Director puts back its last configuration of {label}{change.expected === null ? ' (it had no such service: it is removed)' : ''}; the journal records it.</p>}
      </ConfirmDialog>
    </section>
  );
}
