import { describe, expect, it } from 'vitest';
import { haDirectorChecks, haDirectorHealthy, haPairChecks, haRoleLabel, realServerChecks, realServerHealthy } from './checks';
import type { HaDirectorRole, HaLabDirector, HaLabStatus } from './ha-topology';
import type { RealServerStatus } from './topology';

const rs = (over: Partial<RealServerStatus> = {}): RealServerStatus => ({
  name: 'rs1', address: '192.168.150.12', httpd: { up: true, detail: 'HTTP 200', pid: 10 }, vipOnLo: true,
  arp: { allIgnore: 1, allAnnounce: 2, eth0Ignore: 1, eth0Announce: 2 }, arpOk: true, natRoute: true, tunl0Up: false, faults: [], ...over,
});

const role = (state: string, over: Partial<HaDirectorRole> = {}): HaDirectorRole => ({
  state, fenced: false, leaseHolder: 'lvs1', zookeeper: 'connected', heartbeatOk: true, error: null, ...over,
});

const director = (name: 'lvs1' | 'lvs2', holdsVip: boolean, r: HaDirectorRole | null, over: Partial<HaLabDirector> = {}): HaLabDirector => ({
  name, lanAddress: name === 'lvs1' ? '192.168.150.2' : '192.168.150.3', running: true, agentPid: 100, held: false, haDisabled: false,
  keepalivedPids: [200], addressesPresent: holdsVip ? ['192.168.150.100', '192.168.150.1'] : [], holdsVip,
  vipAddedAt: null, vipRemovedAt: null, role: r, ...over,
});

const pair = (a: HaLabDirector, b: HaLabDirector, over: Partial<HaLabStatus> = {}): HaLabStatus => {
  const vipHolders = [a, b].filter((d) => d.holdsVip).map((d) => d.name);
  return {
    at: 0, directors: [a, b], vipHolders, splitBrain: vipHolders.length > 1, heartbeatCut: false, faultsOn: [],
    zookeeper: { address: '192.168.150.250:2181', pid: 5, running: true }, baseline: false, downloads: null, traffic: null, ...over,
  };
};
const byLabel = (checks: { label: string; ok: boolean | null; applies: boolean }[], label: string) => checks.find((c) => c.label === label)!;

describe('realServerChecks', () => {
  it('judges tunl0 not applicable in the HA lab (no TUN service), so a down tunl0 does not make the server broken', () => {
    const tun = byLabel(realServerChecks(rs(), 'ha'), 'tunl0 up (TUN)');
    expect(tun).toMatchObject({ applies: false, ok: null });
    expect(realServerHealthy(rs(), 'ha')).toBe(true);
  });

  it('in the single lab a down tunl0 is broken, and so is the server', () => {
    expect(byLabel(realServerChecks(rs(), 'single'), 'tunl0 up (TUN)')).toMatchObject({ applies: true, ok: false });
    expect(realServerHealthy(rs(), 'single')).toBe(false);
    expect(realServerHealthy(rs({ tunl0Up: true }), 'single')).toBe(true);
  });

  it('a fault that is on makes the server broken even before the facts show it; unknown facts do not', () => {
    expect(realServerHealthy(rs({ faults: ['stop-httpd'] }), 'ha')).toBe(false);
    expect(realServerHealthy(rs({ vipOnLo: null, arpOk: null, natRoute: null }), 'ha')).toBe(true);
  });
});

describe('haDirectorChecks: the VIP on the master only', () => {
  it('is ok on the MASTER holding the VIP and on the BACKUP without it', () => {
    const s = pair(director('lvs1', true, role('MASTER')), director('lvs2', false, role('BACKUP')));
    for (const d of s.directors) expect(haDirectorHealthy(d, s)).toBe(true);
    expect(haPairChecks(s).every((c) => c.ok)).toBe(true);
  });

  it('is broken on a BACKUP that holds the VIP, and on a MASTER that does not', () => {
    const s = pair(director('lvs1', false, role('MASTER')), director('lvs2', true, role('BACKUP')));
    expect(byLabel(haDirectorChecks(s.directors[0]!, s), 'VIP on the master only').ok).toBe(false);
    expect(byLabel(haDirectorChecks(s.directors[1]!, s), 'VIP on the master only').ok).toBe(false);
  });

  it('is broken on both holders in a split brain, whatever their roles say', () => {
    const s = pair(director('lvs1', true, role('MASTER')), director('lvs2', true, role('MASTER')));
    expect(s.directors.map((d) => byLabel(haDirectorChecks(d, s), 'VIP on the master only').ok)).toEqual([false, false]);
    expect(byLabel(haPairChecks(s), 'VIP on exactly one director').ok).toBe(false);
  });

  it('without roles from the agents, the sole holder is ok', () => {
    const s = pair(director('lvs1', true, null), director('lvs2', false, null));
    expect(s.directors.map((d) => byLabel(haDirectorChecks(d, s), 'VIP on the master only').ok)).toEqual([true, true]);
    expect(byLabel(haDirectorChecks(s.directors[0]!, s), 'not fenced').ok).toBeNull();
  });

  it('a fenced director, a held one, a cut heartbeat and a stopped ZooKeeper each show broken', () => {
    const fenced = director('lvs2', false, role('FAULT', { fenced: true, heartbeatOk: false }));
    const s = pair(director('lvs1', true, role('MASTER')), fenced, { heartbeatCut: true, zookeeper: { address: 'zk', pid: null, running: false } });
    expect(byLabel(haDirectorChecks(fenced, s), 'not fenced').ok).toBe(false);
    expect(byLabel(haDirectorChecks(fenced, s), 'hears its peer on the heartbeat path').ok).toBe(false);
    expect(byLabel(haPairChecks(s), 'heartbeat path connected').ok).toBe(false);
    expect(byLabel(haPairChecks(s), 'ZooKeeper running').ok).toBe(false);
    const held = director('lvs1', false, role('STOP'), { held: true, agentPid: null, keepalivedPids: [] });
    expect(byLabel(haDirectorChecks(held, pair(held, director('lvs2', true, role('MASTER')))), 'agent running').ok).toBe(false);
  });
});

describe('haRoleLabel', () => {
  it('names the agent\'s VRRP state, a fenced FAULT, a stopped director, and falls back to the kernel without an answer', () => {
    expect(haRoleLabel(director('lvs1', true, role('MASTER')))).toBe('MASTER');
    expect(haRoleLabel(director('lvs2', false, role('FAULT', { fenced: true })))).toBe('FAULT (fenced)');
    expect(haRoleLabel(director('lvs2', false, role('BACKUP'), { held: true }))).toBe('stopped');
    expect(haRoleLabel(director('lvs1', true, null))).toBe('holds the VIP (role unknown)');
    expect(haRoleLabel(director('lvs1', false, role('UNKNOWN')))).toBe('role unknown');
  });
});
