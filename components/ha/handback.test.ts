import { describe, expect, it } from 'vitest';
import type { HaStatus } from '@/lib/schemas/ha';
import { handBack, holdsGroup, type HandBackCalls } from './handback';

const status = (director: string, holder: string | null, present: string[]): HaStatus => ({
  director, groups: [{ name: 'lan', vips: ['192.168.150.100'], vipsPresent: present, leaseHolder: holder }],
} as unknown as HaStatus);

/** A pair where `from` lets go when asked and `to` takes the group `takeAfter` ms of fake time later. */
function pair(takeAfter: number, fail?: Error) {
  let t = 0;
  let asked: number | null = null;
  const log: string[] = [];
  const calls: HandBackCalls = {
    handover: async (d, g) => { log.push(`handover ${d} ${g}`); if (fail) throw fail; asked = t; },
    status: async (d) => (asked !== null && t - asked >= takeAfter ? status(d, d, ['192.168.150.100']) : status(d, 'lvs2', [])),
    sleep: async (ms) => { t += ms; },
    now: () => t,
  };
  return { calls, log };
}

describe('hand back after a rehearsal', () => {
  it('holds the group only with the lease and every VIP present', () => {
    expect(holdsGroup(status('lvs1', 'lvs1', ['192.168.150.100']), 'lan')).toBe(true);
    expect(holdsGroup(status('lvs1', 'lvs1', []), 'lan')).toBe(false);
    expect(holdsGroup(status('lvs1', 'lvs2', ['192.168.150.100']), 'lan')).toBe(false);
    expect(holdsGroup(status('lvs1', 'lvs1', ['192.168.150.100']), 'other')).toBe(false);
  });

  it('waits for the sync flush, asks the new holder, and times until the old one holds the group again', async () => {
    const { calls, log } = pair(1000);
    const r = await handBack('lvs2', 'lvs1', 'lan', { settleMs: 3000 }, calls);
    expect(log).toEqual(['handover lvs2 lan']);
    expect(r).toEqual({ ok: true, ms: 1000, to: 'lvs1' });
  });

  it('says which director did not take the group back, and when a handover is refused, why', async () => {
    const slow = await handBack('lvs2', 'lvs1', 'lan', { settleMs: 0, timeoutMs: 5000 }, pair(60_000).calls);
    expect(slow).toEqual({ ok: false, to: 'lvs1', error: 'lvs1 did not hold lan again within 5 s of the handover; see the HA panel' });
    const refused = await handBack('lvs2', 'lvs1', 'lan', { settleMs: 0 }, pair(0, new Error('not the lease holder')).calls);
    expect(refused).toMatchObject({ ok: false, error: 'lvs2 did not hand lan back: not the lease holder' });
  });
});
