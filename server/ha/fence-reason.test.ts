import { describe, expect, it } from 'vitest';
import { sameFenceReason } from './controller';

describe('sameFenceReason', () => {
  it('treats a reason whose only change is the elapsed time as the same reason', () => {
    expect(sameFenceReason(
      'ZooKeeper unreachable from here for 14352 ms while lvs2 is connected to ZooKeeper: my session has expired and the lease may be theirs',
      'ZooKeeper unreachable from here for 14405 ms while lvs2 is connected to ZooKeeper: my session has expired and the lease may be theirs',
    )).toBe(true);
  });
  it('tells different reasons apart', () => {
    expect(sameFenceReason('standing aside: lvs1 (priority 150, preempt) is back and healthy', 'ZooKeeper unreachable from here for 14352 ms while lvs2 is connected to ZooKeeper: my session has expired and the lease may be theirs')).toBe(false);
    expect(sameFenceReason(null, 'fenced')).toBe(false);
  });
});

describe('sameFenceReason and names', () => {
  it('keeps a change of peer apart (only durations are ignored)', () => {
    expect(sameFenceReason('ZooKeeper unreachable from here for 5000 ms while lvs2 is connected', 'ZooKeeper unreachable from here for 5250 ms while lvs3 is connected')).toBe(false);
  });
});
