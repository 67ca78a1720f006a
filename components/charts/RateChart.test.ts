import { describe, expect, it } from 'vitest';
import { withGaps } from './RateChart';

describe('RateChart withGaps', () => {
  it('breaks the line inside a gap with no samples, not between samples a tick apart', () => {
    const t0 = 1_800_000_000_000;
    const times = [t0, t0 + 50_000, t0 + 51_000, t0 + 52_000];
    const { xs, ys } = withGaps(times, [{ label: 'rs1', color: '#000', values: [0, 1, 2, Number.NaN] }]);
    expect(xs).toEqual([t0 / 1000, t0 / 1000 + 25, t0 / 1000 + 50, t0 / 1000 + 51, t0 / 1000 + 52]);
    expect(ys).toEqual([[0, null, 1, 2, null]]);
  });

  it('leaves evenly spaced samples alone', () => {
    const times = [0, 1000, 2000, 3000];
    const { xs, ys } = withGaps(times, [{ label: 'a', color: '#000', values: [1, 2, 3, 4] }]);
    expect(xs).toEqual([0, 1, 2, 3]);
    expect(ys).toEqual([[1, 2, 3, 4]]);
  });
});
