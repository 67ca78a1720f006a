import { describe, expect, it } from 'vitest';
import { reconnectDelayMs } from './backoff';

describe('reconnectDelayMs', () => {
  it('doubles from 500 ms and caps at 30 s without jitter', () => {
    const mid = () => 0.5;
    expect([0, 1, 2, 3, 6, 7, 20].map((a) => reconnectDelayMs(a, mid))).toEqual([500, 1000, 2000, 4000, 30_000, 30_000, 30_000]);
  });
  it('stays within ±20 % jitter', () => {
    expect(reconnectDelayMs(2, () => 0)).toBe(1600);
    expect(reconnectDelayMs(2, () => 0.999999)).toBe(2400);
  });
});
