import { describe, expect, it, vi } from 'vitest';
import { EMPTY_SAMPLE, type StatSample, type StatsState } from '@/lib/agent/events';
import { piecesOf, TickEncoder, WIRE_VERSION, type WireTick } from '@/lib/agent/live-wire';
import { Ring, SPARK_POINTS, StatsStore } from './stats-store';

type Table = Record<string, { v: Partial<StatSample>; dests?: Record<string, Partial<StatSample>> }>;

/** Ticks as the agent sends them: its samples (rates computed there) through its encoder. */
function agent() {
  const enc = new TickEncoder();
  let prev: StatsState | null = null;
  return (seq: number, table: Table, full = false): WireTick => {
    const state: StatsState = new Map(Object.entries(table).map(([id, s]) => [id, {
      v: { ...EMPTY_SAMPLE, ...s.v },
      dests: new Map(Object.entries(s.dests ?? {}).map(([did, d]) => [did, { ...EMPTY_SAMPLE, ...d }])),
    }]));
    const w = enc.encode(full ? null : prev, state, seq, 1000 * seq, 1000);
    prev = state;
    return w;
  };
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
  it('takes a full tick in pieces, one per task, and counts it once, when its last piece is in', async () => {
    const s = new StatsStore();
    let calls = 0;
    s.subscribe(() => calls++);
    const table: Table = {};
    for (let i = 1; i <= 5; i++) table[`tcp:10.0.0.${i}:80`] = { v: { rCps: i }, dests: { '10.1.0.1:80': { rCps: i } } };
    const tick = agent();
    const pieces = piecesOf(tick(3, table, true), 4);
    expect(pieces.length).toBe(3);
    // delivered together, as a browser may: nothing applied in the task that got them
    for (const p of pieces) s.apply(p);
    table['tcp:10.0.0.1:80']!.v.rCps = 9;
    s.apply(tick(4, table));
    expect([calls, s.version, s.table.services.size]).toEqual([0, 0, 0]);
    await new Promise((r) => setTimeout(r, 0));
    expect([calls, s.version, s.table.services.size, s.lastSeq]).toEqual([0, 0, 2, -1]);
    await vi.waitFor(() => expect(s.lastSeq).toBe(4));
    expect([calls, s.version, s.times.length]).toEqual([2, 2, 2]);
    expect([1, 2, 3, 4, 5].map((i) => s.service(`tcp:10.0.0.${i}:80`)?.cps)).toEqual([9, 2, 3, 4, 5]);
    expect(s.services.get('tcp:10.0.0.5:80')?.cps.toArray()).toEqual([5, 5]);
  });

  it('applies full and delta ticks and records history, with the agent\'s rates as they came', () => {
    const s = new StatsStore();
    const tick = agent();
    s.graph('tcp:10.0.0.1:80');
    s.apply(tick(1, { 'tcp:10.0.0.1:80': { v: { rCps: 5, rInPps: 1, rOutPps: 2, conns: 10 }, dests: { '10.1.0.1:80': { rCps: 5 } } } }));
    s.apply(tick(2, { 'tcp:10.0.0.1:80': { v: { rCps: 7, rInPps: 1, rOutPps: 2, conns: 17 }, dests: { '10.1.0.1:80': { rCps: 5 }, '10.1.0.2:80': { rCps: 2 } } } }));
    expect(s.service('tcp:10.0.0.1:80')).toEqual({ cps: 7, inPps: 1, outPps: 2, inBps: 0, outBps: 0, active: 0, inactive: 0, persistent: 0 });
    expect(s.destinationSample('tcp:10.0.0.1:80', '10.1.0.2:80')?.cps).toBe(2);
    expect(s.services.get('tcp:10.0.0.1:80')!.cps.toArray()).toEqual([5, 7]);
    expect(s.services.get('tcp:10.0.0.1:80')!.pps.toArray()).toEqual([3, 3]);
    // the late destination is padded to line up with the time axis
    expect(s.destination('tcp:10.0.0.1:80', '10.1.0.2:80')!.cps.toArray()).toEqual([Number.NaN, 2]);
    expect(s.destination('tcp:10.0.0.1:80', '10.1.0.1:80')!.cps.toArray()).toEqual([5, 5]);
    expect(s.times.toArray()).toEqual([1000, 2000]);
    expect(s.version).toBe(2);
  });

  it('keeps real servers\' history only for the services a page graphed, from the first tick after', () => {
    const s = new StatsStore();
    const tick = agent();
    const table = (cps: number) => ({ a: { v: { rCps: cps }, dests: { d: { rCps: cps } } }, b: { v: { rCps: cps }, dests: { d: { rCps: cps } } } });
    s.apply(tick(1, table(1)));
    s.graph('b');
    s.apply(tick(2, table(2)));
    s.apply(tick(3, table(3)));
    expect(s.destination('a', 'd')).toBeUndefined();
    // padded to the shared time axis from before it was graphed
    expect(s.destination('b', 'd')!.cps.toArray()).toEqual([Number.NaN, 2, 3]);
    // the live values and the sparklines do not depend on it
    expect(s.destinationSample('a', 'd')?.cps).toBe(3);
    expect(s.services.get('a')!.cps.toArray()).toEqual([1, 2, 3]);
    // a graphed service that goes takes its history along; one that comes back starts again
    s.apply(tick(4, { a: { v: {} } }));
    expect(s.destination('b', 'd')).toBeUndefined();
    s.apply(tick(5, table(5)));
    expect(s.destination('b', 'd')!.cps.toArray()).toEqual([Number.NaN, Number.NaN, Number.NaN, Number.NaN, 5]);
  });

  it('keeps one copy of the live state: the values a page reads are the objects ticks update', () => {
    const s = new StatsStore();
    const tick = agent();
    s.apply(tick(1, { a: { v: { rCps: 1 }, dests: { d: { rCps: 1 } } } }));
    const v = s.service('a')!;
    const d = s.destinationSample('a', 'd')!;
    s.apply(tick(2, { a: { v: { rCps: 3 }, dests: { d: { rCps: 2 } } } }));
    expect(s.service('a')).toBe(v);
    expect(s.destinationSample('a', 'd')).toBe(d);
    expect([v.cps, d.cps]).toEqual([3, 2]);
    expect(s.table.services.get('a')!.dests.get('d')!.v).toBe(d);
  });

  it('ignores a delta that skips a sequence number, until the next full tick', () => {
    const s = new StatsStore();
    const tick = agent();
    s.apply(tick(1, { a: { v: { rCps: 1 } } }));
    s.apply(tick(3, { a: { v: { rCps: 99 } } }));
    expect(s.service('a')?.cps).toBe(1);
    s.apply(tick(3, { a: { v: { rCps: 4 } } }, true));
    expect(s.service('a')?.cps).toBe(4);
  });

  it('drops history of removed services and notifies subscribers', () => {
    const s = new StatsStore();
    const tick = agent();
    let calls = 0;
    const off = s.subscribe(() => calls++);
    s.apply(tick(1, { a: { v: { rCps: 1 } }, b: { v: { rCps: 1 } } }));
    s.apply(tick(2, { b: { v: { rCps: 1 } } }));
    expect([...s.services.keys()]).toEqual(['b']);
    off();
    s.apply(tick(3, { b: { v: { rCps: 1 } } }));
    expect(calls).toBe(2);
  });

  it('makes no sparkline history for a service idle all along; one that wakes up gets the zeros before', () => {
    const s = new StatsStore();
    const tick = agent();
    s.apply(tick(1, { a: { v: {} }, b: { v: {} } }));
    s.apply(tick(2, { a: { v: {} }, b: { v: {} } }));
    s.apply(tick(3, { a: { v: {} }, b: { v: { rInBps: 8 } } }));
    expect(s.services.get('a')).toBeUndefined();
    expect(s.idleSparkline()).toEqual([0, 0, 0]);
    expect(s.services.get('b')!.bps.toArray()).toEqual([0, 0, 8]);
    expect(s.services.get('b')!.cps.toArray()).toEqual([0, 0, 0]);
    // at most a sparkline's worth of zeros
    for (let i = 4; i <= SPARK_POINTS + 5; i++) s.apply(tick(i, { a: { v: {} } }));
    s.apply(tick(SPARK_POINTS + 6, { a: { v: { rCps: 1 } } }));
    expect(s.services.get('a')!.cps.toArray()).toEqual([...new Array<number>(SPARK_POINTS - 1).fill(0), 1]);
  });

  it('bounds sparkline history', () => {
    const s = new StatsStore();
    const tick = agent();
    for (let i = 1; i <= SPARK_POINTS + 10; i++) s.apply(tick(i, { a: { v: { rCps: i } } }));
    const h = s.services.get('a')!.cps.toArray();
    expect(h.length).toBe(SPARK_POINTS);
    expect(h.at(-1)).toBe(SPARK_POINTS + 10);
  });

  it('a tick as JSON from the agent applies the same', () => {
    const s = new StatsStore();
    const w: WireTick = { w: WIRE_VERSION, seq: 1, at: 5000, intervalMs: 1000, full: true, n: [[1, 'a'], [2, 1, 'd']], r: [1, 1, 2.5, 2, 0b1001, 1.5, 100], x: [] };
    s.apply(JSON.parse(JSON.stringify(w)) as WireTick);
    expect(s.service('a')?.cps).toBe(2.5);
    expect(s.destinationSample('a', 'd')).toMatchObject({ cps: 1.5, inBps: 100 });
    expect(s.lastAt).toBe(5000);
  });
});
