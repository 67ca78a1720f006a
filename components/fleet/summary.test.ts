import { describe, expect, it } from 'vitest';
import type { HaStatus } from '@/lib/schemas/ha';
import { fleetAlarms, fleetRow } from './summary';

import { summarizeTable } from '@/lib/agent/table-summary';

const svc = (weights: number[], cps = 0) => ({ destinations: weights.map((weight) => ({ weight })), stats: { cps, inBps: 100, outBps: 50 } });
const table = (...services: ReturnType<typeof svc>[]) => summarizeTable(services);
const ha = (director: string, state: 'MASTER' | 'BACKUP', vipsPresent: string[], over: Partial<HaStatus['groups'][number]> = {}): HaStatus => ({
  director, enabled: true,
  zookeeper: { state: 'connected', since: 0, sessionTimeoutMs: 4000, failStatic: false, message: null },
  keepalived: { running: true, pid: 1, configPath: null, lastError: null },
  groups: [{ name: 'web', vips: ['192.168.150.100'], virtualRouterId: 51, priority: 100, preempt: false, vrrpState: state, vipsPresent, leaseHolder: 'lvs1', fenced: false, fenceReason: null, maintenance: false, ...over }],
  heartbeat: null, syncDaemons: [], table: { appliedVersion: null, zkVersion: null, lastError: null }, transitions: [],
});

describe('fleet rows', () => {
  it('sums services, real servers up of total, rates; names the last change in words and who made it', () => {
    const r = fleetRow({
      id: 'a', name: 'lvs1', summary: table(svc([1, 0], 2), svc([3], 1.5)), ha: null, health: [],
      lastChange: { at: '2026-12-04T10:00:00Z', op: 'destinations.update', actor: 'alice', tokenName: 'console' },
    });
    expect(r).toMatchObject({ reachable: true, services: 2, up: 2, total: 3, cps: 3.5, bps: 300, alarms: [] });
    expect(r.lastChange).toEqual({ at: '2026-12-04T10:00:00Z', what: 'Edited a real server', who: 'alice' });
  });

  it('a director that does not answer is a row marked unreachable, with why', () => {
    const r = fleetRow({ id: 'c', name: 'lvs3', error: 'connect ECONNREFUSED 127.0.0.1:9' });
    expect(r).toMatchObject({ reachable: false, error: 'connect ECONNREFUSED 127.0.0.1:9', services: 0, alarms: [{ tone: 'danger', text: 'unreachable' }] });
  });

  it('raises services with no real server, failing checks, fencing and ZooKeeper trouble', () => {
    const h = ha('lvs2', 'FAULT' as 'BACKUP', [], { fenced: true });
    h.zookeeper.state = 'disconnected';
    const r = fleetRow({ id: 'b', name: 'lvs2', summary: table(svc([0, 0])), skew: 2, ha: h, health: [{ health: 'down', maintenance: false }, { health: 'down', maintenance: true }, { health: 'up', maintenance: false }] });
    expect(r.alarms.map((a) => a.text)).toEqual(['1 service with no real server in service', '2 services with hash skew', '1 failing health check', 'fenced in web', 'ZooKeeper disconnected']);
    expect(r.ha).toEqual([{ group: 'web', state: 'FAULT', fenced: true, leaseHere: false }]);
  });

  it('a service changed outside Director is an alarm naming it, with its diff and its page', () => {
    const r = fleetRow({
      id: 'a', name: 'lvs1',
      outside: [{ serviceId: 'tcp:192.168.150.100:80', label: 'TCP 192.168.150.100:80', changes: ['real server 10.0.0.2:80: weight 1 → 5'] }],
    });
    expect(r.alarms).toEqual([{
      tone: 'warn', text: 'changed outside Director: TCP 192.168.150.100:80', detail: 'real server 10.0.0.2:80: weight 1 → 5', service: 'tcp:192.168.150.100:80',
    }]);
    expect(fleetRow({ id: 'a', name: 'lvs1', outside: null }).alarms).toEqual([]);
  });

  it('split brain: a VIP present on two directors is a fleet alarm; one holder is not', () => {
    const ok = [{ id: 'a', name: 'lvs1', ha: ha('lvs1', 'MASTER', ['192.168.150.100']) }, { id: 'b', name: 'lvs2', ha: ha('lvs2', 'BACKUP', []) }];
    expect(fleetAlarms(ok)).toEqual([]);
    const both = [ok[0]!, { id: 'b', name: 'lvs2', ha: ha('lvs2', 'MASTER', ['192.168.150.100']) }];
    expect(fleetAlarms(both)).toEqual([{ tone: 'danger', text: 'split brain: 192.168.150.100 (web) is on lvs1 and lvs2' }]);
  });
});
