import { describe, expect, it } from 'vitest';
import type { HaLabDirector, HaLabStatus } from '@/lib/lab/ha-topology';
import { LAB_TOPOLOGY, type LabStatus, type RealServerStatus } from '@/lib/lab/topology';
import { formatStatus } from './lab';

const rs = (name: string, address: string): RealServerStatus => ({
  name, address, httpd: { up: true, detail: 'HTTP 200', pid: 1 }, vipOnLo: true,
  arp: { allIgnore: 1, allAnnounce: 2, eth0Ignore: 1, eth0Announce: 2 }, arpOk: true, natRoute: true, tunl0Up: false, faults: [],
});
const director = (name: 'lvs1' | 'lvs2', holdsVip: boolean, state: string, fenced = false): HaLabDirector => ({
  name, lanAddress: name === 'lvs1' ? '192.168.150.2' : '192.168.150.3', running: true, agentPid: 1, held: false, haDisabled: false,
  keepalivedPids: [2], addressesPresent: [], holdsVip, vipAddedAt: null, vipRemovedAt: null,
  role: { state, fenced, leaseHolder: 'lvs1', zookeeper: 'connected', heartbeatOk: !fenced, error: null },
});
const ha = (over: Partial<HaLabStatus>): HaLabStatus => ({
  at: 0, directors: [director('lvs1', true, 'MASTER'), director('lvs2', false, 'BACKUP')], vipHolders: ['lvs1'], splitBrain: false,
  heartbeatCut: false, faultsOn: [], zookeeper: { address: '192.168.150.250:2181', pid: 9, running: true }, baseline: false, downloads: null, traffic: null, ...over,
});
const status = (h: HaLabStatus): LabStatus => ({
  topology: LAB_TOPOLOGY, mode: 'ha', ha: h, director: null, realServers: [rs('rs1', '192.168.150.12'), rs('rs2', '192.168.150.13')],
  traffic: null, factsAt: 1, factsError: null,
});

describe('director lab status in HA mode', () => {
  it('prints both directors with their roles, no br0 line, and tunl0 as n/a rather than BROKEN', () => {
    const out = formatStatus(status(ha({})));
    expect(out).toContain('lvs1 192.168.150.2: MASTER, holds the VIP; agent running ok');
    expect(out).toContain('lvs2 192.168.150.3: BACKUP;');
    expect(out).toContain('VIP on the master only ok');
    expect(out).not.toContain('br0');
    expect(out).not.toContain('BROKEN');
    expect(out).toContain('tunl0 n/a (no TUN service)');
    expect(out).toContain('HA faults on: none');
  });

  it('says which fault is on and what it broke', () => {
    const out = formatStatus(status(ha({ heartbeatCut: true, faultsOn: ['cut-heartbeat'], directors: [director('lvs1', true, 'MASTER'), director('lvs2', false, 'FAULT', true)] })));
    expect(out).toContain('heartbeat path connected BROKEN (cut (hb-lvs2 detached from hbbr))');
    expect(out).toContain('lvs2 192.168.150.3: FAULT (fenced);');
    expect(out).toContain('not fenced BROKEN');
    expect(out).toContain('HA faults on: cut-heartbeat');
  });
});
