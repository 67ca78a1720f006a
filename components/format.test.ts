import { describe, expect, it } from 'vitest';
import { formatBitRate, formatBytes, formatCount, formatDuration, formatPercent, formatRate } from './format';

describe('formatCount', () => {
  it.each([
    [0, '0'], [7, '7'], [999, '999'], [1000, '1.00k'], [1234, '1.23k'], [12_345, '12.3k'],
    [999_600, '1.00M'], [2_500_000_000, '2.50G'], [0.5, '0.50'], [Number.NaN, '–'],
  ])('%s → %s', (n, s) => expect(formatCount(n)).toBe(s));
});

describe('formatRate', () => {
  it.each([[0, '0/s'], [0.25, '0.25/s'], [12.5, '12.5/s'], [1200, '1.20k/s'], [999.99, '1.00k/s']])(
    '%s → %s', (n, s) => expect(formatRate(n)).toBe(s));
});

describe('formatBytes', () => {
  it.each([[0, '0 B'], [512, '512 B'], [1536, '1.50 KiB'], [1024 ** 3 * 3.2, '3.20 GiB'], [1023.9, '1024 B']])(
    '%s → %s', (n, s) => expect(formatBytes(n)).toBe(s));
});

describe('formatBitRate', () => {
  it('reads bytes/s as bits/s', () => {
    expect(formatBitRate(1_000_000)).toBe('8.00 Mbit/s');
    expect(formatBitRate(0)).toBe('0 bit/s');
  });
});

describe('formatPercent', () => {
  it.each([[0, '0%'], [0.4567, '45.7%'], [1, '100%'], [1.7, '100%'], [-1, '0%']])(
    '%s → %s', (n, s) => expect(formatPercent(n)).toBe(s));
});

describe('formatDuration', () => {
  it.each([[0, '0s'], [59.9, '59s'], [125, '2m05s'], [3600, '1h00m'], [-1, '–']])(
    '%s → %s', (n, s) => expect(formatDuration(n)).toBe(s));
});

describe('width stability', () => {
  it('keeps rates within 8 characters across magnitudes', () => {
    for (let e = -2; e < 15; e += 0.37) {
      expect(formatRate(10 ** e).length).toBeLessThanOrEqual(8);
    }
  });
});
