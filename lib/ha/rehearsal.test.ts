import { describe, expect, it } from 'vitest';
import type { HaStatus } from '../schemas/ha';
import { addToHistory, connTotals, failedChecks, preflight, trafficDelta, type PeerView, type RehearsalReport } from './rehearsal';

function status(director: string, role: 'MASTER' | 'BACKUP', over: Partial<HaStatus> = {}): HaStatus {
  return {
    director,
    enabled: true,
    zookeeper: { state: 'connected', since: 0, sessionTimeoutMs: 2000, failStatic: false, message: null },
    keepalived: { running: true, pid: 1, configPath: null, lastError: null },
    groups: [{
      name: 'web', vips: ['192.168.150.100/24'], virtualRouterId: 51, priority: 100, preempt: false, vrrpState: role,
      vipsPresent: role === 'MASTER' ? ['192.168.150.100'] : [], leaseHolder: 'lvs1', fenced: false, fenceReason: null, maintenance: false,
    }],
    syncDaemons: [{ state: role === 'MASTER' ? 'master' : 'backup', interface: 'eth1', syncId: 0 }],
    table: { appliedVersion: 7, zkVersion: 7, lastError: null, refused: null, held: null },
    transitions: [],
    ...over,
  };
}
const peer = (s: HaStatus | null, error: string | null = null): PeerView => ({ director: 'lvs2', status: s, error });
const bad = (checks: ReturnType<typeof preflight>) => checks.filter((c) => !c.ok).map((c) => c.name);

describe('rehearsal pre-flight', () => {
  it('passes when this director holds the lease and the peer is a synced, equal backup', () => {
    const checks = preflight('web', status('lvs1', 'MASTER'), [peer(status('lvs2', 'BACKUP'))]);
    expect(bad(checks)).toEqual([]);
    expect(failedChecks(checks)).toBeNull();
  });

  it('refuses on the backup: the lease is held elsewhere', () => {
    const checks = preflight('web', status('lvs2', 'BACKUP'), [{ director: 'lvs1', status: status('lvs1', 'MASTER'), error: null }]);
    expect(bad(checks)).toContain('lease');
    expect(failedChecks(checks)).toMatch(/held by lvs1, not lvs2/);
  });

  it('an unreachable peer fails peers, tables and sync, saying why', () => {
    const checks = preflight('web', status('lvs1', 'MASTER'), [peer(null, 'ECONNREFUSED')]);
    expect(bad(checks)).toEqual(['peers', 'tables', 'sync']);
    expect(checks.find((c) => c.name === 'peers')!.detail).toBe('lvs2: unreachable (ECONNREFUSED)');
  });

  it('unequal table versions, a held change, or a missing sync daemon each fail their check', () => {
    const self = status('lvs1', 'MASTER');
    expect(bad(preflight('web', self, [peer(status('lvs2', 'BACKUP', { table: { ...self.table, appliedVersion: 6 } }))]))).toEqual(['tables']);
    expect(bad(preflight('web', status('lvs1', 'MASTER', { table: { ...self.table, held: { at: 0, seq: 1, zkVersion: 8, from: 'x', reason: 'r', removed: [], removedCount: 1, of: 1 } } }),
      [peer(status('lvs2', 'BACKUP'))]))).toEqual(['tables']);
    expect(bad(preflight('web', self, [peer(status('lvs2', 'BACKUP', { syncDaemons: [] }))]))).toEqual(['sync']);
  });

  it('an unknown group, no peers, ZooKeeper down, a fenced peer fail', () => {
    expect(bad(preflight('db', status('lvs1', 'MASTER'), [peer(status('lvs2', 'BACKUP'))]))).toEqual(['lease', 'peers']);
    expect(bad(preflight('web', status('lvs1', 'MASTER'), []))).toEqual(['peers', 'tables', 'sync']);
    const down = status('lvs1', 'MASTER');
    down.zookeeper.state = 'disconnected';
    expect(bad(preflight('web', down, [peer(status('lvs2', 'BACKUP'))]))).toEqual(['zookeeper']);
    const fenced = status('lvs2', 'FAULT' as 'BACKUP');
    fenced.groups[0]!.fenced = true;
    expect(bad(preflight('web', status('lvs1', 'MASTER'), [peer(fenced)]))).toEqual(['peers']);
  });
});

describe('rehearsal figures', () => {
  it('sums connections and subtracts traffic counters', () => {
    expect(connTotals([{ destinations: [{ activeConns: 2, inactiveConns: 3 }, { activeConns: 1, inactiveConns: 0 }] }, { destinations: [] }]))
      .toEqual({ active: 3, inactive: 3 });
    expect(trafficDelta({ ok: 100, failed: 2 }, { ok: 180, failed: 5 })).toEqual({ ok: 80, failed: 3 });
    expect(trafficDelta(null, { ok: 1, failed: 0 })).toBeNull();
  });

  it('keeps the history newest first and bounded', () => {
    const r = (id: number) => ({ id } as RehearsalReport);
    let h: RehearsalReport[] = [];
    for (let i = 1; i <= 5; i++) h = addToHistory(h, r(i), 3);
    expect(h.map((x) => x.id)).toEqual([5, 4, 3]);
  });
});
