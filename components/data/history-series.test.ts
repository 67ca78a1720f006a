import { describe, expect, it } from 'vitest';
import type { LiveSample } from '@/lib/agent/live-wire';
import type { ServiceHistory } from '@/lib/history/read';
import { ChartHistory } from './history-series';

const T0 = 1_800_000_000_000 - (1_800_000_000_000 % 60_000);
const v = (cps: number): { v: LiveSample } => ({ v: { cps, inPps: 0, outPps: 0, inBps: cps * 10, outBps: cps * 90, active: 0, inactive: 0, persistent: 0 } });
const vals = (n: number, x: number | null) => ({ cps: new Array(n).fill(x), inPps: new Array(n).fill(x), outPps: new Array(n).fill(x), inBps: new Array(n).fill(x), outBps: new Array(n).fill(x) });

function past(at: number[], ms: number[]): ServiceHistory {
  return { range: '15m', at, ms, service: vals(at.length, 1), dests: [{ id: 'rs1', v: vals(at.length, 2) }], truncated: 0 };
}

describe('ChartHistory', () => {
  it('appends live ticks after the history over 15 minutes, and skips ticks it already has', () => {
    const h = new ChartHistory('15m', past([T0 + 1000, T0 + 2000], [1000, 1000]));
    h.addTick(T0 + 2000, 1000, new Map([['rs1', v(5)]]));
    h.addTick(T0 + 3000, 1000, new Map([['rs1', v(5)], ['rs2', v(1)]]));
    expect(h.at).toEqual([T0 + 1000, T0 + 2000, T0 + 3000]);
    expect(h.dests.get('rs1')!.cps).toEqual([2, 2, 5]);
    expect(h.dests.get('rs1')!.bps).toEqual([4, 4, 500]);
    expect(h.dests.get('rs2')!.cps).toEqual([Number.NaN, Number.NaN, 1]);
    expect(h.oldest).toBe(T0 + 1000);
  });

  it('folds live ticks into minutes over 24 hours, the last minute open until the next begins', () => {
    const h = new ChartHistory('24h', { ...past([T0 + 60_000], [60_000]), range: '24h' });
    h.addTick(T0 + 61_000, 1000, new Map([['rs1', v(4)]]));
    h.addTick(T0 + 62_000, 1000, new Map([['rs1', v(8)]]));
    expect(h.at).toEqual([T0 + 60_000, T0 + 62_000]);
    expect(h.dests.get('rs1')!.cps).toEqual([2, 6]);
    h.addTick(T0 + 121_000, 1000, new Map([['rs1', v(1)]]));
    expect(h.at).toEqual([T0 + 60_000, T0 + 120_000, T0 + 121_000]);
    expect(h.ms).toEqual([60_000, 60_000, 60_000]);
    expect(h.dests.get('rs1')!.cps).toEqual([2, 6, 1]);
  });

  it('drops points older than the range', () => {
    const h = new ChartHistory('15m', past([T0, T0 + 1000], [1000, 1000]));
    h.addTick(T0 + 15 * 60_000 + 500, 1000, new Map([['rs1', v(1)]]));
    expect(h.at).toEqual([T0 + 1000, T0 + 15 * 60_000 + 500]);
  });
});
