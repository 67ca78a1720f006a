import { describe, expect, it } from 'vitest';
import { addressEvents } from './ha-status';

// lines as `ip -ts -o monitor address` (iproute2 6.1) printed them on this project's host
const LOG = [
  '[2026-12-01T22:30:36.454400] 1: lo    inet 127.9.9.9/32 scope host lo\\       valid_lft forever preferred_lft forever',
  '[2026-12-01T22:30:37.100000] 3: lan0    inet 192.168.150.100/32 scope global lan0\\       valid_lft forever preferred_lft forever',
  '[2026-12-01T22:30:38.457673] Deleted 3: lan0    inet 192.168.150.100/32 scope global lan0\\       valid_lft forever preferred_lft forever',
  '[2026-12-01T22:30:39.000000] Deleted 1: lo    inet 127.9.9.9/32 scope host lo\\       valid_lft forever preferred_lft forever',
  '[2026-12-01T22:30:40.250000] 3: lan0    inet 192.168.150.100/32 scope global lan0\\       valid_lft forever preferred_lft forever',
  '[2026-12-01T22:30:40.3',
].join('\n');

describe('addressEvents (the VIP monitor log of the HA lab)', () => {
  it('gives the last add and delete of the address asked for, in local time, and ignores other addresses and a torn last line', () => {
    const e = addressEvents(LOG, '192.168.150.100');
    expect(e.addedAt).toBe(new Date(2026, 11, 1, 22, 30, 40, 250).getTime());
    expect(e.removedAt).toBe(new Date(2026, 11, 1, 22, 30, 38, 457).getTime());
    const lo = addressEvents(LOG, '127.9.9.9');
    expect(lo.addedAt! - lo.removedAt!).toBe(36_454 - 39_000);
  });

  it('does not take 192.168.150.10 for 192.168.150.100', () => {
    expect(addressEvents(LOG, '192.168.150.10')).toEqual({ addedAt: null, removedAt: null });
  });

  it('gives nulls for an empty log (no monitor)', () => {
    expect(addressEvents('', '192.168.150.100')).toEqual({ addedAt: null, removedAt: null });
  });
});
