'use client';
import { useForm } from 'react-hook-form';
import { useState } from 'react';
import type { DestinationSpec } from '@/lib/ipvs/model';
import { Button } from '../ui/Button';
import { Field, inputClass } from '../ui/Field';
import { destinationResolver, EMPTY_DESTINATION_FORM, serverErrorOf, validateDestinationForm, type DestinationFormValues } from './form-model';

const FORWARD_HELP = {
  dr: 'Direct routing: rewrites the MAC only; the real server needs the VIP on its loopback and ARP suppressed.',
  nat: 'NAT: rewrites the destination address; replies must route back through the director.',
  tun: 'Tunnel: encapsulates to the real server (ipip/GUE/GRE); it needs the VIP on a tunnel interface.',
  local: 'Local: the director itself serves.',
  bypass: 'Bypass: deliver as if no virtual service existed.',
} as const;

export function DestinationForm({ family, servicePort, initial, editing, onSubmit, onStage, onCancel, disabledReason }: {
  family: 'inet' | 'inet6';
  /** the virtual service's port: an empty port field means this one, as with ipvsadm */
  servicePort?: number;
  initial?: DestinationFormValues;
  editing?: boolean;
  /** slowStartSec: climb from weight 1 to the weight over this many seconds (adding only) */
  onSubmit: (spec: DestinationSpec, opts: { slowStartSec?: number }) => Promise<void>;
  /** "Add to draft": stage the change in the director's change set instead of applying it now */
  onStage?: ((spec: DestinationSpec) => Promise<void>) | undefined;
  onCancel: () => void;
  disabledReason: string | null;
}) {
  const [formError, setFormError] = useState<string | null>(null);
  const [slowStart, setSlowStart] = useState('');
  const slowStartError = slowStartProblem(slowStart);
  const resolver = destinationResolver(family, servicePort);
  const { register, handleSubmit, watch, setError, formState: { errors, isSubmitting } } = useForm<DestinationFormValues>({
    defaultValues: initial ?? EMPTY_DESTINATION_FORM,
    resolver: async (v) => resolver(v),
    mode: 'onTouched',
  });
  const forward = watch('forward');
  const tunnelType = watch('tunnelType');
  const err = (k: keyof DestinationFormValues) => errors[k]?.message;
  const aria = (k: keyof DestinationFormValues) => ({ 'aria-invalid': errors[k] ? true : undefined, 'aria-describedby': errors[k] ? `dst-${k}-error` : `dst-${k}-hint` });
  const send = (to: (spec: DestinationSpec) => Promise<void>) => async (v: DestinationFormValues) => {
    setFormError(null);
    const r = validateDestinationForm(v, family, servicePort);
    if (!r.ok || slowStartError) return;
    try {
      await to(r.spec);
    } catch (e) {
      const se = serverErrorOf('destination', e);
      for (const [f, m] of Object.entries(se.fields)) setError(f as keyof DestinationFormValues, { type: 'server', message: m }, { shouldFocus: true });
      if (se.form.length) setFormError(se.form.join('; '));
    }
  };
  return (
    <form
      noValidate
      className="space-y-4"
      onSubmit={handleSubmit(send((spec) => onSubmit(spec, slowStart.trim() && spec.weight > 1 ? { slowStartSec: Number(slowStart) } : {})))}
    >
      <fieldset disabled={editing} className="grid grid-cols-[1fr_110px] gap-2 disabled:opacity-70">
        <legend className="sr-only">Real server</legend>
        <Field id="dst-address" label="Real server address" error={err('address')}>
          <input id="dst-address" className={`${inputClass} font-mono`} placeholder={family === 'inet6' ? '2001:db8::21' : '10.1.0.21'} {...aria('address')} {...register('address')} />
        </Field>
        <Field id="dst-port" label="Port" error={err('port')} hint={servicePort !== undefined ? `Empty: ${servicePort}, the service's.` : undefined}>
          <input id="dst-port" inputMode="numeric" className={`${inputClass} num`} placeholder={servicePort !== undefined ? String(servicePort) : undefined} {...aria('port')} {...register('port')} />
        </Field>
      </fieldset>
      <Field id="dst-forward" label="Forwarding method" error={err('forward')} hint={FORWARD_HELP[forward]}>
        <select id="dst-forward" className={inputClass} {...aria('forward')} {...register('forward')}>
          <option value="dr">Direct routing (-g)</option>
          <option value="nat">NAT / masquerade (-m)</option>
          <option value="tun">Tunnel (-i)</option>
        </select>
      </Field>
      <div className="grid grid-cols-3 gap-4">
        <Field id="dst-weight" label="Weight" error={err('weight')} hint="0 = no new connections">
          <input id="dst-weight" inputMode="numeric" className={`${inputClass} num`} {...aria('weight')} {...register('weight')} />
        </Field>
        <Field id="dst-lowerThreshold" label="Lower threshold" error={err('lowerThreshold')} hint="0 = none">
          <input id="dst-lowerThreshold" inputMode="numeric" className={`${inputClass} num`} {...aria('lowerThreshold')} {...register('lowerThreshold')} />
        </Field>
        <Field id="dst-upperThreshold" label="Upper threshold" error={err('upperThreshold')} hint="connections; 0 = none">
          <input id="dst-upperThreshold" inputMode="numeric" className={`${inputClass} num`} {...aria('upperThreshold')} {...register('upperThreshold')} />
        </Field>
      </div>
      {!editing ? (
        <Field id="dst-slowStart" label="Slow start (seconds)" error={slowStartError ?? undefined}
          hint="Empty: the full weight at once. Else it starts at weight 1 and climbs to its weight in steps over this time (journaled as “slow start”).">
          <input id="dst-slowStart" inputMode="numeric" className={`${inputClass} num w-32`} placeholder="e.g. 60" value={slowStart}
            aria-invalid={slowStartError ? true : undefined} onChange={(e) => setSlowStart(e.target.value)} />
        </Field>
      ) : null}
      {forward === 'tun' ? (
        <fieldset className="grid grid-cols-3 gap-4 rounded-md border border-line p-3">
          <legend className="px-1 text-xs font-medium text-ink-2">Tunnel</legend>
          <Field id="dst-tunnelType" label="Type" error={err('tunnelType')}>
            <select id="dst-tunnelType" className={inputClass} {...aria('tunnelType')} {...register('tunnelType')}>
              <option value="ipip">ipip</option><option value="gue">GUE</option><option value="gre">GRE</option>
            </select>
          </Field>
          <Field id="dst-tunnelPort" label="GUE port" error={err('tunnelPort')}>
            <input id="dst-tunnelPort" inputMode="numeric" disabled={tunnelType !== 'gue'} className={`${inputClass} num`} {...aria('tunnelPort')} {...register('tunnelPort')} />
          </Field>
          <Field id="dst-tunnelChecksum" label="Checksum" error={err('tunnelChecksum')}>
            <select id="dst-tunnelChecksum" disabled={tunnelType === 'ipip'} className={inputClass} {...aria('tunnelChecksum')} {...register('tunnelChecksum')}>
              <option value="nocsum">none</option><option value="csum">checksum</option>
              {tunnelType === 'gue' ? <option value="remcsum">remote checksum</option> : null}
            </select>
          </Field>
        </fieldset>
      ) : null}
      {formError || errors.root?.message ? <p role="alert" className="rounded-md bg-danger/5 px-3 py-2 text-sm text-danger">{formError ?? errors.root?.message}</p> : null}
      <div className="flex justify-end gap-2 border-t border-line pt-3">
        <Button onClick={onCancel}>Cancel</Button>
        {onStage ? <Button disabled={isSubmitting} disabledReason={disabledReason} onClick={handleSubmit(send(onStage))}>Add to draft</Button> : null}
        <Button type="submit" variant="primary" disabled={isSubmitting} disabledReason={disabledReason}>{isSubmitting ? 'Saving…' : editing ? 'Save real server' : 'Add real server'}</Button>
      </div>
    </form>
  );
}

/** Why the slow start field is wrong, or null (empty is fine: no slow start). */
export function slowStartProblem(text: string): string | null {
  const t = text.trim();
  if (!t) return null;
  if (!/^\d+$/.test(t)) return 'Slow start is whole seconds, e.g. 60.';
  const n = Number(t);
  if (n < 2 || n > 3600) return 'Slow start is 2 to 3600 seconds.';
  return null;
}
