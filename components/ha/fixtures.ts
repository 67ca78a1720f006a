/**
 * HA statuses built through the contract's schema, for the panel's unit tests
 * and its preview page (the agent side is not needed to exercise the view).
 */
import { haStatusSchema, type HaGroupStatus, type HaStatus } from '@/lib/schemas/ha';

export const T0 = Date.UTC(2026, 10, 25, 4, 0, 0);

export function groupStatus(over: Partial<HaGroupStatus> = {}): HaGroupStatus {
  return {
    name: 'lan',
    vips: ['192.168.150.100/32', '192.168.150.1/32'],
    virtualRouterId: 51,
    priority: 100,
    preempt: false,
    vrrpState: 'BACKUP',
    vipsPresent: [],
    leaseHolder: 'lvs1',
    fenced: false,
    fenceReason: null,
    maintenance: false,
    ...over,
  };
}

type StatusOver = Omit<Partial<HaStatus>, 'zookeeper' | 'groups'> & {
  zookeeper?: Partial<HaStatus['zookeeper']>;
  groups?: Array<Partial<HaGroupStatus>>;
};

/** A status as an agent would send it; parsed, so a fixture that breaks the contract fails loudly. */
export function haStatus(director: string, over: StatusOver = {}): HaStatus {
  const { zookeeper, groups, ...rest } = over;
  return haStatusSchema.parse({
    director,
    enabled: true,
    keepalived: { running: true, pid: 4242, configPath: `/run/director-lab/${director}/ha/keepalived.conf`, lastError: null },
    syncDaemons: [],
    table: { appliedVersion: 3, zkVersion: 3, lastError: null },
    transitions: [],
    ...rest,
    zookeeper: { state: 'connected', since: T0 - 60_000, sessionTimeoutMs: 2000, failStatic: false, message: null, ...zookeeper },
    groups: (groups ?? [{}]).map((g) => groupStatus(g)),
  });
}

/** The lab's healthy pair: lvs1 master and lease holder, lvs2 backup. */
export function healthyPair(): { lvs1: HaStatus; lvs2: HaStatus } {
  return {
    lvs1: haStatus('lvs1', {
      groups: [{ priority: 150, vrrpState: 'MASTER', vipsPresent: ['192.168.150.100', '192.168.150.1'], leaseHolder: 'lvs1' }],
      syncDaemons: [{ state: 'master', interface: 'hb0', syncId: 51 }],
      transitions: [
        { at: T0 - 30_000, group: 'lan', kind: 'lease', from: null, to: 'held', reason: 'acquired the lease: no holder, keepalived MASTER' },
        { at: T0 - 29_000, group: 'lan', kind: 'vrrp', from: 'BACKUP', to: 'MASTER', reason: 'keepalived: higher priority (150 + lease 100)' },
      ],
    }),
    lvs2: haStatus('lvs2', {
      groups: [{ priority: 100, vrrpState: 'BACKUP', vipsPresent: [], leaseHolder: 'lvs1' }],
      syncDaemons: [{ state: 'backup', interface: 'hb0', syncId: 51 }],
      transitions: [
        { at: T0 - 29_500, group: 'lan', kind: 'vrrp', from: 'INIT', to: 'BACKUP', reason: 'keepalived: lvs1 advertises a higher priority' },
      ],
    }),
  };
}

const mmGroups = (me: 'lvs1' | 'lvs2', g100: string, g101: string) => [
  { name: 'g100', vips: ['192.168.150.100/32'], virtualRouterId: 51, priority: me === 'lvs1' ? 150 : 100, leaseHolder: g100,
    vrrpState: (g100 === me ? 'MASTER' : 'BACKUP') as 'MASTER' | 'BACKUP', vipsPresent: g100 === me ? ['192.168.150.100/32'] : [] },
  { name: 'g101', vips: ['192.168.150.101/32'], virtualRouterId: 52, priority: me === 'lvs2' ? 150 : 100, leaseHolder: g101,
    vrrpState: (g101 === me ? 'MASTER' : 'BACKUP') as 'MASTER' | 'BACKUP', vipsPresent: g101 === me ? ['192.168.150.101/32'] : [] },
];

/**
 * The master-master lab (`npm start -- --ha master-master`): g100 held by `g100`, g101 by `g101`, each lease taken
 * `heldFor` ms before T0, DNS in front answering the VIPs of both groups.
 */
export function masterMasterPair(g100: 'lvs1' | 'lvs2' = 'lvs1', g101: 'lvs1' | 'lvs2' = 'lvs2', heldFor = 60_000): { lvs1: HaStatus; lvs2: HaStatus } {
  const st = (me: 'lvs1' | 'lvs2') => {
    const holds = [g100, g101].includes(me);
    const serves = [g100, g101].some((h) => h !== me);
    return haStatus(me, {
      groups: mmGroups(me, g100, g101),
      syncDaemons: [
        ...(holds ? [{ state: 'master' as const, interface: 'hb0', syncId: 51 }] : []),
        ...(serves ? [{ state: 'backup' as const, interface: 'hb0', syncId: 51 }] : []),
      ],
      dns: { name: 'www.director.test', server: '192.168.150.53', published: ['192.168.150.100', '192.168.150.101'], publishedAt: T0 - 20_000,
        resolved: ['192.168.150.100', '192.168.150.101'], resolvedAt: T0 - 500, error: null },
      transitions: (['g100', 'g101'] as const).filter((g) => (g === 'g100' ? g100 : g101) === me)
        .map((g) => ({ at: T0 - heldFor, group: g, kind: 'lease' as const, from: null, to: me, reason: 'took the free lease' })),
    });
  };
  return { lvs1: st('lvs1'), lvs2: st('lvs2') };
}
