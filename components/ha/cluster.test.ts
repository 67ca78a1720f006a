import { describe, expect, it } from 'vitest';
import { ALL_HELD_ALARM_MS, buildClusterView, carrySince, feedAfterFailure, findSplitBrain, trackedAlarmKeys, vipAddress, type DirectorFeed } from './cluster';
import { haStatus, healthyPair, masterMasterPair, T0 } from './fixtures';

const DIRS = [{ id: 'lvs1', name: 'lvs1' }, { id: 'lvs2', name: 'lvs2' }];
const ok = (s: ReturnType<typeof haStatus>): DirectorFeed => ({ kind: 'ok', status: s, at: T0 });

describe('vipAddress', () => {
  it('drops the prefix and canonicalises', () => {
    expect(vipAddress('192.168.150.100/32')).toBe('192.168.150.100');
    expect(vipAddress('2001:DB8::0:1/128')).toBe('2001:db8::1');
    expect(vipAddress('not-an-ip')).toBe('not-an-ip');
  });
});

describe('findSplitBrain', () => {
  it('finds nothing when one director holds the VIPs', () => {
    const { lvs1, lvs2 } = healthyPair();
    expect(findSplitBrain([lvs1, lvs2])).toEqual([]);
  });

  it('reports a VIP present on two directors, whatever the prefix notation', () => {
    const { lvs1 } = healthyPair();
    const lvs2 = haStatus('lvs2', { groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.100/32'] }] });
    expect(findSplitBrain([lvs1, lvs2])).toEqual([{ group: 'lan', vip: '192.168.150.100', directors: ['lvs1', 'lvs2'] }]);
  });

  it('goes by the kernel (vipsPresent), not by keepalived: two MASTERs with one VIP holder is no split brain', () => {
    const { lvs1 } = healthyPair();
    const lvs2 = haStatus('lvs2', { groups: [{ vrrpState: 'MASTER', vipsPresent: [] }] });
    expect(findSplitBrain([lvs1, lvs2])).toEqual([]);
    const lvs1Killed = haStatus('lvs1', { groups: [{ vrrpState: 'STOP', vipsPresent: ['192.168.150.1'] }] });
    const lvs2Master = haStatus('lvs2', { groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.1', '192.168.150.100'] }] });
    expect(findSplitBrain([lvs1Killed, lvs2Master]).map((s) => s.vip)).toEqual(['192.168.150.1']);
  });

  it('matches across groups with different names and ignores directors without HA', () => {
    const a = haStatus('a', { groups: [{ name: 'one', vipsPresent: ['10.0.0.1'] }] });
    const b = haStatus('b', { groups: [{ name: 'two', vipsPresent: ['10.0.0.1'] }] });
    const c = haStatus('c', { enabled: false, groups: [{ vipsPresent: ['10.0.0.1'] }] });
    expect(findSplitBrain([a, b, c])).toEqual([{ group: 'one', vip: '10.0.0.1', directors: ['a', 'b'] }]);
    expect(findSplitBrain([a, c])).toEqual([]);
  });

  it('lists three directors once each', () => {
    const s = ['c', 'a', 'b'].map((d) => haStatus(d, { groups: [{ vipsPresent: ['10.0.0.1', '10.0.0.1/32'] }] }));
    expect(findSplitBrain(s)).toEqual([{ group: 'lan', vip: '10.0.0.1', directors: ['a', 'b', 'c'] }]);
  });
});

describe('carrySince', () => {
  it('keeps the first sighting while a key stays and forgets it when it goes', () => {
    const a = carrySince(new Map(), ['x'], 1000);
    const b = carrySince(a, ['x', 'y'], 2000);
    expect([...b]).toEqual([['x', 1000], ['y', 2000]]);
    const c = carrySince(b, ['y'], 3000);
    expect([...c]).toEqual([['y', 2000]]);
    expect([...carrySince(c, ['x'], 4000)]).toEqual([['x', 4000]]);
  });
});

describe('buildClusterView', () => {
  it('shows the healthy pair: holder per VIP, lease holder, no alarms, merged timeline newest first', () => {
    const { lvs1, lvs2 } = healthyPair();
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0);
    expect(v.alarms).toEqual([]);
    expect(v.loading).toBe(false);
    expect(v.groups).toHaveLength(1);
    const g = v.groups[0]!;
    expect(g.leaseHolder).toBe('lvs1');
    expect(g.leaseUncertain).toBe(false);
    expect(g.preempt).toBe(false);
    expect(g.vips).toEqual([
      { vip: '192.168.150.100', holders: ['lvs1'], maybe: [] },
      { vip: '192.168.150.1', holders: ['lvs1'], maybe: [] },
    ]);
    expect(g.members.map((m) => [m.director, m.vrrpState, m.priority])).toEqual([['lvs1', 'MASTER', 150], ['lvs2', 'BACKUP', 100]]);
    expect(v.timeline.map((t) => [t.director, t.to])).toEqual([['lvs1', 'MASTER'], ['lvs2', 'BACKUP'], ['lvs1', 'held']]);
  });

  it('raises the split-brain alarm with how long it has lasted', () => {
    const { lvs1 } = healthyPair();
    const lvs2 = haStatus('lvs2', { groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs1' }] });
    const feeds = { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    const keys = trackedAlarmKeys(DIRS, feeds);
    expect(keys).toEqual(['split 192.168.150.1 lvs1,lvs2', 'split 192.168.150.100 lvs1,lvs2']);
    const since = carrySince(new Map(), keys, T0 - 4000);
    const v = buildClusterView(DIRS, feeds, T0, since);
    expect(v.groups[0]!.splitBrain).toBe(true);
    const alarm = v.alarms.find((a) => a.id.startsWith('split 192.168.150.100'))!;
    expect(alarm.tone).toBe('danger');
    expect(alarm.title).toBe('Split brain: 192.168.150.100 is on lvs1 and lvs2 at once');
    expect(alarm.since).toBe(T0 - 4000);
  });

  it('does not count an unreachable director\'s stale VIPs as split brain, but says it may still hold them', () => {
    const { lvs1 } = healthyPair();
    const lvs2 = haStatus('lvs2', { groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs2' }] });
    const v = buildClusterView(DIRS, {
      lvs1: { kind: 'unreachable', error: 'The agent did not answer.', since: T0 - 5000, last: lvs1, lastAt: T0 - 6000 },
      lvs2: ok(lvs2),
    }, T0);
    expect(v.splitBrain).toEqual([]);
    expect(v.groups[0]!.vips[0]).toEqual({ vip: '192.168.150.100', holders: ['lvs2'], maybe: ['lvs1'] });
    const a = v.alarms.find((x) => x.id === 'unreachable lvs1')!;
    expect(a.tone).toBe('danger');
    expect(a.detail).toContain('6 s old');
    expect(a.detail).toContain('192.168.150.100, 192.168.150.1');
    // the lease view comes from the director still connected to ZooKeeper
    expect(v.groups[0]!.leaseHolder).toBe('lvs2');
    expect(v.cards[0]!.staleSince).toBe(6000);
  });

  it('says loudly when ZooKeeper is down and the master fails static', () => {
    const { lvs1, lvs2 } = healthyPair();
    const down = { state: 'disconnected' as const, since: T0 - 8000, failStatic: true, message: 'no server at 192.168.150.250:2181' };
    const v = buildClusterView(DIRS, {
      lvs1: ok({ ...lvs1, zookeeper: { ...lvs1.zookeeper, ...down } }),
      lvs2: ok({ ...lvs2, zookeeper: { ...lvs2.zookeeper, ...down } }),
    }, T0);
    const fs = v.alarms.filter((a) => a.id.startsWith('failstatic'));
    expect(fs).toHaveLength(1);
    expect(fs[0]!.title).toBe('ZooKeeper is unreachable: lvs1 and lvs2 keep serving as is (fail static)');
    expect(fs[0]!.detail).toContain('no server at 192.168.150.250:2181');
    expect(fs[0]!.since).toBe(T0 - 8000);
    // no second, quieter banner per director for the same cause
    expect(v.alarms.filter((a) => a.id.startsWith('zk '))).toEqual([]);
    // no director connected: the lease comes from the last views and is marked uncertain
    expect(v.groups[0]!.leaseHolder).toBe('lvs1');
    expect(v.groups[0]!.leaseUncertain).toBe(true);
  });

  it('warns about a director that lost its session and is fenced', () => {
    const { lvs1 } = healthyPair();
    const lvs2 = haStatus('lvs2', {
      zookeeper: { state: 'expired', since: T0 - 3000 },
      groups: [{ vrrpState: 'FAULT', fenced: true, fenceReason: 'ZooKeeper session expired', leaseHolder: null }],
    });
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0);
    const a = v.alarms.find((x) => x.id === 'zk lvs2')!;
    expect(a.tone).toBe('warn');
    expect(a.title).toContain('(expired)');
    expect(a.detail).toContain('fenced');
    // only connected directors decide the lease: lvs2's null does not make it uncertain
    expect(v.groups[0]!.leaseHolder).toBe('lvs1');
    expect(v.groups[0]!.leaseUncertain).toBe(false);
  });

  it('alarms on a VIP nobody holds and on directors disagreeing about the lease', () => {
    const lvs1 = haStatus('lvs1', { groups: [{ vrrpState: 'FAULT', leaseHolder: 'lvs1' }] });
    const lvs2 = haStatus('lvs2', { groups: [{ vrrpState: 'BACKUP', leaseHolder: 'lvs2' }] });
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0);
    expect(v.alarms.filter((a) => a.id.startsWith('novip')).map((a) => a.title)).toEqual([
      'No director holds 192.168.150.100 (group lan)',
      'No director holds 192.168.150.1 (group lan)',
    ]);
    expect(v.groups[0]!.leaseUncertain).toBe(true);
  });

  it('lists directors without HA configuration apart and keeps them out of the groups', () => {
    const { lvs1 } = healthyPair();
    const plain = haStatus('lab', { enabled: false, groups: [] as never[] });
    const v = buildClusterView([...DIRS.slice(0, 1), { id: 'lab', name: 'Lab' }], { lvs1: ok(lvs1), lab: ok(plain) }, T0);
    expect(v.notConfigured).toEqual([{ id: 'lab', name: 'Lab' }]);
    expect(v.groups[0]!.members.map((m) => m.director)).toEqual(['lvs1']);
  });

  it('is loading until every director has answered or failed', () => {
    const { lvs1 } = healthyPair();
    expect(buildClusterView(DIRS, { lvs1: ok(lvs1) }, T0).loading).toBe(true);
  });

  it('flags mixed preempt, stopped keepalived and table replication errors', () => {
    const { lvs1 } = healthyPair();
    const lvs2 = haStatus('lvs2', {
      keepalived: { running: false, pid: null, configPath: null, lastError: null },
      table: { appliedVersion: 2, zkVersion: 3, lastError: 'not replicated: ZooKeeper unreachable' },
      groups: [{ preempt: true }],
    });
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0);
    expect(v.groups[0]!.preempt).toBe('mixed');
    expect(v.alarms.map((a) => a.id)).toEqual(expect.arrayContaining(['preempt lan', 'keepalived lvs2', 'table lvs2']));
    expect(v.alarms.find((a) => a.id === 'keepalived lvs2')!.title).toBe('keepalived is not running on lvs2');
  });

  it('merges timelines, drops duplicates and keeps the newest within the limit', () => {
    const tr = (at: number, to: string) => ({ at, group: 'lan', kind: 'vrrp' as const, from: null, to, reason: 'r' });
    const lvs1 = haStatus('lvs1', { transitions: [tr(T0 - 10, 'A'), tr(T0 - 10, 'A'), tr(T0 - 30, 'C')] });
    const lvs2 = haStatus('lvs2', { transitions: [tr(T0 - 20, 'B'), tr(T0 - 40, 'D')] });
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0, new Map(), 3);
    expect(v.timeline.map((t) => `${t.director}:${t.to}`)).toEqual(['lvs1:A', 'lvs2:B', 'lvs1:C']);
  });
});

describe('feedAfterFailure', () => {
  it('keeps the last status and the time of the first failure across repeated failures', () => {
    const { lvs1 } = healthyPair();
    const first = feedAfterFailure({ kind: 'ok', status: lvs1, at: T0 - 3000 }, 'refused', T0);
    expect(first).toEqual({ kind: 'unreachable', error: 'refused', since: T0, last: lvs1, lastAt: T0 - 3000 });
    const again = feedAfterFailure(first, 'timed out', T0 + 4000);
    expect(again).toEqual({ kind: 'unreachable', error: 'timed out', since: T0, last: lvs1, lastAt: T0 - 3000 });
    expect(feedAfterFailure(undefined, 'refused', T0)).toEqual({ kind: 'unreachable', error: 'refused', since: T0, last: null, lastAt: null });
  });
});

describe('master-master: two groups', () => {
  it('one master each: no all-held alarm; the DNS view is the freshest answer', () => {
    const { lvs1, lvs2 } = masterMasterPair();
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0);
    expect(v.groups.map((g) => [g.name, g.leaseHolder, g.vips[0]!.holders])).toEqual([['g100', 'lvs1', ['lvs1']], ['g101', 'lvs2', ['lvs2']]]);
    expect(v.allHeld).toBeNull();
    expect(v.alarms).toEqual([]);
    expect(v.dns).toMatchObject({ name: 'www.director.test', resolved: ['192.168.150.100', '192.168.150.101'] });
  });

  it('one director holding both for less than a failover takes: tracked, no alarm yet', () => {
    const { lvs1, lvs2 } = masterMasterPair('lvs2', 'lvs2', ALL_HELD_ALARM_MS - 1000);
    const feeds = { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    const v = buildClusterView(DIRS, feeds, T0);
    expect(v.allHeld).toEqual({ director: 'lvs2', groups: ['g100', 'g101'], since: T0 - ALL_HELD_ALARM_MS + 1000 });
    expect(v.alarms.filter((a) => a.id.startsWith('allheld'))).toEqual([]);
    expect(trackedAlarmKeys(DIRS, feeds)).toContain('allheld lvs2');
  });

  it('one director holding both for longer: a fleet alarm naming it, since the last group came to it', () => {
    const { lvs1, lvs2 } = masterMasterPair('lvs2', 'lvs2', 12_000);
    const v = buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0);
    const a = v.alarms.find((x) => x.id === 'allheld lvs2')!;
    expect(a.tone).toBe('danger');
    expect(a.title).toBe('lvs2 holds every VIP group (g100, g101)');
    expect(a.since).toBe(T0 - 12_000);
  });

  it('without lease transitions to go by, the page\'s first sighting dates it', () => {
    const { lvs1, lvs2 } = masterMasterPair('lvs2', 'lvs2');
    const bare = { ...lvs2, transitions: [] };
    const v = buildClusterView(DIRS, { lvs1: ok({ ...lvs1, transitions: [] }), lvs2: ok(bare) }, T0, new Map([['allheld lvs2', T0 - 8000]]));
    expect(v.alarms.find((x) => x.id === 'allheld lvs2')?.since).toBe(T0 - 8000);
  });

  it('one group only: never an all-held alarm', () => {
    const { lvs1, lvs2 } = healthyPair();
    expect(buildClusterView(DIRS, { lvs1: ok(lvs1), lvs2: ok(lvs2) }, T0).allHeld).toBeNull();
  });
});
