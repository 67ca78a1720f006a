import { describe, expect, it } from 'vitest';
import { replicatedRemovals } from './hold';

describe('the hold rule for replicated changes', () => {
  it('holds a change removing every service, whatever the share', () => {
    expect(replicatedRemovals(['a'], [], 1)).toMatchObject({ hold: true, removed: ['a'], of: 1, reason: 'it removes every service (1 of 1)' });
    expect(replicatedRemovals(['a', 'b'], ['c'], 0.99)).toMatchObject({ hold: true, removed: ['a', 'b'] });
  });
  it('holds more than the share, lets the share itself through', () => {
    expect(replicatedRemovals(['a', 'b', 'c', 'd'], ['a', 'b'], 0.5)).toMatchObject({ hold: false, removed: ['c', 'd'] });
    expect(replicatedRemovals(['a', 'b', 'c', 'd'], ['a'], 0.5)).toMatchObject({ hold: true, reason: 'it removes 3 of 4 services (75 %, more than 50 %)' });
    expect(replicatedRemovals(['a', 'b', 'c'], ['a', 'b'], 0.2)).toMatchObject({ hold: true });
  });
  it('additions and an empty local table are never held', () => {
    expect(replicatedRemovals([], [], 0.5).hold).toBe(false);
    expect(replicatedRemovals([], ['a', 'b'], 0).hold).toBe(false);
    expect(replicatedRemovals(['a'], ['a', 'b'], 0).hold).toBe(false);
  });
});
