'use client';
import { LAB_TOPOLOGY } from '@/lib/lab/topology';
import { LabView } from '@/components/views/LabView';

const ok = (name: string, address: string) => ({
  name, address, httpd: { up: true, detail: `HTTP 200 from ${address}`, pid: 100 }, vipOnLo: true,
  arp: { allIgnore: 1, allAnnounce: 2, eth0Ignore: 1, eth0Announce: 2 }, arpOk: true, natRoute: true, tunl0Up: true, faults: [] as string[],
});

/** The lab page on synthetic facts (rs2 without its VIP), to look at the view without a lab. */
export default function DemoLabPage() {
  const rs2 = { ...ok('rs2', '192.168.150.13'), vipOnLo: false, faults: ['remove-vip'] };
  return (
    <LabView
      status={{ topology: LAB_TOPOLOGY, director: { vipOnBr0: true, ipForward: 1, faults: [] }, realServers: [ok('rs1', '192.168.150.12'), rs2], traffic: null, factsAt: null, factsError: null }}
      onRate={async () => {}}
      onFault={async () => {}}
      disabledReason="Demo data: nothing to change."
    />
  );
}
