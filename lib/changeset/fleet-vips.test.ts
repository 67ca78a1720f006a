import { describe, expect, it } from 'vitest';
import { fleetOthers, MAX_OTHERS } from './fleet-vips';
import { EMPTY_CONTEXT, judgeChange } from './verdict';

const d = (id: string, vips: string[] | null, haGroups: string[] | null = null) => ({ id, name: `dir ${id}`, vips, haGroups });

describe('the fleet\'s VIPs for the verdict', () => {
  it('sends every other director\'s VIPs, leaves out this one and its HA peers, names the unread', () => {
    const r = fleetOthers({ id: 'a', haGroups: ['web'] }, [
      d('a', ['10.0.0.1']), d('b', ['10.0.0.2', '10.0.0.3']), d('peer', ['10.0.0.1'], ['web']), d('c', null), d('e', ['10.0.0.9'], ['db']),
    ]);
    expect(r.others).toEqual([{ director: 'dir b', vips: ['10.0.0.2', '10.0.0.3'] }, { director: 'dir e', vips: ['10.0.0.9'] }]);
    expect(r.peers).toEqual(['dir peer']);
    expect(r.unread).toEqual(['dir c']);
  });

  it('null when this director is the only one; a director serving nothing is sent with no VIPs', () => {
    expect(fleetOthers({ id: 'a', haGroups: null }, [d('a', ['10.0.0.1'])]).others).toBeNull();
    expect(fleetOthers({ id: 'a', haGroups: null }, [d('a', []), d('b', [])]).others).toEqual([{ director: 'dir b', vips: [] }]);
  });

  it('bounded: past the verdict\'s limits a director counts as unread or truncated, never sent whole', () => {
    const many = Array.from({ length: MAX_OTHERS + 2 }, (_, i) => d(`x${i}`, [`10.1.0.${i}`]));
    const r = fleetOthers({ id: 'a', haGroups: null }, many);
    expect(r.others).toHaveLength(MAX_OTHERS);
    expect(r.unread).toHaveLength(2);
    const big = fleetOthers({ id: 'a', haGroups: null }, [{ ...d('b', Array.from({ length: 5000 }, (_, i) => `10.2.${i >> 8}.${i & 255}`)), truncated: true }]);
    expect(big.others![0]!.vips).toHaveLength(4096);
    expect(big.truncated).toEqual(['dir b']);
  });

  it('a new service on a VIP another director serves is flagged critical, naming it; its HA peer\'s does not count', () => {
    const key = { kind: 'addr' as const, family: 'inet' as const, protocol: 'tcp' as const, address: '10.0.0.2', port: 443 };
    const spec = { key, scheduler: 'wlc', flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null, destinations: [] };
    const flagged = judgeChange([], [spec], { ...EMPTY_CONTEXT, others: fleetOthers({ id: 'a', haGroups: ['web'] }, [d('b', ['10.0.0.2'])]).others });
    expect(flagged.findings).toContainEqual(expect.objectContaining({ rule: 'vip-elsewhere', severity: 'critical', title: 'VIP 10.0.0.2 is already served by director dir b' }));
    const peer = judgeChange([], [spec], { ...EMPTY_CONTEXT, others: fleetOthers({ id: 'a', haGroups: ['web'] }, [d('b', ['10.0.0.2'], ['web'])]).others });
    expect(peer.findings.some((f) => f.rule === 'vip-elsewhere')).toBe(false);
  });
});
