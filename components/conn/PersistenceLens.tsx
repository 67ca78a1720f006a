'use client';
/**
 * The persistence lens: look up a client address or CIDR (and/or a service)
 * and see its persistence templates, the real server each sends the client
 * to, and how long each has left; per real server, when its templates expire.
 */
import { useQuery } from '@tanstack/react-query';
import { useState, type FormEvent } from 'react';
import { LENS_BINS, type LensDestination } from '@/lib/conn/lens';
import { serviceId } from '@/lib/ipvs/ids';
import { formatServiceKey } from '@/lib/ipvs/format';
import type { ServiceEntry } from '@/lib/ipvs/model';
import { clientFilterError } from './client-filter';
import { errorText } from '../data/hooks';
import { useTRPC } from '../data/trpc';
import { formatCount, formatDuration } from '../format';
import { Button } from '../ui/Button';
import { ErrorNote } from '../ui/ErrorNote';
import { Field, inputClass } from '../ui/Field';
import { Panel } from '../ui/Panel';

const BIN_LABELS = [...LENS_BINS.map((b) => `≤ ${formatDuration(b)}`), `> ${formatDuration(LENS_BINS.at(-1)!)}`];

export function PersistenceLens({ services }: { services: readonly ServiceEntry[] | undefined }) {
  const trpc = useTRPC();
  const [client, setClient] = useState('');
  const [service, setService] = useState('');
  const [asked, setAsked] = useState<{ client: string; service: string } | null>(null);
  const persistent = (services ?? []).filter((s) => s.flags.persistent);
  const clientError = clientFilterError(client) ?? undefined;
  const key = asked ? persistent.find((s) => serviceId(s.key) === asked.service)?.key : undefined;
  const lens = useQuery({
    ...trpc.connections.lens.queryOptions({ ...(asked?.client ? { client: asked.client } : {}), ...(key ? { service: key } : {}) }),
    enabled: asked !== null,
    refetchInterval: 5000,
    retry: false,
  });
  const submit = (e: FormEvent) => {
    e.preventDefault();
    if (!clientError) setAsked({ client, service });
  };
  const data = lens.data;
  const age = data ? Math.max(0, (Date.now() - (data.readAt ?? Date.now())) / 1000) : 0;

  return (
    <Panel title="Persistence lens">
      <form onSubmit={submit} className="flex flex-wrap items-end gap-3" aria-label="Persistence lens">
        <Field id="lens-client" label="Client address or CIDR" error={clientError} className="w-64">
          <input id="lens-client" className={inputClass} value={client} onChange={(e) => setClient(e.target.value)} placeholder="192.168.150.1 or 10.0.0.0/8" aria-invalid={clientError ? true : undefined} />
        </Field>
        <Field id="lens-service" label="Service" className="w-72">
          <select id="lens-service" className={inputClass} value={service} onChange={(e) => setService(e.target.value)}>
            <option value="">Every persistent service ({persistent.length})</option>
            {persistent.map((s) => <option key={serviceId(s.key)} value={serviceId(s.key)}>{formatServiceKey(s.key)} · {s.timeout} s</option>)}
          </select>
        </Field>
        <Button type="submit" disabledReason={clientError ? 'Fix the client address first.' : null}>Look up</Button>
      </form>
      {lens.error ? <div className="mt-3"><ErrorNote title="The lens could not be read">{errorText(lens.error)}</ErrorNote></div> : null}
      {data ? (
        <div className="mt-4 space-y-4">
          <p className="text-sm text-ink-2" data-testid="lens-total">
            {data.total === 0 ? 'No persistence template matches: new connections of this client are scheduled afresh.' : `${formatCount(data.total)} template${data.total === 1 ? '' : 's'}`}
            {data.total > data.entries.length ? ` (the ${data.entries.length} soonest to expire listed)` : ''}
          </p>
          {data.destinations.length ? (
            <div className="grid gap-3 md:grid-cols-2" aria-label="Template expiry per real server">
              {data.destinations.map((d) => <ExpiryHistogram key={d.destination} d={d} age={age} />)}
            </div>
          ) : null}
          {data.entries.length ? (
            <div className="max-h-80 overflow-auto">
              <table className="w-full text-sm" aria-label="Persistence templates">
                <thead className="text-left text-xs uppercase text-ink-3">
                  <tr><th className="px-2 py-1">Client</th><th className="px-2 py-1">Service</th><th className="px-2 py-1">Real server</th><th className="px-2 py-1 text-right">Time left</th></tr>
                </thead>
                <tbody>
                  {data.entries.map((e, i) => (
                    <tr key={i} className="border-t border-line">
                      <td className="px-2 py-1 font-mono">{e.clientAddr}</td>
                      <td className="px-2 py-1 font-mono">{e.vaddr === null ? `fwmark ${e.fwmark}` : `${e.protocol.toUpperCase()} ${e.vaddr}:${e.vport}`}</td>
                      <td className="px-2 py-1 font-mono">{e.destAddr}:{e.destPort}</td>
                      <td className="px-2 py-1 text-right tabular-nums">{formatDuration(Math.max(0, Math.round(e.expires - age)))}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          ) : null}
        </div>
      ) : null}
    </Panel>
  );
}

/** One real server: how many of its templates expire within each bin, and when the last one goes. */
function ExpiryHistogram({ d, age }: { d: LensDestination; age: number }) {
  const max = Math.max(1, ...d.counts);
  return (
    <figure className="rounded-md border border-line p-3" data-destination={d.destination} data-templates={d.templates}>
      <figcaption className="mb-2 flex justify-between text-sm">
        <span className="font-mono">{d.destination}</span>
        <span className="text-ink-2">{formatCount(d.templates)} · last goes in {formatDuration(Math.max(0, Math.round(d.lastExpires - age)))}</span>
      </figcaption>
      <div className="flex h-20 items-end gap-1" role="img" aria-label={`${d.destination}: templates by time left, ${d.counts.map((c, i) => `${BIN_LABELS[i]}: ${c}`).join(', ')}`}>
        {d.counts.map((c, i) => (
          <div key={i} className="flex flex-1 flex-col items-center justify-end" title={`${c} expiring ${BIN_LABELS[i]}`}>
            <div className="w-full rounded-t bg-accent/70" style={{ height: `${Math.round((c / max) * 64)}px`, minHeight: c ? 2 : 0 }} />
          </div>
        ))}
      </div>
      <div className="mt-1 flex gap-1 text-[10px] text-ink-3">
        {BIN_LABELS.map((l) => <span key={l} className="flex-1 text-center">{l.replace('≤ ', '')}</span>)}
      </div>
    </figure>
  );
}
