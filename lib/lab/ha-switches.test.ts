import { describe, expect, it } from 'vitest';
import { haSwitches } from './ha-switches';
import { HA_STANDING_FAULTS, haFaultInput, haFaultsOn, haRepairFor, type HaLabStatus } from './ha-topology';

const status = (faultsOn: HaLabStatus['faultsOn'], vipHolders: HaLabStatus['vipHolders'] = ['lvs1']): HaLabStatus => ({
  at: 0, directors: [], vipHolders, splitBrain: false, heartbeatCut: false, faultsOn,
  zookeeper: { address: 'zk', pid: 1, running: true }, baseline: false, downloads: null, traffic: null,
});

describe('HA fault memory', () => {
  it('reads the standing faults from the marker names and ignores the single lab\'s markers', () => {
    expect(haFaultsOn(['rs2.stop-httpd', 'cut-heartbeat', 'director.remove-vip', 'stopped-lvs2'])).toEqual(['cut-heartbeat', 'stopped-lvs2']);
    expect(haFaultsOn([])).toEqual([]);
  });

  it('repairs each standing fault with its own inverse switch, a valid haFault input', () => {
    expect(haRepairFor('cut-heartbeat')).toEqual({ fault: 'heal-heartbeat' });
    expect(haRepairFor('stop-zookeeper')).toEqual({ fault: 'start-zookeeper' });
    expect(haRepairFor('stopped-lvs2')).toEqual({ fault: 'start-director', director: 'lvs2' });
    expect(haRepairFor('baseline')).toEqual({ fault: 'baseline', on: false });
    for (const f of HA_STANDING_FAULTS) expect(haFaultInput.safeParse(haRepairFor(f)).success).toBe(true);
  });
});

describe('haSwitches', () => {
  it('shows on exactly the standing faults the lab remembers, and one-shot faults never on', () => {
    const rows = haSwitches(status(['cut-heartbeat', 'stopped-lvs1']));
    expect(rows.filter((r) => r.on).map((r) => r.id)).toEqual(['stop-director-lvs1', 'cut-heartbeat']);
    expect(rows.filter((r) => r.kind === 'once').every((r) => !r.on && r.standing === null)).toBe(true);
    // every switch's input passes the router's own validation
    for (const r of rows) expect(haFaultInput.safeParse(r.turnOn).success).toBe(true);
  });

  it('offers no baseline switch, but lists the baseline for repair while it is on', () => {
    expect(haSwitches(status([])).some((r) => r.id === 'baseline')).toBe(false);
    expect(haSwitches(status(['baseline'])).find((r) => r.id === 'baseline')).toMatchObject({ on: true, standing: 'baseline' });
  });

  it('names the master in the kill-keepalived warning when there is exactly one', () => {
    expect(haSwitches(status([], ['lvs2']))[0]!.effect).toContain('(lvs2 now)');
    expect(haSwitches(status([], []))[0]!.effect).not.toContain('now)');
  });
});
