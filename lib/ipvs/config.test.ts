import { describe, expect, it } from 'vitest';
import { diffTables } from '../agent/table-diff';
import { planRestore } from '../snapshot/plan';
import { sameDestinationConfig, sameServiceConfig } from './config';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceEntry } from './model';

const dest = (over: Partial<DestinationState> = {}): DestinationState => ({
  family: 'inet', address: '10.1.0.1', port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  tunnel: { ...DEFAULT_TUNNEL }, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: { ...ZERO_STATS }, ...over,
});
const svc = (over: Partial<ServiceEntry> = {}, d: Partial<DestinationState> = {}): ServiceEntry => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, stats: { ...ZERO_STATS },
  destinations: [dest(d)], ...over,
});
const persistent = { flags: { ...DEFAULT_FLAGS, persistent: true }, timeout: 300 };
const tun = { forward: 'tun' as const };

/** [what differs, before, after, the same configuration?] */
const cases: [string, ServiceEntry, ServiceEntry, boolean][] = [
  ['only counters', svc(), svc({ stats: { ...ZERO_STATS, conns: 7 } }, { activeConns: 3 }), true],
  ['the scheduler', svc(), svc({ scheduler: 'wrr' }), false],
  ['a scheduler flag', svc(), svc({ flags: { ...DEFAULT_FLAGS, sched1: true } }), false],
  ['the persistence engine', svc(persistent), svc({ ...persistent, pe: 'sip' }), false],
  ['the timeout of a persistent service', svc(persistent), svc({ ...persistent, timeout: 600 }), false],
  ['the mask of a persistent service', svc(persistent), svc({ ...persistent, netmask: '255.255.255.0' }), false],
  ['the timeout of a non-persistent service', svc(), svc({ timeout: 300 }), true],
  ['the mask of a non-persistent service', svc(), svc({ netmask: '255.255.255.0' }), true],
  ['a weight', svc(), svc({}, { weight: 5 }), false],
  ['a threshold', svc(), svc({}, { upperThreshold: 10 }), false],
  ['the forwarding method', svc(), svc({}, { forward: 'dr' }), false],
  ['the tunnel of a tunnelling server', svc({}, tun), svc({}, { ...tun, tunnel: { type: 'gue', port: 6080, checksum: 'nocsum' } }), false],
  ['the tunnel fields of a NAT server', svc(), svc({}, { tunnel: { type: 'gue', port: 6080, checksum: 'nocsum' } }), true],
];

describe('one definition of the same configuration', () => {
  it.each(cases)('%s: the change feed and the restore planner agree', (_what, before, after, same) => {
    const feedSees = diffTables([before], [after]).length > 0;
    const plannerSees = planRestore([before], [after]).length > 0;
    expect({ feedSees, plannerSees }).toEqual({ feedSees: !same, plannerSees: !same });
    expect(sameServiceConfig(before, after) && sameDestinationConfig(before.destinations[0]!, after.destinations[0]!)).toBe(same);
  });

  it('a real server or service at another address is not the same', () => {
    expect(sameDestinationConfig(dest(), dest({ port: 81 }))).toBe(false);
    expect(sameDestinationConfig(dest(), dest({ family: 'inet6', address: '::a' }))).toBe(false);
    expect(sameServiceConfig(svc(), svc({ key: { kind: 'fwmark', family: 'inet', fwmark: 1 } }))).toBe(false);
    expect(sameServiceConfig(svc(), svc({ key: { kind: 'addr', family: 'inet', protocol: 'udp', address: '10.0.0.1', port: 80 } }))).toBe(false);
  });
});
