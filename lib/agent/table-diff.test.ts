import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceEntry } from '../ipvs/model';
import { diffTables } from './table-diff';

const dest = (last: number, over: Partial<DestinationState> = {}): DestinationState => ({
  family: 'inet', address: `10.1.0.${last}`, port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  tunnel: { ...DEFAULT_TUNNEL }, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: { ...ZERO_STATS }, ...over,
});
const entry = (destinations: DestinationState[]): ServiceEntry => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
  scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, stats: { ...ZERO_STATS }, destinations,
});

describe('diffTables on one service whose real servers are new objects', () => {
  const before = [dest(1), dest(2), dest(3)];
  const cases: [string, DestinationState[], string[]][] = [
    ['only counters and connection counts moved', [dest(1, { activeConns: 5, stats: { ...ZERO_STATS, conns: 9 } }), dest(2, { inactiveConns: 1 }), dest(3)], []],
    ['the same servers in another order', [dest(3), dest(1), dest(2)], []],
    ['a weight', [dest(1), dest(2, { weight: 0 }), dest(3)], ['destination_changed']],
    ['a forwarding method', [dest(1), dest(2), dest(3, { forward: 'dr' })], ['destination_changed']],
    ['a threshold', [dest(1, { upperThreshold: 100 }), dest(2), dest(3)], ['destination_changed']],
    ['tunnelling with GUE', [dest(1), dest(2, { forward: 'tun', tunnel: { ...DEFAULT_TUNNEL, type: 'gue', port: 6080 } }), dest(3)], ['destination_changed']],
    ['tunnel fields of a NAT server (meaningless, as the planner sees them)', [dest(1), dest(2, { tunnel: { ...DEFAULT_TUNNEL, type: 'gue', port: 6080 } }), dest(3)], []],
    ['a port', [dest(1), dest(2, { port: 8080 }), dest(3)], ['destination_added', 'destination_removed']],
    ['one removed', [dest(1), dest(3)], ['destination_removed']],
    ['one added', [dest(1), dest(2), dest(3), dest(4)], ['destination_added']],
  ];
  it.each(cases)('%s', (_name, after, types) => {
    expect(diffTables([entry(before)], [entry(after)]).map((c) => c.type).sort()).toEqual(types);
  });
});
