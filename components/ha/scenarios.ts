/** Named cluster states for the HA preview page and the view tests. */
import type { DirectorFeed, DirectorRef } from './cluster';
import { haStatus, healthyPair, masterMasterPair, T0 } from './fixtures';

export interface HaScenario {
  name: string;
  directors: DirectorRef[];
  feeds: () => Record<string, DirectorFeed>;
  alarmSince?: Array<[string, number]>;
}

const PAIR: DirectorRef[] = [{ id: 'lvs1', name: 'lvs1' }, { id: 'lvs2', name: 'lvs2' }];
const ok = (s: ReturnType<typeof haStatus>): DirectorFeed => ({ kind: 'ok', status: s, at: T0 });
const tr = (ago: number, kind: 'vrrp' | 'lease' | 'fence' | 'zookeeper' | 'sync' | 'operator' | 'keepalived' | 'table', from: string | null, to: string, reason: string) =>
  ({ at: T0 - ago, group: 'lan', kind, from, to, reason });

export const HA_SCENARIOS: HaScenario[] = [
  {
    name: 'master-master',
    directors: PAIR,
    feeds: () => {
      const { lvs1, lvs2 } = masterMasterPair();
      return { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    },
  },
  {
    name: 'master-master-one-holds-both',
    directors: PAIR,
    feeds: () => {
      const { lvs2 } = masterMasterPair('lvs2', 'lvs2', 12_000);
      return { lvs1: { kind: 'unreachable', error: 'connect ECONNREFUSED', since: T0 - 12_500, last: null, lastAt: null }, lvs2: ok(lvs2) };
    },
  },
  {
    name: 'healthy',
    directors: PAIR,
    feeds: () => {
      const { lvs1, lvs2 } = healthyPair();
      return { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    },
  },
  {
    name: 'split-brain',
    directors: PAIR,
    alarmSince: [['split 192.168.150.1 lvs1,lvs2', T0 - 1500], ['split 192.168.150.100 lvs1,lvs2', T0 - 1500]],
    feeds: () => {
      const { lvs1 } = healthyPair();
      const lvs2 = haStatus('lvs2', {
        groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs1', fenced: false }],
        syncDaemons: [{ state: 'backup', interface: 'hb0', syncId: 51 }],
        transitions: [
          tr(1500, 'vrrp', 'BACKUP', 'MASTER', 'keepalived: no advert from 10.150.1.1 for 1.5 s (heartbeat path cut?)'),
          tr(1400, 'fence', null, 'grace', 'VIPs present while lvs1 holds the lease: fencing after 2 s unless lvs1 lets it go'),
        ],
      });
      return { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    },
  },
  {
    name: 'zookeeper-down',
    directors: PAIR,
    feeds: () => {
      const { lvs1, lvs2 } = healthyPair();
      const zk = { state: 'disconnected' as const, since: T0 - 42_000, sessionTimeoutMs: 2000, failStatic: true, message: 'no ZooKeeper server answers at 192.168.150.250:2181; peers cannot reach it either' };
      return {
        lvs1: ok({ ...lvs1, zookeeper: zk, table: { ...lvs1.table, lastError: 'not replicated: ZooKeeper unreachable (applied locally)' }, transitions: [...lvs1.transitions, tr(42_000, 'zookeeper', 'connected', 'disconnected', 'connection lost'), tr(40_000, 'zookeeper', null, 'fail static', 'lvs2 cannot reach ZooKeeper either: keeping the VIPs')] }),
        lvs2: ok({ ...lvs2, zookeeper: zk }),
      };
    },
  },
  {
    name: 'agent-unreachable',
    directors: PAIR,
    alarmSince: [['unreachable lvs1', T0 - 7000]],
    feeds: () => {
      const { lvs1 } = healthyPair();
      const lvs2 = haStatus('lvs2', {
        groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs2' }],
        syncDaemons: [{ state: 'master', interface: 'hb0', syncId: 51 }],
        transitions: [
          tr(5200, 'lease', null, 'held', 'acquired the lease: lvs1\'s session expired'),
          tr(5600, 'vrrp', 'BACKUP', 'MASTER', 'keepalived: no advert from 10.150.1.1 for 1.5 s'),
          tr(4800, 'sync', 'backup', 'master', 'lease holder runs the master sync daemon'),
        ],
      });
      return {
        lvs1: { kind: 'unreachable', error: 'The agent at http://169.254.150.2:9581 did not answer (connection refused).', since: T0 - 7000, last: lvs1, lastAt: T0 - 7400 },
        lvs2: ok(lvs2),
      };
    },
  },
  {
    name: 'fenced',
    directors: PAIR,
    feeds: () => {
      const lvs1 = haStatus('lvs1', {
        zookeeper: { state: 'expired', since: T0 - 2500, message: 'session 0x1000 expired after 2000 ms' },
        groups: [{ priority: 150, vrrpState: 'FAULT', fenced: true, fenceReason: 'ZooKeeper session expired and lvs2 still reaches ZooKeeper: my lease is gone', leaseHolder: null }],
        syncDaemons: [{ state: 'backup', interface: 'hb0', syncId: 51 }],
        transitions: [tr(2500, 'zookeeper', 'connected', 'expired', 'session expired'), tr(2400, 'fence', null, 'fenced', 'session expired: dropping the VIPs'), tr(2300, 'vrrp', 'MASTER', 'FAULT', 'track file fence-lan non-zero')],
      });
      const lvs2 = haStatus('lvs2', {
        groups: [{ vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs2' }],
        syncDaemons: [{ state: 'master', interface: 'hb0', syncId: 51 }],
        transitions: [tr(1900, 'lease', null, 'held', 'acquired the lease: no holder'), tr(1800, 'vrrp', 'BACKUP', 'MASTER', 'lease bonus: priority 200 > 150')],
      });
      return { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    },
  },
  {
    name: 'maintenance',
    directors: PAIR,
    feeds: () => {
      const lvs1 = haStatus('lvs1', {
        groups: [{ priority: 150, preempt: true, vrrpState: 'FAULT', fenced: true, fenceReason: 'maintenance (operator admin)', maintenance: true, leaseHolder: 'lvs2' }],
        syncDaemons: [{ state: 'backup', interface: 'hb0', syncId: 51 }],
        transitions: [tr(60_000, 'operator', null, 'maintenance', 'maintenance on by admin')],
      });
      const lvs2 = haStatus('lvs2', {
        groups: [{ preempt: true, vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs2' }],
        syncDaemons: [{ state: 'master', interface: 'hb0', syncId: 51 }],
      });
      return { lvs1: ok(lvs1), lvs2: ok(lvs2) };
    },
  },
  {
    name: 'table-refused',
    directors: PAIR,
    feeds: () => {
      const { lvs1, lvs2 } = healthyPair();
      const refused = { at: T0 - 5000, zkVersion: 9, reason: 'unsigned: the shared table is not a signed payload (plain text or garbage)' };
      return {
        lvs1: ok({ ...lvs1, table: { appliedVersion: 8, zkVersion: 9, lastError: null, refused, held: null }, transitions: [...lvs1.transitions, tr(5000, 'table', null, 'refused', `shared table refused, nothing applied: ${refused.reason}`)] }),
        lvs2: ok({ ...lvs2, table: { appliedVersion: 8, zkVersion: 9, lastError: null, refused, held: null } }),
      };
    },
  },
  {
    name: 'table-held',
    directors: PAIR,
    feeds: () => {
      const { lvs1, lvs2 } = healthyPair();
      const held = {
        at: T0 - 3000, seq: 1_764_800_000_123, zkVersion: 12, from: 'lvs1', removedCount: 2, of: 2,
        removed: ['TCP 192.168.150.100:80', 'TCP 192.168.150.100:8090'],
        reason: 'a replicated change from lvs1 is held: it removes every service (2 of 2); confirm it to apply',
      };
      return {
        lvs1: ok({ ...lvs1, table: { appliedVersion: 12, zkVersion: 12, lastError: null, refused: null, held: null } }),
        lvs2: ok({ ...lvs2, table: { appliedVersion: 11, zkVersion: 12, lastError: null, refused: null, held }, transitions: [...lvs2.transitions, tr(3000, 'table', null, 'held', held.reason)] }),
      };
    },
  },
  {
    name: 'not-configured',
    directors: [{ id: 'lab', name: 'Lab director' }],
    feeds: () => ({ lab: ok(haStatus('lab', { enabled: false, groups: [] as never[], zookeeper: { state: 'disabled', message: null } })) }),
  },
];
