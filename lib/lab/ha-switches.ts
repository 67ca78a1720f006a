/**
 * The HA lab's fault switches as the lab page offers them: what each does,
 * whether it stays on (and so is remembered and repaired) or happens once,
 * and whether it is on now (from the lab's markers, never from the browser).
 */
import { HA_DIRECTORS, type HaFaultInput, type HaLabStatus, type HaStandingFault } from './ha-topology';

export interface HaSwitch {
  id: string;
  label: string;
  /** what happens, said before the operator confirms */
  effect: string;
  /** standing: stays on until repaired; once: the lab recovers by itself */
  kind: 'standing' | 'once';
  turnOn: HaFaultInput;
  /** the marker that says it is on (standing switches only) */
  standing: HaStandingFault | null;
  on: boolean;
}

export function haSwitches(ha: HaLabStatus): HaSwitch[] {
  const on = new Set(ha.faultsOn ?? []);
  const master = ha.vipHolders.length === 1 ? ha.vipHolders[0] : null;
  const rows: HaSwitch[] = [
    {
      id: 'kill-keepalived-master', label: 'Kill keepalived on the master', kind: 'once', turnOn: { fault: 'kill-keepalived-master' }, standing: null, on: false,
      effect: `SIGKILL keepalived where the VIP is${master ? ` (${master} now)` : ''}: the backup takes the VIP; the agent restarts keepalived, which comes back as backup (no preempt).`,
    },
    ...HA_DIRECTORS.map((d): HaSwitch => ({
      id: `stop-director-${d.name}`, label: `Stop ${d.name}`, kind: 'standing', turnOn: { fault: 'stop-director', director: d.name },
      standing: `stopped-${d.name}`, on: on.has(`stopped-${d.name}`),
      effect: `Stop ${d.name}'s agent (it stops keepalived and gives up its lease) and keep it stopped until repaired. This director's own lab page stops answering while it is stopped: use the other director's.`,
    })),
    ...HA_DIRECTORS.map((d): HaSwitch => ({
      id: `kill-director-${d.name}`, label: `Kill ${d.name}`, kind: 'once', turnOn: { fault: 'kill-director', director: d.name }, standing: null, on: false,
      effect: `SIGKILL ${d.name}'s agent and keepalived at once, as a crash would; its restart loop starts the agent again after 1 s.`,
    })),
    {
      id: 'cut-heartbeat', label: 'Cut the heartbeat path', kind: 'standing', turnOn: { fault: 'cut-heartbeat' }, standing: 'cut-heartbeat', on: on.has('cut-heartbeat'),
      effect: 'Detach lvs2 from the heartbeat bridge: VRRP adverts are lost both ways. The backup turns master in VRRP; the ZooKeeper lease fences it, so the VIP stays on one director.',
    },
    {
      id: 'stop-zookeeper', label: 'Stop ZooKeeper', kind: 'standing', turnOn: { fault: 'stop-zookeeper' }, standing: 'stop-zookeeper', on: on.has('stop-zookeeper'),
      effect: 'SIGKILL ZooKeeper: both sessions are lost; the master keeps serving (fail static) and table changes stop replicating.',
    },
  ];
  // the baseline (plain keepalived, for the split-brain test) is no switch of the page, but when on it is shown to be repaired
  if (on.has('baseline')) {
    rows.push({
      id: 'baseline', label: 'Baseline: plain keepalived without Director', kind: 'standing', turnOn: { fault: 'baseline', on: true }, standing: 'baseline', on: true,
      effect: 'Both agents run without HA; keepalived runs alone.',
    });
  }
  return rows;
}
