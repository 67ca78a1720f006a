'use client';
/**
 * One service's checks: the same check for every real server, keepalived's
 * timing, and what to do on failure. Validated with the agent's own schema
 * before sending, so errors appear next to their fields.
 */
import { useId, useState } from 'react';
import type { DestinationSpec, ServiceKey } from '@/lib/ipvs/model';
import { formatDestination } from '@/lib/ipvs/format';
import { familyOf } from '@/lib/net/ip';
import { healthServiceSchema, type HealthServiceConfig, type HealthServiceInput } from '@/lib/schemas/health';
import { Button } from '@/components/ui/Button';
import { Field, inputClass } from '@/components/ui/Field';

export interface CheckFormValues {
  type: 'http' | 'tcp' | 'misc';
  /** misc: a script name in the agent's checks folder */
  script: string;
  path: string;
  statusCodes: string;
  virtualhost: string;
  connectPort: string;
  delayLoop: string;
  connectTimeout: string;
  retry: string;
  delayBeforeRetry: string;
  onFailure: 'quiesce' | 'remove';
  rampUpSec: string;
  /** quorum: keep at least this many in service even when they fail */
  minInService: string;
  hysteresis: string;
  /** "address:port" or "[v6]:port" of the sorry server; empty = none */
  sorryServer: string;
}

export function valuesFrom(cfg: HealthServiceConfig | null): CheckFormValues {
  const c = cfg?.realServers.find((r) => r.checks.length > 0)?.checks[0];
  const t = cfg?.timing ?? {};
  const http = c?.type === 'http' ? c : null;
  return {
    type: c?.type ?? 'http',
    script: c?.type === 'misc' ? c.script : '',
    path: http?.urls[0]?.path ?? '/',
    statusCodes: (http?.urls[0]?.statusCodes ?? ['200']).join(' '),
    virtualhost: http?.virtualhost ?? '',
    connectPort: c && c.type !== 'misc' && c.connectPort ? String(c.connectPort) : '',
    delayLoop: String(t.delayLoop ?? 6),
    connectTimeout: String(t.connectTimeout ?? 3),
    retry: String(t.retry ?? 2),
    delayBeforeRetry: String(t.delayBeforeRetry ?? 2),
    onFailure: cfg?.onFailure ?? 'quiesce',
    rampUpSec: String(cfg?.rampUpSec ?? 0),
    minInService: String(cfg?.minInService ?? 0),
    hysteresis: String(cfg?.hysteresis ?? 0),
    sorryServer: cfg?.sorryServer ? formatDestination(cfg.sorryServer) : '',
  };
}

/** "10.0.0.9:80", "[2001:db8::9]:80" or a bare address (the service's port); null when empty. */
export function sorryServerOf(text: string, service: ServiceKey, dests: readonly DestinationSpec[], prev: DestinationSpec | null): unknown {
  const t = text.trim();
  if (t === '') return null;
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(t) ?? /^([^:]+)(?::(\d+))?$/.exec(t) ?? [t, t, undefined];
  const address = m[1]!;
  const port = m[2] !== undefined ? Number(m[2]) : service.kind === 'addr' ? service.port : 0;
  // forwarded like the service's real servers, as keepalived's sorry_server follows lb_kind
  const forward = prev?.forward ?? dests[0]?.forward ?? 'nat';
  return { ...(prev ?? {}), family: familyOf(address) ?? service.family, address, port, forward, weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: prev?.tunnel ?? dests[0]?.tunnel ?? { type: 'ipip', port: 0, checksum: 'nocsum' } };
}

const n = (s: string) => (s.trim() === '' ? undefined : Number(s));

/** Form values -> the agent's config (realServers: the service's live ones, keeping any existing per-server settings). */
export function toConfig(v: CheckFormValues, service: ServiceKey, dests: readonly DestinationSpec[], prev: HealthServiceConfig | null): HealthServiceInput {
  const check = v.type === 'http'
    ? {
      type: 'http' as const,
      urls: [{ path: v.path, statusCodes: v.statusCodes.split(/[\s,]+/).filter(Boolean) }],
      ...(v.virtualhost.trim() ? { virtualhost: v.virtualhost.trim() } : {}),
      ...(n(v.connectPort) !== undefined ? { connectPort: n(v.connectPort) } : {}),
    }
    : v.type === 'misc'
      ? { type: 'misc' as const, script: v.script.trim() }
      : { type: 'tcp' as const, ...(n(v.connectPort) !== undefined ? { connectPort: n(v.connectPort) } : {}) };
  const configured = new Map((prev?.realServers ?? []).map((r) => [`${r.destination.address}/${r.destination.port}`, r]));
  return {
    service,
    timing: { delayLoop: n(v.delayLoop), connectTimeout: n(v.connectTimeout), retry: n(v.retry), delayBeforeRetry: n(v.delayBeforeRetry), warmup: n(v.delayLoop) },
    onFailure: v.onFailure,
    rampUpSec: n(v.rampUpSec) ?? 0,
    sorryServer: sorryServerOf(v.sorryServer, service, dests, prev?.sorryServer ?? null) as HealthServiceInput['sorryServer'],
    ...(n(v.minInService) ? { minInService: n(v.minInService) } : {}),
    ...(n(v.hysteresis) ? { hysteresis: n(v.hysteresis) } : {}),
    realServers: dests.map((d) => {
      const old = configured.get(`${d.address}/${d.port}`);
      // a quiesced server's live weight is 0 because it is down: keep the configured one
      return { destination: { ...d, weight: old && d.weight === 0 ? old.destination.weight : d.weight }, checks: [check] };
    }),
  };
}

export interface ScriptChoice {
  name: string;
  /** why the agent would refuse to run it */
  problem?: string;
}

export function CheckConfigForm({ service, destinations, current, onSave, disabledReason, scripts }: {
  service: ServiceKey;
  /** the agent's checks folder, when known (health.scripts) */
  scripts?: { dir: string; scripts: ScriptChoice[]; problem?: string; runsAs?: string } | null;
  destinations: readonly DestinationSpec[];
  current: HealthServiceConfig | null;
  onSave: (cfg: HealthServiceConfig) => Promise<void>;
  disabledReason?: string | null;
}) {
  const id = useId();
  const [v, setV] = useState<CheckFormValues>(() => valuesFrom(current));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [saving, setSaving] = useState(false);
  const [saved, setSaved] = useState<string | null>(null);
  const set = <K extends keyof CheckFormValues>(k: K) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value as CheckFormValues[K] });
  const err = (...paths: string[]) => paths.map((p) => errors[p]).find(Boolean);

  async function submit() {
    const r = healthServiceSchema.safeParse(toConfig(v, service, destinations, current));
    if (!r.success) {
      const e: Record<string, string> = {};
      for (const i of r.error.issues) {
        const p = i.path.join('.').replace(/^realServers\.\d+\.checks\.0\./, 'check.');
        e[p] ??= i.message;
      }
      setErrors(e);
      return;
    }
    setErrors({});
    setSaving(true);
    try {
      await onSave(r.data);
      setSaved('saved; checks restart with the new settings');
    } catch (e) {
      setSaved(null);
      setErrors({ '': (e as Error).message });
    } finally {
      setSaving(false);
    }
  }

  return (
    <form className="grid gap-3 sm:grid-cols-3" onSubmit={(e) => { e.preventDefault(); void submit(); }} aria-label="Health check settings">
      <Field id={`${id}-type`} label="Check" hint="No ping check: a ping proves only that the IP layer answers, not the service.">
        <select id={`${id}-type`} className={inputClass} value={v.type} onChange={set('type')}>
          <option value="http">HTTP GET</option>
          <option value="tcp">TCP connect</option>
          <option value="misc">Script (MISC_CHECK)</option>
        </select>
      </Field>
      {v.type === 'misc' ? (
        <Field
          id={`${id}-script`}
          label="Script"
          hint={`a file name in the agent's checks folder${scripts ? ` ${scripts.dir}` : ''}, run as ${scripts?.runsAs ?? 'an unprivileged user'} without capabilities, with the real server's address and port; exit 0 = up${scripts?.problem ? ` (folder: ${scripts.problem})` : ''}`}
          error={err('check.script', 'check.command')}
        >
          <input id={`${id}-script`} className={inputClass} list={`${id}-scripts`} value={v.script} onChange={set('script')} autoComplete="off" spellCheck={false} />
          <datalist id={`${id}-scripts`}>
            {(scripts?.scripts ?? []).filter((x) => !x.problem).map((x) => <option key={x.name} value={x.name} />)}
          </datalist>
        </Field>
      ) : null}
      {v.type === 'http' ? (
        <>
          <Field id={`${id}-path`} label="Path" error={err('check.urls.0.path')}>
            <input id={`${id}-path`} className={inputClass} value={v.path} onChange={set('path')} />
          </Field>
          <Field id={`${id}-status`} label="Expected status" hint="codes or ranges, e.g. 200 or 200-299 503" error={err('check.urls.0.statusCodes', 'check.urls.0.statusCodes.0')}>
            <input id={`${id}-status`} className={inputClass} value={v.statusCodes} onChange={set('statusCodes')} />
          </Field>
          <Field id={`${id}-host`} label="Host header" hint="empty: the real server's address" error={err('check.virtualhost')}>
            <input id={`${id}-host`} className={inputClass} value={v.virtualhost} onChange={set('virtualhost')} />
          </Field>
        </>
      ) : null}
      {v.type !== 'misc' ? (
        <Field id={`${id}-port`} label="Connect port" hint="empty: the real server's port" error={err('check.connectPort')}>
          <input id={`${id}-port`} className={inputClass} inputMode="numeric" value={v.connectPort} onChange={set('connectPort')} />
        </Field>
      ) : null}
      <Field id={`${id}-delay`} label="Delay loop (s)" error={err('timing.delayLoop')}>
        <input id={`${id}-delay`} className={inputClass} inputMode="decimal" value={v.delayLoop} onChange={set('delayLoop')} />
      </Field>
      <Field id={`${id}-timeout`} label="Connect timeout (s)" error={err('timing.connectTimeout')}>
        <input id={`${id}-timeout`} className={inputClass} inputMode="decimal" value={v.connectTimeout} onChange={set('connectTimeout')} />
      </Field>
      <Field id={`${id}-retry`} label="Retries" error={err('timing.retry')}>
        <input id={`${id}-retry`} className={inputClass} inputMode="numeric" value={v.retry} onChange={set('retry')} />
      </Field>
      <Field id={`${id}-dbr`} label="Delay before retry (s)" error={err('timing.delayBeforeRetry')}>
        <input id={`${id}-dbr`} className={inputClass} inputMode="decimal" value={v.delayBeforeRetry} onChange={set('delayBeforeRetry')} />
      </Field>
      <Field id={`${id}-fail`} label="On failure">
        <select id={`${id}-fail`} className={inputClass} value={v.onFailure} onChange={set('onFailure')}>
          <option value="quiesce">Quiesce (weight 0, connections continue)</option>
          <option value="remove">Remove the real server</option>
        </select>
      </Field>
      <Field id={`${id}-ramp`} label="Ramp-up on recovery (s)" hint="0: full weight at once" error={err('rampUpSec')}>
        <input id={`${id}-ramp`} className={inputClass} inputMode="decimal" value={v.rampUpSec} onChange={set('rampUpSec')} />
      </Field>
      <fieldset className="grid gap-3 rounded-md border border-line p-3 sm:col-span-3 sm:grid-cols-3">
        <legend className="px-1 text-xs font-medium text-ink-2">When checks fail everywhere</legend>
        <Field id={`${id}-min`} label="Keep at least … in service" hint="0: off. A failing server stays in when fewer others pass (a check failing on every server is more often wrong than every server)." error={err('minInService')}>
          <input id={`${id}-min`} className={inputClass} inputMode="numeric" value={v.minInService} onChange={set('minInService')} />
        </Field>
        <Field id={`${id}-hyst`} label="Hysteresis" hint="kept servers go out once this many more than the minimum pass again" error={err('hysteresis')}>
          <input id={`${id}-hyst`} className={inputClass} inputMode="numeric" value={v.hysteresis} onChange={set('hysteresis')} />
        </Field>
        <Field id={`${id}-sorry`} label="Sorry server" hint="address[:port], added while no real server is up; empty: none" error={err('sorryServer', 'sorryServer.address', 'sorryServer.port')}>
          <input id={`${id}-sorry`} className={`${inputClass} font-mono`} placeholder="192.168.150.250:80" value={v.sorryServer} onChange={set('sorryServer')} />
        </Field>
      </fieldset>
      <div className="flex items-center gap-3 sm:col-span-3">
        <Button type="submit" variant="primary" disabled={saving} disabledReason={disabledReason ?? null}>{saving ? 'Saving…' : 'Save checks'}</Button>
        {errors[''] ? <p role="alert" className="text-xs text-danger">{errors['']}</p> : saved ? <p role="status" className="text-xs text-ok">{saved}</p> : null}
      </div>
    </form>
  );
}
