'use client';
import { useEffect, useState } from 'react';
import type { SyncDaemon, SyncDaemonConfig, SyncState, Timeouts } from '@/lib/ipvs/model';
import { syncStartInput, timeoutsSetInput } from '@/lib/schemas/api';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { ConfirmDialog } from '../ui/ConfirmDialog';
import { ErrorNote } from '../ui/ErrorNote';
import { Field, inputClass } from '../ui/Field';
import { Panel } from '../ui/Panel';
import { Skeleton } from '../ui/Skeleton';
import { TypedConfirmDialog } from '../ui/TypedConfirmDialog';

export interface SettingsViewProps {
  directorName: string;
  serviceCount: number | undefined;
  timeouts: Timeouts | undefined;
  timeoutsError: string | null;
  daemons: readonly SyncDaemon[] | undefined;
  daemonsError: string | null;
  disabledReason: string | null;
  onSetTimeouts: (t: Partial<Timeouts>) => Promise<unknown>;
  onZeroAll: () => Promise<unknown>;
  onStartDaemon: (cfg: SyncDaemonConfig) => Promise<unknown>;
  onStopDaemon: (state: SyncState) => Promise<unknown>;
  onClear: () => Promise<unknown>;
}

type Issues = Record<string, string>;

function issuesOf(e: { issues: readonly { path: readonly PropertyKey[]; message: string }[] }): Issues {
  const out: Issues = {};
  for (const i of e.issues) out[String(i.path[0] ?? '')] ??= i.message;
  return out;
}

/** '' stays undefined (the field is left out); anything else must read as a whole number. */
const num = (s: string): number | undefined => (s.trim() === '' ? undefined : /^\d+$/.test(s.trim()) ? Number(s.trim()) : NaN);

function TimeoutsPanel({ timeouts, error, disabledReason, onSet }: {
  timeouts: Timeouts | undefined; error: string | null; disabledReason: string | null; onSet: SettingsViewProps['onSetTimeouts'];
}) {
  const [v, setV] = useState({ tcp: '', tcpFin: '', udp: '' });
  const [issues, setIssues] = useState<Issues>({});
  const [note, setNote] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  // the form shows the kernel's current values until the operator edits them
  useEffect(() => {
    if (timeouts) setV({ tcp: String(timeouts.tcp), tcpFin: String(timeouts.tcpFin), udp: String(timeouts.udp) });
  }, [timeouts]);
  const fields = [
    ['tcp', 'TCP established', 'ipvsadm --set, first value; kernel default 900 s'],
    ['tcpFin', 'TCP after FIN', 'second value; default 120 s'],
    ['udp', 'UDP', 'third value; default 300 s'],
  ] as const;
  return (
    <Panel title="Connection timeouts (seconds)">
      {error ? <ErrorNote title="Could not read the timeouts">{error}</ErrorNote> : !timeouts ? <Skeleton className="h-16 w-full" /> : (
        <form
          noValidate
          className="space-y-3"
          onSubmit={async (e) => {
            e.preventDefault();
            setNote(null);
            const input = { tcp: num(v.tcp), tcpFin: num(v.tcpFin), udp: num(v.udp) };
            const r = timeoutsSetInput.safeParse(Object.fromEntries(Object.entries(input).filter(([, x]) => x !== undefined)));
            if (!r.success) { setIssues(issuesOf(r.error)); return; }
            setIssues({});
            setBusy(true);
            try {
              await onSet(r.data);
              setNote('Saved. Undo on the Snapshots page puts the old values back.');
            } catch (err) {
              setNote(null);
              setIssues({ '': err instanceof Error ? err.message : String(err) });
            } finally {
              setBusy(false);
            }
          }}
        >
          <p className="text-sm text-ink-3">
            Current: <span className="num font-mono text-ink">{timeouts.tcp} / {timeouts.tcpFin} / {timeouts.udp}</span> (tcp / tcpfin / udp).
            New values apply to new connections and state changes; 0 keeps a value.
          </p>
          <div className="grid gap-3 sm:grid-cols-3">
            {fields.map(([k, label, hint]) => (
              <Field key={k} id={`timeout-${k}`} label={label} hint={hint} error={issues[k]}>
                <input
                  id={`timeout-${k}`}
                  className={inputClass}
                  inputMode="numeric"
                  value={v[k]}
                  aria-invalid={issues[k] ? true : undefined}
                  onChange={(e) => setV({ ...v, [k]: e.target.value })}
                />
              </Field>
            ))}
          </div>
          {issues[''] ? <p role="alert" className="text-sm text-danger">{issues['']}</p> : null}
          {note ? <p role="status" className="text-sm text-ok">{note}</p> : null}
          <Button type="submit" variant="primary" disabled={busy} disabledReason={disabledReason}>{busy ? 'Saving…' : 'Set timeouts'}</Button>
        </form>
      )}
    </Panel>
  );
}

function DaemonLine({ d }: { d: SyncDaemon }) {
  return (
    <span className="font-mono text-xs">
      {d.state} sync daemon (mcast={d.interface}, syncid={d.syncId}{d.maxLen ? `, maxlen=${d.maxLen}` : ''}
      {d.group ? `, group=${d.group}` : ''}{d.port ? `, port=${d.port}` : ''}{d.ttl ? `, ttl=${d.ttl}` : ''})
    </span>
  );
}

function SyncPanel({ daemons, error, disabledReason, onStart, onStop }: {
  daemons: readonly SyncDaemon[] | undefined; error: string | null; disabledReason: string | null;
  onStart: SettingsViewProps['onStartDaemon']; onStop: SettingsViewProps['onStopDaemon'];
}) {
  const [v, setV] = useState({ state: 'master' as SyncState, interface: '', syncId: '0', maxLen: '', group: '', port: '', ttl: '' });
  const [issues, setIssues] = useState<Issues>({});
  const [busy, setBusy] = useState(false);
  const [stopping, setStopping] = useState<SyncState | null>(null);
  const running = new Set(daemons?.map((d) => d.state));
  const set = (k: keyof typeof v) => (e: { target: { value: string } }) => setV({ ...v, [k]: e.target.value });
  return (
    <Panel title="Connection sync daemon">
      {error ? <ErrorNote title="Could not read the sync daemons">{error}</ErrorNote> : !daemons ? <Skeleton className="h-16 w-full" /> : (
        <div className="space-y-4">
          <ul aria-label="Running sync daemons" className="space-y-2">
            {daemons.length === 0 ? <li className="text-sm text-ink-3">No sync daemon runs (ipvsadm -L --daemon prints nothing).</li> : daemons.map((d) => (
              <li key={d.state} className="flex flex-wrap items-center gap-3">
                <Badge tone="ok">{d.state}</Badge>
                <DaemonLine d={d} />
                <Button size="sm" variant="danger" disabledReason={disabledReason} onClick={() => setStopping(d.state)}>Stop {d.state}</Button>
              </li>
            ))}
          </ul>
          <form
            noValidate
            aria-label="Start a sync daemon"
            className="space-y-3 border-t border-line pt-3"
            onSubmit={async (e) => {
              e.preventDefault();
              const raw = {
                state: v.state, interface: v.interface.trim(), syncId: num(v.syncId) ?? 0,
                ...(num(v.maxLen) !== undefined ? { maxLen: num(v.maxLen) } : {}),
                ...(v.group.trim() ? { group: v.group.trim() } : {}),
                ...(num(v.port) !== undefined ? { port: num(v.port) } : {}),
                ...(num(v.ttl) !== undefined ? { ttl: num(v.ttl) } : {}),
              };
              const r = syncStartInput.safeParse(raw);
              if (!r.success) { setIssues(issuesOf(r.error)); return; }
              setIssues({});
              setBusy(true);
              try {
                await onStart(r.data);
              } catch (err) {
                setIssues({ '': err instanceof Error ? err.message : String(err) });
              } finally {
                setBusy(false);
              }
            }}
          >
            <div className="grid gap-3 sm:grid-cols-4">
              <Field id="sync-state" label="Role">
                <select id="sync-state" className={inputClass} value={v.state} onChange={set('state')}>
                  <option value="master" disabled={running.has('master')}>master</option>
                  <option value="backup" disabled={running.has('backup')}>backup</option>
                </select>
              </Field>
              <Field id="sync-interface" label="Multicast interface" hint="--mcast-interface, e.g. eth1" error={issues.interface}>
                <input id="sync-interface" className={inputClass} value={v.interface} onChange={set('interface')} aria-invalid={issues.interface ? true : undefined} />
              </Field>
              <Field id="sync-id" label="Sync ID" hint="--syncid 0-255" error={issues.syncId}>
                <input id="sync-id" className={inputClass} inputMode="numeric" value={v.syncId} onChange={set('syncId')} aria-invalid={issues.syncId ? true : undefined} />
              </Field>
              <Field id="sync-group" label="Group (optional)" hint="default 224.0.0.81" error={issues.group}>
                <input id="sync-group" className={inputClass} value={v.group} onChange={set('group')} aria-invalid={issues.group ? true : undefined} />
              </Field>
              <Field id="sync-port" label="Port (optional)" hint="default 8848" error={issues.port}>
                <input id="sync-port" className={inputClass} inputMode="numeric" value={v.port} onChange={set('port')} />
              </Field>
              <Field id="sync-ttl" label="TTL (optional)" hint="default 1" error={issues.ttl}>
                <input id="sync-ttl" className={inputClass} inputMode="numeric" value={v.ttl} onChange={set('ttl')} />
              </Field>
              <Field id="sync-maxlen" label="Max. length (optional)" hint="from the MTU" error={issues.maxLen}>
                <input id="sync-maxlen" className={inputClass} inputMode="numeric" value={v.maxLen} onChange={set('maxLen')} />
              </Field>
            </div>
            {issues[''] ? <p role="alert" className="text-sm text-danger">{issues['']}</p> : null}
            <Button type="submit" variant="primary" disabled={busy || running.has(v.state)} disabledReason={disabledReason}>
              {running.has(v.state) ? `A ${v.state} daemon runs` : busy ? 'Starting…' : `Start ${v.state} daemon`}
            </Button>
          </form>
        </div>
      )}
      <ConfirmDialog
        open={stopping !== null}
        title={`Stop the ${stopping ?? ''} sync daemon?`}
        confirmLabel="Stop daemon"
        onCancel={() => setStopping(null)}
        onConfirm={async () => { await onStop(stopping!); setStopping(null); }}
      >
        {stopping === 'master'
          ? 'The backup director stops receiving connection state; after a failover, established connections through it break.'
          : 'This director stops taking connection state from the master.'}
        {' '}Undo on the Snapshots page starts it again with the same settings.
      </ConfirmDialog>
    </Panel>
  );
}

export function SettingsView(p: SettingsViewProps) {
  const [zeroing, setZeroing] = useState(false);
  const [clearing, setClearing] = useState(false);
  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-lg font-semibold">Director settings</h1>
        <p className="text-sm text-ink-3">{p.directorName} · what ipvsadm -Z, --set, --start-daemon and -C change</p>
      </div>
      <TimeoutsPanel timeouts={p.timeouts} error={p.timeoutsError} disabledReason={p.disabledReason} onSet={p.onSetTimeouts} />
      <SyncPanel daemons={p.daemons} error={p.daemonsError} disabledReason={p.disabledReason} onStart={p.onStartDaemon} onStop={p.onStopDaemon} />
      <Panel title="Counters">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-ink-2">Zero the connection, packet and byte counters of every service and real server (ipvsadm -Z). One service&apos;s counters can be zeroed on its page.</p>
          <Button disabledReason={p.disabledReason} onClick={() => setZeroing(true)}>Zero all counters</Button>
        </div>
      </Panel>
      <Panel title="Clear the table" className="border-danger/40">
        <div className="flex flex-wrap items-center justify-between gap-3">
          <p className="text-sm text-ink-2">
            Remove every virtual service and its real servers (ipvsadm -C). Connections already set up stay until they expire;
            new ones are no longer balanced. Undo on the Snapshots page puts the table back.
          </p>
          <Button variant="danger" disabledReason={p.disabledReason} onClick={() => setClearing(true)}>Clear table…</Button>
        </div>
      </Panel>
      <ConfirmDialog
        open={zeroing}
        title="Zero all counters?"
        confirmLabel="Zero counters"
        onCancel={() => setZeroing(false)}
        onConfirm={async () => { await p.onZeroAll(); setZeroing(false); }}
      >
        Every service&apos;s and real server&apos;s totals start again from 0. This cannot be undone: the old totals are gone
        (Prometheus keeps what it scraped; its counters see a reset).
      </ConfirmDialog>
      <TypedConfirmDialog
        open={clearing}
        title={`Clear the whole table of ${p.directorName}?`}
        accept={[p.directorName, 'clear']}
        confirmLabel="Clear the table"
        onCancel={() => setClearing(false)}
        onConfirm={async () => { await p.onClear(); setClearing(false); }}
      >
        <p>
          This removes all {p.serviceCount ?? '?'} virtual service{p.serviceCount === 1 ? '' : 's'} and their real servers from{' '}
          <strong className="text-ink">{p.directorName}</strong> at once: traffic to the VIPs stops being balanced.
        </p>
      </TypedConfirmDialog>
    </div>
  );
}
