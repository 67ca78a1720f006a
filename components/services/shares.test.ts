import { describe, expect, it } from 'vitest';
import { computeShares, schedulerIgnoresWeights } from './shares';

describe('computeShares', () => {
  it('puts connection share beside weight share', () => {
    const s = computeShares([{ id: 'a', weight: 3, newConns: 30 }, { id: 'b', weight: 1, newConns: 70 }]);
    expect(s[0]).toMatchObject({ id: 'a', weightShare: 0.75, connShare: 0.3 });
    expect(s[0]!.skew).toBeCloseTo(-0.45);
    expect(s[1]!.skew).toBeCloseTo(0.45);
  });
  it('gives null skew without traffic and zero shares without weight', () => {
    const s = computeShares([{ id: 'a', weight: 0, newConns: 0 }, { id: 'b', weight: 0, newConns: 0 }]);
    expect(s).toEqual([
      { id: 'a', weightShare: 0, connShare: 0, skew: null },
      { id: 'b', weightShare: 0, connShare: 0, skew: null },
    ]);
  });
  it('treats a drained server (weight 0) as 0 % of weight', () => {
    const s = computeShares([{ id: 'a', weight: 0, newConns: 5 }, { id: 'b', weight: 2, newConns: 5 }]);
    expect(s.map((x) => x.weightShare)).toEqual([0, 1]);
    expect(s.map((x) => x.connShare)).toEqual([0.5, 0.5]);
  });
});

describe('schedulerIgnoresWeights', () => {
  it('knows rr ignores weights and wrr does not', () => {
    expect(schedulerIgnoresWeights('rr')).toBe(true);
    expect(schedulerIgnoresWeights('wrr')).toBe(false);
    expect(schedulerIgnoresWeights('wlc')).toBe(false);
  });
});
