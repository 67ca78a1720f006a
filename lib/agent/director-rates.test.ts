import { describe, expect, it } from 'vitest';
import { roundRate } from './director-rates';

/** The definition: 3 significant digits as toPrecision gives them, at most two decimals. */
function reference(x: number): number {
  if (x === 0 || !Number.isFinite(x)) return 0;
  const r = Number(x.toPrecision(3));
  return Math.abs(r) >= 100 ? r : Math.round(r * 100) / 100;
}

describe('roundRate', () => {
  it('gives what toPrecision(3) gives, to the bit, for whole numbers', () => {
    for (let x = 0; x <= 1_200_000; x++) if (!Object.is(roundRate(x), reference(x))) expect(roundRate(x), String(x)).toBe(reference(x));
    let s = 12345;
    for (let i = 0; i < 200_000; i++) {
      s = (Math.imul(s, 1103515245) + 12345) >>> 0;
      const x = Math.floor((s / 2 ** 32) * 10 ** (1 + (i % 15)));
      if (!Object.is(roundRate(x), reference(x))) expect(roundRate(x), String(x)).toBe(reference(x));
    }
    for (const x of [99_950, 999_500, 1_000_500, 99_949, 2 ** 53 - 1, 1e15, -5, -0, 0.5, 12.345, 99.995, 1e300, NaN, Infinity]) {
      expect(Object.is(roundRate(x), reference(x)), String(x)).toBe(true);
    }
  });
});
