import { describe, expect, it } from 'vitest';
import { ZERO_STATS, type ServiceEntry } from '../ipvs/model';
import { sampleTable } from './samples';
import type { StatsState } from './events';

function entry(conns: number): ServiceEntry {
  return {
    key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
    scheduler: 'rr', flags: { persistent: false, hashed: true, onePacket: false, sched1: false, sched2: false, sched3: false },
    timeout: 0, netmask: 'ffffffff', stats: { ...ZERO_STATS, conns, inPkts: conns * 5, inBytes: conns * 300 }, destinations: [],
  } as unknown as ServiceEntry;
}

/** Feeds counter readings one tick (1 s) apart; returns each tick's rCps. */
function rates(readings: number[], tickMs = 1000): number[] {
  let state: StatsState | null = null;
  const out: number[] = [];
  for (const c of readings) {
    state = sampleTable([entry(c)], state, tickMs);
    out.push([...state.values()][0]!.v.rCps);
  }
  return out;
}

describe('per-tick rates from counters the kernel sums every 2 s', () => {
  it('reads a steady 2 conns/s as 2 on every tick, not 0 and 4', () => {
    // Linux 6.2+: the counters move only when the estimator runs (every other 1 s tick)
    expect(rates([100, 100, 104, 104, 108, 108, 112]).slice(2)).toEqual([2, 2, 2, 2, 2]);
  });

  it('still follows counters that move on every tick', () => {
    expect(rates([0, 3, 6, 9, 12]).slice(1)).toEqual([3, 3, 3, 3]);
  });

  it('drops to 0 once the counters have stood still for longer than an estimator period', () => {
    expect(rates([100, 104, 104, 104, 104, 104])).toEqual([0, 4, 4, 4, 0, 0]);
  });

  it('after a long quiet spell takes the burst over one estimator period', () => {
    expect(rates([50, 50, 50, 50, 50, 50, 50, 60]).at(-1)).toBe(5);
  });

  it('a reset (zeroed counters) gives 0, never a negative rate', () => {
    expect(rates([100, 104, 2]).at(-1)).toBe(0);
  });
});
