'use client';
import { useState } from 'react';
import { labMode, realServerChecks, realServerHealthy } from '@/lib/lab/checks';
import type { HaFaultInput, HaStandingFault } from '@/lib/lab/ha-topology';
import type { LabStatus } from '@/lib/lab/topology';
import { DIRECTOR_FAULTS, FAULTS, MAX_RATE } from '@/lib/lab/topology';
import { formatCount } from '../format';
import { HaFaultSwitches } from '../lab/HaFaultSwitches';
import { HaTopology } from '../lab/HaTopology';
import { LabCheckList } from '../lab/LabCheckList';
import { Badge } from '../ui/Badge';
import { Button } from '../ui/Button';
import { inputClass } from '../ui/Field';
import { Panel } from '../ui/Panel';

const FAULT_HELP: Record<(typeof FAULTS)[number], string> = {
  'stop-httpd': 'stop its web server: the kernel answers SYNs with RST',
  'remove-vip': 'DR/TUN: take the VIP off its loopback, so it drops what the director sends (SYN_RECV piles up)',
  'break-arp': 'DR: undo arp_ignore/arp_announce, so it may answer ARP for the VIP',
  'remove-nat-route': 'NAT: drop its route back through the director, so replies bypass it',
  'strict-rp-filter': 'TUN: strict rp_filter on all, eth0 and tunl0, so it drops what arrives through the tunnel',
};
/** Each director fault provokes one check of the director's Doctor page. */
const DIRECTOR_FAULT_HELP: Record<(typeof DIRECTOR_FAULTS)[number], string> = {
  'ip-forward-off': 'NAT: net.ipv4.ip_forward=0 on the director, so NAT replies are not routed back',
  'strict-rp-filter': 'TUN: rp_filter 1 on the director (all and br0)',
  'remove-vip': 'take the VIP off the director\'s br0',
  'unload-ipip': 'TUN: unload the ipip module (tunl0 goes away everywhere in the lab kernel)',
  'conn-reuse-off': 'net.ipv4.vs.conn_reuse_mode=0: reused client ports skip scheduling',
  'persistent-dr': 'make the DR service persistent (300 s) with the default expire_* sysctls',
  'mh-dr': 'schedule the DR service with mh, without mh-port, and no connection sync',
  'defense-always': 'net.ipv4.vs.drop_packet=3: drop packets at random, always',
  'defense-active': 'amemthresh above all memory, drop_entry=1: the kernel turns the defense on',
  'conntrack-full': 'net.ipv4.vs.conntrack=1 with nf_conntrack_max=8',
  'conntrack-reuse': 'net.ipv4.vs.conntrack=1 and a tc ct action on br0: a reused client port waits 1 s',
};

function Box({ title, lines, tone }: { title: string; lines: string[]; tone?: 'ok' | 'danger' | 'neutral' }) {
  const border = tone === 'danger' ? 'border-danger/60' : tone === 'ok' ? 'border-ok/50' : 'border-line';
  return (
    <div className={`rounded-md border-2 ${border} bg-surface px-3 py-2 text-center`}>
      <p className="text-sm font-semibold">{title}</p>
      {lines.map((l) => <p key={l} className="font-mono text-[11px] text-ink-2">{l}</p>)}
    </div>
  );
}

/** The seed's lab: who is where, which path each method takes, and what is healthy now. */
export function LabView({ status, onRate, onFault, onHaFault, onHaRepair, disabledReason }: {
  status: LabStatus;
  onRate: (rate: number) => Promise<void>;
  onFault: (server: string, fault: string, on: boolean) => Promise<void>;
  /** HA mode's switches (absent: the page offers none) */
  onHaFault?: (input: HaFaultInput) => Promise<void>;
  onHaRepair?: (fault: HaStandingFault | undefined) => Promise<void>;
  disabledReason: string | null;
}) {
  const t = status.topology;
  const mode = labMode(status);
  const ha = mode === 'ha' ? status.ha ?? null : null;
  const healthy = (rs: LabStatus['realServers'][number]) => realServerHealthy(rs, mode);
  // what the lab remembers as broken (its markers), so a reload still offers the right repairs
  const faultsOn = [
    ...status.realServers.flatMap((rs) => rs.faults.map((f) => ({ server: rs.name, fault: f }))),
    ...(status.director?.faults ?? []).map((f) => ({ server: 'director', fault: f })),
  ];
  const [rate, setRate] = useState(String(status.traffic?.rate ?? ''));
  const [server, setServer] = useState<string>(t.realServers[1]?.name ?? 'rs2');
  const [fault, setFault] = useState<string>('remove-vip');
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string | null>(null);
  const act = async (f: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try { await f(); } catch (e) { setError(e instanceof Error ? e.message : String(e)); } finally { setBusy(false); }
  };
  const selectedOn = faultsOn.some((f) => f.server === server && f.fault === fault);
  const services = Object.entries(status.traffic?.services ?? {});

  return (
    <div className="space-y-4">
      <div>
        <h1 className="text-lg font-semibold">Lab</h1>
        <p className="text-sm text-ink-3">{ha
          ? <>A throwaway kernel with real IPVS: two directors (keepalived, a ZooKeeper lease, connection sync), two real servers and a client on {t.lan}. Nothing here leaves the lab.</>
          : <>A throwaway kernel with real IPVS: the seed&apos;s director, two real servers and a client on {t.lan}. Nothing here leaves the lab.</>}</p>
      </div>

      {ha ? <HaTopology status={status} ha={ha} /> : mode === 'ha' ? <Panel title="Topology (HA)"><p className="text-sm text-ink-3">The HA facts are not in yet.</p></Panel> : null}

      {mode === 'single' ? <Panel title="Topology">
        <div className="grid grid-cols-[1fr_auto_1fr_auto_1.3fr] items-center gap-3">
          <Box title="client" lines={[`CIP ${t.client.address}`]} />
          <span aria-hidden className="text-ink-3">→</span>
          <Box title="director" lines={[`VIP ${t.vip}`, `DIP ${t.dip}`, status.director ? `VIP on br0: ${status.director.vipOnBr0 ? 'yes' : 'no'} · ip_forward ${status.director.ipForward}` : 'facts pending',
            ...(status.director?.faults?.length ? [`fault: ${status.director.faults.join(', ')}`] : [])]} tone={status.director?.faults?.length ? 'danger' : undefined} />
          <span aria-hidden className="text-ink-3">→</span>
          <div className="space-y-2">
            {status.realServers.map((rs) => (
              <Box key={rs.name} title={rs.name} lines={[`RIP ${rs.address}`, rs.faults.length ? `fault: ${rs.faults.join(', ')}` : 'no faults']} tone={healthy(rs) ? 'ok' : 'danger'} />
            ))}
          </div>
        </div>
        <dl className="mt-4 grid gap-2 text-xs md:grid-cols-3">
          {Object.entries(t.paths).map(([method, p]) => (
            <div key={method} className="rounded-md border border-line p-2">
              <dt className="font-semibold">{method} <span className="font-normal text-ink-3">(port {method === 'DR' ? t.ports.dr : method === 'NAT' ? t.ports.nat : t.ports.tun})</span></dt>
              <dd className="text-ink-2">request: {p.request.join(' → ')}</dd>
              <dd className="text-ink-2">reply: {p.reply.join(' → ')}</dd>
            </div>
          ))}
        </dl>
      </Panel> : null}

      <div className="grid gap-4 lg:grid-cols-2">
        {status.realServers.map((rs) => (
          <Panel key={rs.name} title={<span>{rs.name} <span className="font-mono font-normal text-ink-3">{rs.address}</span></span>}
            actions={<Badge tone={healthy(rs) ? 'ok' : 'danger'}>{healthy(rs) ? 'healthy' : 'broken'}</Badge>}>
            <LabCheckList checks={realServerChecks(rs, mode)} label={`${rs.name} health`} />
          </Panel>
        ))}
      </div>

      <Panel title="Traffic generator">
        {services.length === 0 ? <p className="text-sm text-ink-3">No report from the generator yet.</p> : (
          <table className="w-full text-sm" aria-label="Traffic per service">
            <thead><tr className="text-left text-[11px] uppercase tracking-wide text-ink-3"><th className="py-1">Service</th><th>Method</th><th className="text-right">Sent</th><th className="text-right">OK</th><th className="text-right">Failed</th><th className="pl-4">Answered by</th><th>Last error</th></tr></thead>
            <tbody>
              {services.map(([name, s]) => (
                <tr key={name} className="border-t border-line/70">
                  <td className="py-1 font-mono text-xs">{s.address}:{s.port}</td>
                  <td className="text-xs">{s.method}</td>
                  <td className="num text-right">{formatCount(s.sent)}</td>
                  <td className="num text-right text-ok">{formatCount(s.ok)}</td>
                  <td className={`num text-right ${s.failed ? 'text-danger' : 'text-ink-3'}`}>{formatCount(s.failed)}</td>
                  <td className="pl-4 font-mono text-xs text-ink-2">{Object.entries(s.byServer).map(([a, n]) => `${a}: ${formatCount(n)}`).join(' · ')}</td>
                  <td className="max-w-64 truncate text-xs text-ink-3" title={s.lastError ?? ''}>{s.lastError ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        )}
        <form className="mt-3 flex items-end gap-2" onSubmit={(e) => { e.preventDefault(); void act(() => onRate(Number(rate))); }}>
          <label className="text-xs font-medium text-ink-2">Requests per second per service
            <input aria-label="Requests per second per service" inputMode="numeric" value={rate} onChange={(e) => setRate(e.target.value)} className={`${inputClass} mt-1 w-32`} />
          </label>
          <Button type="submit" size="md" disabled={busy || !(Number(rate) >= 0 && Number(rate) <= MAX_RATE)} disabledReason={disabledReason}>Set rate</Button>
          <span className="pb-2 text-xs text-ink-3">0 stops the load; at most {MAX_RATE}.</span>
        </form>
      </Panel>

      <Panel title="Fault switch">
        <div className="flex flex-wrap items-end gap-2">
          <label className="text-xs font-medium text-ink-2">Real server
            <select aria-label="Real server" value={server} onChange={(e) => {
              setServer(e.target.value);
              const list: readonly string[] = e.target.value === 'director' ? DIRECTOR_FAULTS : FAULTS;
              if (!list.includes(fault)) setFault(list[0]!);
            }} className={`${inputClass} mt-1 w-28`}>
              {status.realServers.map((r) => <option key={r.name} value={r.name}>{r.name}</option>)}
              {/* the director faults act on the single lab's director (its br0); the HA pair has its own switches */}
              {mode === 'single' ? <option value="director">director</option> : null}
            </select>
          </label>
          <label className="text-xs font-medium text-ink-2">Fault
            <select aria-label="Fault" value={fault} onChange={(e) => setFault(e.target.value)} className={`${inputClass} mt-1 w-48`}>
              {(server === 'director' ? DIRECTOR_FAULTS : FAULTS).map((f) => <option key={f} value={f}>{f}</option>)}
            </select>
          </label>
          <Button variant="danger" disabled={busy} disabledReason={disabledReason} onClick={() => void act(() => onFault(server, fault, true))}>Break</Button>
          <Button disabled={busy} disabledReason={disabledReason ?? (selectedOn ? null : `${server} ${fault} is not on`)} onClick={() => void act(() => onFault(server, fault, false))}>Repair</Button>
        </div>
        <p className="mt-2 text-xs text-ink-3">{server === 'director'
          ? `${DIRECTOR_FAULT_HELP[fault as keyof typeof DIRECTOR_FAULT_HELP]}. Watch the Doctor page.`
          : `${FAULT_HELP[fault as keyof typeof FAULT_HELP]}. Watch the Connections and Doctor pages.`}</p>
        <div className="mt-3">
          <p className="text-xs font-medium text-ink-2">Faults on now{faultsOn.length ? '' : ': none'}</p>
          {faultsOn.length ? (
            <ul className="mt-1 flex flex-wrap gap-2">
              {faultsOn.map((f) => (
                <li key={`${f.server}.${f.fault}`} data-fault-on={`${f.server}.${f.fault}`} className="flex items-center gap-2 rounded-md border border-danger/40 px-2 py-1 text-xs">
                  <span className="font-mono">{f.server} {f.fault}</span>
                  <Button size="sm" disabled={busy} disabledReason={disabledReason} onClick={() => void act(() => onFault(f.server, f.fault, false))}>Repair</Button>
                </li>
              ))}
            </ul>
          ) : null}
        </div>
        {disabledReason ? <p className="mt-1 text-xs text-ink-3">{disabledReason}</p> : null}
        {error ? <p role="alert" className="mt-2 text-sm text-danger">{error}</p> : null}
      </Panel>
      {ha && onHaFault && onHaRepair ? <HaFaultSwitches ha={ha} onFault={onHaFault} onRepair={onHaRepair} disabledReason={disabledReason} /> : null}
      <p className="text-xs text-ink-3">{status.factsAt ? `Namespace facts read ${new Date(status.factsAt).toLocaleTimeString()}` : 'Reading the namespaces…'}{status.factsError ? ` · ${status.factsError}` : ''}</p>
    </div>
  );
}
