'use client';
import { useForm } from 'react-hook-form';
import { useState } from 'react';
import { SCHEDULERS, type ServiceSpec } from '@/lib/ipvs/model';
import { Button } from '../ui/Button';
import { Field, inputClass } from '../ui/Field';
import { EMPTY_SERVICE_FORM, serverErrorOf, serviceResolver, validateServiceForm, type ServiceFormValues } from './form-model';
import { SCHEDULER_HELP, shownSchedulerFlags } from './schedulers';

/**
 * Add or edit a virtual service. Validation runs the same zod schema the
 * agent runs; the agent's own issues (and kernel errors) land beside the
 * field too. Editing cannot change the identity (address/port/fwmark).
 */
export function ServiceForm({ initial, editing, onSubmit, onStage, onCancel, disabledReason }: {
  initial?: ServiceFormValues;
  editing?: boolean;
  onSubmit: (spec: ServiceSpec) => Promise<void>;
  /** "Add to draft": stage the change in the director's change set instead of applying it now */
  onStage?: ((spec: ServiceSpec) => Promise<void>) | undefined;
  onCancel: () => void;
  disabledReason: string | null;
}) {
  const [formError, setFormError] = useState<string | null>(null);
  const { register, handleSubmit, watch, setError, formState: { errors, isSubmitting } } = useForm<ServiceFormValues>({
    defaultValues: initial ?? EMPTY_SERVICE_FORM,
    resolver: async (v) => serviceResolver(v),
    mode: 'onTouched',
  });
  const kind = watch('kind');
  const sched = watch('scheduler');
  const persistent = watch('persistent');
  const family = watch('family');
  const protocol = watch('protocol');
  const flags = shownSchedulerFlags(sched, { sched1: watch('sched1'), sched2: watch('sched2'), sched3: watch('sched3') });
  const err = (k: keyof ServiceFormValues) => errors[k]?.message;
  const aria = (k: keyof ServiceFormValues) => ({ 'aria-invalid': errors[k] ? true : undefined, 'aria-describedby': errors[k] ? `svc-${k}-error` : `svc-${k}-hint` });

  const send = (to: (spec: ServiceSpec) => Promise<void>) => async (v: ServiceFormValues) => {
    setFormError(null);
    const r = validateServiceForm(v);
    if (!r.ok) return;
    try {
      await to(r.spec);
    } catch (e) {
      const se = serverErrorOf('service', e);
      for (const [f, m] of Object.entries(se.fields)) setError(f as keyof ServiceFormValues, { type: 'server', message: m }, { shouldFocus: true });
      if (se.form.length) setFormError(se.form.join('; '));
    }
  };

  return (
    <form
      noValidate
      onSubmit={handleSubmit(send(onSubmit))}
      className="space-y-4"
    >
      <fieldset disabled={editing} className="grid grid-cols-2 gap-4 disabled:opacity-70">
        <legend className="sr-only">Identity</legend>
        <Field id="svc-kind" label="Kind">
          <select id="svc-kind" className={inputClass} {...register('kind')}>
            <option value="addr">Address and port</option>
            <option value="fwmark">Firewall mark</option>
          </select>
        </Field>
        <Field id="svc-family" label="Address family">
          <select id="svc-family" className={inputClass} {...register('family')}>
            <option value="inet">IPv4</option>
            <option value="inet6">IPv6</option>
          </select>
        </Field>
        {kind === 'addr' ? (
          <>
            <Field id="svc-address" label="Virtual address" error={err('address')} className="col-span-2">
              <input id="svc-address" className={`${inputClass} font-mono`} placeholder={family === 'inet6' ? '2001:db8::10' : '192.168.150.100'} {...aria('address')} {...register('address')} />
            </Field>
            <Field id="svc-protocol" label="Protocol">
              <select id="svc-protocol" className={inputClass} {...register('protocol')}>
                <option value="tcp">TCP</option><option value="udp">UDP</option><option value="sctp">SCTP</option>
              </select>
            </Field>
            <Field id="svc-port" label="Port" error={err('port')}>
              <input id="svc-port" inputMode="numeric" className={`${inputClass} num`} {...aria('port')} {...register('port')} />
            </Field>
          </>
        ) : (
          <Field id="svc-fwmark" label="Firewall mark" error={err('fwmark')} hint="Matches packets marked by iptables/nftables (MARK)." className="col-span-2">
            <input id="svc-fwmark" inputMode="numeric" className={`${inputClass} num`} {...aria('fwmark')} {...register('fwmark')} />
          </Field>
        )}
      </fieldset>

      <Field id="svc-scheduler" label="Scheduler" error={err('scheduler')} hint={SCHEDULER_HELP[sched as keyof typeof SCHEDULER_HELP] ?? 'The kernel decides whether this scheduler exists.'}>
        <select id="svc-scheduler" className={inputClass} {...aria('scheduler')} {...register('scheduler')}>
          {SCHEDULERS.map((s) => <option key={s} value={s}>{s} — {SCHEDULER_HELP[s].split(':')[0]}</option>)}
        </select>
      </Field>

      <fieldset className="rounded-md border border-line p-3">
        <legend className="px-1 text-xs font-medium text-ink-2">Persistence</legend>
        <label className="flex items-center gap-2 text-sm">
          <input type="checkbox" {...register('persistent')} /> Send a client back to the same real server
        </label>
        <div className="mt-3 grid grid-cols-2 gap-4">
          <Field id="svc-timeout" label="Timeout (seconds)" error={err('timeout')} hint="Empty: 360 s, as ipvsadm -p.">
            <input id="svc-timeout" inputMode="numeric" disabled={!persistent} className={`${inputClass} num`} placeholder="360" {...aria('timeout')} {...register('timeout')} />
          </Field>
          <Field id="svc-netmask" label="Netmask" error={err('netmask')} hint={family === 'inet6' ? 'Prefix length; empty = 128.' : 'Group clients by mask; empty = 255.255.255.255.'}>
            <input id="svc-netmask" disabled={!persistent} className={`${inputClass} font-mono`} placeholder={family === 'inet6' ? '128' : '255.255.255.255'} {...aria('netmask')} {...register('netmask')} />
          </Field>
        </div>
      </fieldset>

      <fieldset className="rounded-md border border-line p-3">
        <legend className="px-1 text-xs font-medium text-ink-2">Flags</legend>
        <div className="flex flex-wrap gap-x-5 gap-y-2 text-sm">
          {flags.map((f) => (
            <label key={f.key} className="flex items-center gap-1.5" title={f.help}><input type="checkbox" {...register(f.key)} /> <span className="font-mono text-xs">{f.name}</span></label>
          ))}
          <label className="flex items-center gap-1.5" title="Schedule each UDP datagram independently (no connection entry).">
            <input type="checkbox" disabled={kind === 'addr' && protocol !== 'udp'} {...register('onePacket')} aria-invalid={errors.onePacket ? true : undefined} /> one-packet (UDP)
          </label>
        </div>
        {err('onePacket') ? <p role="alert" className="mt-1 text-xs text-danger">{err('onePacket')}</p> : null}
      </fieldset>

      {formError || errors.root?.message ? <p role="alert" className="rounded-md bg-danger/5 px-3 py-2 text-sm text-danger">{formError ?? errors.root?.message}</p> : null}
      <div className="flex justify-end gap-2 border-t border-line pt-3">
        <Button onClick={onCancel}>Cancel</Button>
        {onStage ? <Button disabled={isSubmitting} disabledReason={disabledReason} onClick={handleSubmit(send(onStage))}>Add to draft</Button> : null}
        <Button type="submit" variant="primary" disabled={isSubmitting} disabledReason={disabledReason}>{isSubmitting ? 'Saving…' : editing ? 'Save service' : 'Add service'}</Button>
      </div>
    </form>
  );
}
