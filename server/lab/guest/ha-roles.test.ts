import { describe, expect, it } from 'vitest';
import type { HaStatus } from '@/lib/schemas/ha';
import { roleFromStatus } from './ha-roles';

const group = (name: string, vrrpState: 'MASTER' | 'BACKUP' | 'FAULT', fenced = false) => ({ name, vrrpState, fenced, leaseHolder: 'lvs1' });

const status = (groups: ReturnType<typeof group>[], over: Partial<HaStatus> = {}): HaStatus => ({
  director: 'lvs2', enabled: true,
  zookeeper: { state: 'connected', since: 0, sessionTimeoutMs: 2000, failStatic: false, message: null },
  keepalived: { running: true, pid: 1, configPath: null, lastError: null },
  groups: groups as unknown as HaStatus['groups'], heartbeat: { ok: false, since: 0 }, syncDaemons: [],
  table: { appliedVersion: null, zkVersion: null, lastError: null }, transitions: [], ...over,
});

describe('roleFromStatus (a director\'s role from its agent\'s ha.status)', () => {
  it('takes the one group\'s VRRP state, fencing, lease holder, ZooKeeper state and heartbeat probe', () => {
    expect(roleFromStatus(status([group('lan', 'FAULT', true)]))).toEqual({
      state: 'FAULT', fenced: true, leaseHolder: 'lvs1', zookeeper: 'connected', heartbeatOk: false, error: null,
    });
  });

  it('names each group in master-master, and says when HA is off', () => {
    expect(roleFromStatus(status([group('g100', 'MASTER'), group('g101', 'BACKUP')])).state).toBe('g100 MASTER, g101 BACKUP');
    expect(roleFromStatus(status([], { enabled: false, heartbeat: null })).state).toBe('HA off');
  });
});
