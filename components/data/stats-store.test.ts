import { describe, expect, it } from 'vitest';
import { EMPTY_SAMPLE, type StatsTick } from '@/lib/agent/events';
import { Ring, SPARK_POINTS, StatsStore } from './stats-store';

function tick(seq: number, full: boolean, services: StatsTick['services'], removed: string[] = []): StatsTick {
  return { seq, at: 1000 * seq, intervalMs: 1000, full, services, removed };
}

describe('Ring', () => {
  it('keeps the newest values in order and sums the tail', () => {
    const r = new Ring(3);
    for (const v of [1, 2, 3, 4, 5]) r.push(v);
    expect(r.toArray()).toEqual([3, 4, 5]);
    expect(r.sumLast(2)).toBe(9);
    expect(r.sumLast(10)).toBe(12);
    expect(new Ring(4).toArray()).toEqual([]);
  });
});

describe('StatsStore', () => {
  it('merges full and delta ticks and records history', () => {
    const s = new StatsStore();
    s.apply(tick(1, true, [{ id: 'tcp:10.0.0.1:80', v: { ...EMPTY_SAMPLE, rCps: 5, rInPps: 1, rOutPps: 2 }, dests: [{ id: '10.1.0.1:80', v: { ...EMPTY_SAMPLE, rCps: 5 } }], removedDests: [] }]));
    s.apply(tick(2, false, [{ id: 'tcp:10.0.0.1:80', v: { rCps: 7 }, dests: [{ id: '10.1.0.2:80', v: { rCps: 2 } }], removedDests: [] }]));
    expect(s.service('tcp:10.0.0.1:80')?.rCps).toBe(7);
    expect(s.service('tcp:10.0.0.1:80')?.rInPps).toBe(1);
    expect(s.services.get('tcp:10.0.0.1:80')!.cps.toArray()).toEqual([5, 7]);
    expect(s.services.get('tcp:10.0.0.1:80')!.pps.toArray()).toEqual([3, 3]);
    // the late destination is padded to line up with the time axis
    expect(s.destination('tcp:10.0.0.1:80', '10.1.0.2:80')!.cps.toArray()).toEqual([Number.NaN, 2]);
    expect(s.destination('tcp:10.0.0.1:80', '10.1.0.1:80')!.cps.toArray()).toEqual([5, 5]);
    expect(s.times.toArray()).toEqual([1000, 2000]);
    expect(s.version).toBe(2);
  });

  it('ignores a delta that skips a sequence number, until the next full tick', () => {
    const s = new StatsStore();
    s.apply(tick(1, true, [{ id: 'a', v: { ...EMPTY_SAMPLE, rCps: 1 }, dests: [], removedDests: [] }]));
    s.apply(tick(3, false, [{ id: 'a', v: { rCps: 99 }, dests: [], removedDests: [] }]));
    expect(s.service('a')?.rCps).toBe(1);
    s.apply(tick(3, true, [{ id: 'a', v: { ...EMPTY_SAMPLE, rCps: 4 }, dests: [], removedDests: [] }]));
    expect(s.service('a')?.rCps).toBe(4);
  });

  it('drops history of removed services and notifies subscribers', () => {
    const s = new StatsStore();
    let calls = 0;
    const off = s.subscribe(() => calls++);
    s.apply(tick(1, true, [{ id: 'a', v: { ...EMPTY_SAMPLE }, dests: [], removedDests: [] }, { id: 'b', v: { ...EMPTY_SAMPLE }, dests: [], removedDests: [] }]));
    s.apply(tick(2, false, [], ['a']));
    expect([...s.services.keys()]).toEqual(['b']);
    off();
    s.apply(tick(3, false, []));
    expect(calls).toBe(2);
  });

  it('bounds sparkline history', () => {
    const s = new StatsStore();
    for (let i = 1; i <= SPARK_POINTS + 10; i++) s.apply(tick(i, i === 1, [{ id: 'a', v: i === 1 ? { ...EMPTY_SAMPLE, rCps: i } : { rCps: i }, dests: [], removedDests: [] }]));
    const h = s.services.get('a')!.cps.toArray();
    expect(h.length).toBe(SPARK_POINTS);
    expect(h.at(-1)).toBe(SPARK_POINTS + 10);
  });
});

describe('StatsStore with the agent\'s wire ticks', () => {
  it('decodes full and delta wire ticks to the same state and histories as object ticks', async () => {
    const { TickEncoder } = await import('@/lib/agent/tick-wire');
    const { deltaTick, fullTick } = await import('@/lib/agent/samples');
    const svc = 'tcp:10.0.0.1:80';
    const state = (rCps: number, inBytes: number, dests: [string, number][]) => new Map([[svc, {
      v: { ...EMPTY_SAMPLE, rCps, inBytes },
      dests: new Map(dests.map(([d, r]) => [d, { ...EMPTY_SAMPLE, rCps: r, inBytes: r * 100 }])),
    }]]);
    const states = [state(5, 1000, [['10.1.0.1:80', 5]]), state(7, 9000, [['10.1.0.1:80', 5], ['10.1.0.2:80', 2]]), state(0, 9000, [['10.1.0.2:80', 0]])];
    const enc = new TickEncoder();
    const wire = new StatsStore();
    const objects = new StatsStore();
    wire.apply(enc.encode(fullTick(states[0]!, 1, 1000, 0), null));
    objects.apply(fullTick(states[0]!, 1, 1000, 0));
    for (let i = 1; i < states.length; i++) {
      const t = deltaTick(states[i - 1]!, states[i]!, i + 1, 1000 * (i + 1), 1000);
      wire.apply(enc.encode(t, states[i - 1]!));
      objects.apply(t);
    }
    expect(wire.version).toBe(3);
    expect([...wire.state]).toEqual([...objects.state]);
    expect(wire.service(svc)?.inBytes).toBe(9000);
    expect(wire.services.get(svc)!.cps.toArray()).toEqual([5, 7, 0]);
    expect(wire.destination(svc, '10.1.0.2:80')!.cps.toArray()).toEqual([Number.NaN, 2, 0]);
    expect(wire.destination(svc, '10.1.0.1:80')).toBeUndefined(); // removed with the last tick
  });
});
