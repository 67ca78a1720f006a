import { describe, expect, it } from 'vitest';
import { peerClaims, sameFenceReason } from './controller';

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

describe('peerClaims: which groups a peer claims, from its ha.status', () => {
  const st = (groups: unknown) => ({ zookeeper: { state: 'connected' }, groups }) as Parameters<typeof peerClaims>[1];
  it('VRRP master, the lease, or any VIP on its interface is a claim; BACKUP with none of them is not', () => {
    expect(peerClaims('lvs2', st([
      { name: 'web', vrrpState: 'MASTER', leaseHolder: null, vipsPresent: [] },
      { name: 'db', vrrpState: 'BACKUP', leaseHolder: 'lvs2', vipsPresent: [] },
      { name: 'dns', vrrpState: 'BACKUP', leaseHolder: null, vipsPresent: ['192.168.150.100'] },
      { name: 'mail', vrrpState: 'BACKUP', leaseHolder: 'lvs1', vipsPresent: [] },
    ]))).toEqual(['web', 'db', 'dns']);
  });
  it('an answer without readable groups claims everything (null), so the caller fences as before', () => {
    expect(peerClaims('lvs2', undefined)).toBeNull();
    expect(peerClaims('lvs2', { zookeeper: { state: 'connected' } })).toBeNull();
    expect(peerClaims('lvs2', st([{ vrrpState: 'BACKUP' }]))).toBeNull();
  });
});
