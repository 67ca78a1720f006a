'use client';
import { useEffect, useId, useState } from 'react';
import { SCHEDULERS, type ServiceSpec } from '@/lib/ipvs/model';
import { SCHEDULER_HELP, shownSchedulerFlags } from '../forms/schedulers';
import { Button } from '../ui/Button';
import { inputClass } from '../ui/Field';

export interface SchedulerPatch {
  scheduler: string;
  flags: { sched1: boolean; sched2: boolean; sched3: boolean };
}

/** Scheduler and scheduler flags of a service, edited in place on its page. */
export function SchedulerEditor({ service, onSave, disabledReason }: {
  service: ServiceSpec;
  onSave: (p: SchedulerPatch) => Promise<void>;
  disabledReason: string | null;
}) {
  const id = useId();
  const [sched, setSched] = useState(service.scheduler);
  const [f, setF] = useState({ sched1: service.flags.sched1, sched2: service.flags.sched2, sched3: service.flags.sched3 });
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  // Follow changes made elsewhere (another tab, ipvsadm) while not editing.
  const dirty = sched !== service.scheduler || f.sched1 !== service.flags.sched1 || f.sched2 !== service.flags.sched2 || f.sched3 !== service.flags.sched3;
  useEffect(() => {
    if (!busy) {
      setSched(service.scheduler);
      setF({ sched1: service.flags.sched1, sched2: service.flags.sched2, sched3: service.flags.sched3 });
    }
    // runs when the service changes, not when `busy` does
  }, [service.scheduler, service.flags.sched1, service.flags.sched2, service.flags.sched3]);
  const flags = shownSchedulerFlags(sched, f);
  const known = (SCHEDULERS as readonly string[]).includes(sched);
  return (
    <form
      className="flex flex-wrap items-end gap-4"
      onSubmit={async (e) => {
        e.preventDefault();
        setBusy(true);
        setError(null);
        try {
          await onSave({ scheduler: sched, flags: f });
        } catch (err) {
          setError(err instanceof Error ? err.message : String(err));
        } finally {
          setBusy(false);
        }
      }}
    >
      <div className="min-w-64">
        <label htmlFor={`${id}-s`} className="mb-1 block text-xs font-medium text-ink-2">Scheduler</label>
        <select id={`${id}-s`} value={sched} onChange={(e) => setSched(e.target.value)} disabled={Boolean(disabledReason)} className={inputClass}>
          {!known ? <option value={sched}>{sched}</option> : null}
          {SCHEDULERS.map((s) => <option key={s} value={s}>{s}</option>)}
        </select>
      </div>
      <fieldset className="flex items-center gap-3 pb-2" disabled={Boolean(disabledReason)}>
        <legend className="sr-only">Scheduler flags</legend>
        {flags.length === 0 ? <span className="text-xs text-ink-3">{sched} takes no flags</span> : null}
        {flags.map(({ key, name, help }) => (
          <label key={key} className="flex items-center gap-1.5 text-sm text-ink-2" title={help}>
            <input type="checkbox" checked={f[key]} onChange={(e) => setF({ ...f, [key]: e.target.checked })} />
            <span className="font-mono text-xs">{name}</span>
          </label>
        ))}
      </fieldset>
      <div className="flex items-center gap-2 pb-0.5">
        <Button type="submit" variant="primary" size="sm" disabled={!dirty || busy} disabledReason={disabledReason}>{busy ? 'Saving…' : 'Apply'}</Button>
        {dirty && !busy ? <Button size="sm" variant="ghost" onClick={() => { setSched(service.scheduler); setF({ sched1: service.flags.sched1, sched2: service.flags.sched2, sched3: service.flags.sched3 }); }}>Reset</Button> : null}
      </div>
      <p className="basis-full text-xs text-ink-3">{known ? SCHEDULER_HELP[sched as keyof typeof SCHEDULER_HELP] : 'A scheduler this console does not describe; the kernel decides whether it exists.'}</p>
      {disabledReason ? <p className="basis-full text-xs text-ink-3">{disabledReason}</p> : null}
      {error ? <p role="alert" className="basis-full text-sm text-danger">{error}</p> : null}
    </form>
  );
}
