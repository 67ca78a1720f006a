import { haDirectorChecks, haDirectorHealthy, haPairChecks, haRoleLabel, realServerHealthy } from '@/lib/lab/checks';
import { HA_DIRECTORS, HA_LAB, type HaLabDirector, type HaLabStatus } from '@/lib/lab/ha-topology';
import type { LabStatus } from '@/lib/lab/topology';
import { Badge } from '../ui/Badge';
import { Panel } from '../ui/Panel';
import { LabCheckList } from './LabCheckList';

function roleTone(d: HaLabDirector): 'ok' | 'accent' | 'danger' | 'neutral' {
  const r = haRoleLabel(d);
  if (r === 'MASTER') return 'ok';
  if (r === 'BACKUP') return 'accent';
  if (r === 'stopped' || r.startsWith('FAULT')) return 'danger';
  return 'neutral';
}

function DirectorBox({ d, ha }: { d: HaLabDirector; ha: HaLabStatus }) {
  const cfg = HA_DIRECTORS.find((x) => x.name === d.name);
  const role = haRoleLabel(d);
  const ok = haDirectorHealthy(d, ha);
  return (
    <div data-director={d.name} data-role={role} data-vip={d.holdsVip ? 'yes' : 'no'}
      className={`rounded-md border-2 ${ok ? 'border-ok/50' : 'border-danger/60'} bg-surface px-3 py-2 text-center`}>
      <p className="text-sm font-semibold">{d.name} <Badge tone={roleTone(d)}>{role}</Badge></p>
      <p className="font-mono text-[11px] text-ink-2">LAN {d.lanAddress} · hb {cfg?.heartbeatAddress ?? '?'}</p>
      <p className={`font-mono text-[11px] ${d.holdsVip ? 'font-semibold text-ok' : 'text-ink-3'}`}>
        {d.holdsVip ? `VIP ${HA_LAB.vip} · gw ${HA_LAB.gateway}` : 'no VIP'}
      </p>
      <p className="font-mono text-[11px] text-ink-3">
        {d.held ? 'stopped (held)' : d.agentPid ? `agent ${d.agentPid}` : 'no agent'} · {d.keepalivedPids.length ? `keepalived ${d.keepalivedPids.join(',')}` : 'no keepalived'}
      </p>
      {d.role?.error ? <p className="text-[11px] text-danger">{d.role.error}</p> : null}
    </div>
  );
}

/**
 * The HA lab as it is: the client, the two directors with their roles (from
 * their agents) and the VIP where the kernel has it, the heartbeat path
 * between them, ZooKeeper, and the real servers.
 */
export function HaTopology({ status, ha }: { status: LabStatus; ha: HaLabStatus }) {
  const t = status.topology;
  const [a, b] = [ha.directors[0], ha.directors[1]];
  const lease = ha.directors.map((d) => d.role?.leaseHolder).find((x) => x) ?? null;
  return (
    <>
      <Panel title="Topology (HA: two directors)">
        <div className="grid grid-cols-[1fr_auto_1.6fr_auto_1.3fr] items-center gap-3" aria-label="HA lab topology">
          <div className="rounded-md border-2 border-line bg-surface px-3 py-2 text-center">
            <p className="text-sm font-semibold">client</p>
            <p className="font-mono text-[11px] text-ink-2">CIP {t.client.address}</p>
            <p className="font-mono text-[11px] text-ink-3">to VIP {HA_LAB.vip}</p>
          </div>
          <span aria-hidden className="text-ink-3">→</span>
          <div className="space-y-1">
            {a ? <DirectorBox d={a} ha={ha} /> : null}
            <div data-link="heartbeat" data-state={ha.heartbeatCut ? 'cut' : 'connected'}
              className={`mx-auto flex w-fit items-center gap-2 border-l-4 px-2 py-1 text-[11px] ${ha.heartbeatCut ? 'border-dashed border-danger text-danger' : 'border-ok text-ink-2'}`}>
              heartbeat {HA_LAB.heartbeatInterface} (VRRP unicast, sync daemon): {ha.heartbeatCut ? 'CUT' : 'connected'}
            </div>
            {b ? <DirectorBox d={b} ha={ha} /> : null}
            <div data-node="zookeeper" data-state={ha.zookeeper.running ? 'running' : 'stopped'}
              className={`mt-2 rounded-md border-2 ${ha.zookeeper.running ? 'border-line' : 'border-danger/60'} bg-surface px-3 py-1 text-center`}>
              <p className="text-xs font-semibold">ZooKeeper <Badge tone={ha.zookeeper.running ? 'ok' : 'danger'}>{ha.zookeeper.running ? 'running' : 'stopped'}</Badge></p>
              <p className="font-mono text-[11px] text-ink-2">{ha.zookeeper.address} · lease: {lease ?? 'nobody'}</p>
            </div>
          </div>
          <span aria-hidden className="text-ink-3">→</span>
          <div className="space-y-2">
            {status.realServers.map((rs) => (
              <div key={rs.name} className={`rounded-md border-2 ${realServerHealthy(rs, 'ha') ? 'border-ok/50' : 'border-danger/60'} bg-surface px-3 py-2 text-center`}>
                <p className="text-sm font-semibold">{rs.name}</p>
                <p className="font-mono text-[11px] text-ink-2">RIP {rs.address}</p>
                <p className="font-mono text-[11px] text-ink-3">{rs.faults.length ? `fault: ${rs.faults.join(', ')}` : 'no faults'}</p>
              </div>
            ))}
          </div>
        </div>
        <p className="mt-3 text-xs text-ink-3">
          DR on port {t.ports.dr} and NAT on {t.ports.nat} (replies through the floating gateway {HA_LAB.gateway}); no TUN service in the HA lab.
          {ha.splitBrain ? <span className="ml-1 font-semibold text-danger">Split brain: the VIP is on {ha.vipHolders.join(' and ')}.</span> : null}
        </p>
      </Panel>
      <div className="grid gap-4 lg:grid-cols-3">
        {ha.directors.map((d) => (
          <Panel key={d.name} title={<span>{d.name} <span className="font-mono font-normal text-ink-3">{d.lanAddress}</span></span>}
            actions={<Badge tone={haDirectorHealthy(d, ha) ? 'ok' : 'danger'}>{haDirectorHealthy(d, ha) ? 'healthy' : 'broken'}</Badge>}>
            <LabCheckList checks={haDirectorChecks(d, ha)} label={`${d.name} health`} />
          </Panel>
        ))}
        <Panel title="The pair">
          <LabCheckList checks={haPairChecks(ha)} label="HA pair health" />
        </Panel>
      </div>
    </>
  );
}
