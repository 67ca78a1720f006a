'use client';
import { HA_DIRECTORS, type HaDirectorRole, type HaLabDirector, type HaLabStatus } from '@/lib/lab/ha-topology';
import { LAB_TOPOLOGY } from '@/lib/lab/topology';
import { LabView } from '@/components/views/LabView';

const rs = (name: string, address: string) => ({
  name, address, httpd: { up: true, detail: `HTTP 200 from ${address}`, pid: 100 }, vipOnLo: true,
  arp: { allIgnore: 1, allAnnounce: 2, eth0Ignore: 1, eth0Announce: 2 }, arpOk: true, natRoute: true, tunl0Up: false, faults: [] as string[],
});
const role = (state: string, fenced = false, heartbeatOk = true): HaDirectorRole => ({ state, fenced, leaseHolder: 'lvs1', zookeeper: 'connected', heartbeatOk, error: null });
const director = (i: 0 | 1, holdsVip: boolean, r: HaDirectorRole): HaLabDirector => ({
  name: HA_DIRECTORS[i].name, lanAddress: HA_DIRECTORS[i].lanAddress, running: true, agentPid: 300 + i, held: false, haDisabled: false,
  keepalivedPids: [400 + i], addressesPresent: holdsVip ? ['192.168.150.100', '192.168.150.1'] : [], holdsVip, vipAddedAt: null, vipRemovedAt: null, role: r,
});

/** The HA lab page on synthetic facts (the heartbeat cut, lvs2 fenced), to look at the view without a lab. */
export default function DemoHaLabPage() {
  const ha: HaLabStatus = {
    at: 0, directors: [director(0, true, role('MASTER', false, false)), director(1, false, role('FAULT', true, false))],
    vipHolders: ['lvs1'], splitBrain: false, heartbeatCut: true, faultsOn: ['cut-heartbeat'],
    zookeeper: { address: '192.168.150.250:2181', pid: 500, running: true }, baseline: false, downloads: null, traffic: null,
  };
  return (
    <LabView
      status={{ topology: LAB_TOPOLOGY, mode: 'ha', ha, director: null, realServers: [rs('rs1', '192.168.150.12'), rs('rs2', '192.168.150.13')], traffic: null, factsAt: null, factsError: null }}
      onRate={async () => {}}
      onFault={async () => {}}
      onHaFault={async () => {}}
      onHaRepair={async () => {}}
      disabledReason="Demo data: nothing to change."
    />
  );
}
