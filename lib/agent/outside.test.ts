import { describe, expect, it } from 'vitest';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey, type ServiceRules } from '../ipvs/model';
import { serviceId } from '../ipvs/ids';
import { absorbWrite, describeChange, diffRules, outsideChanges, rulesTable, touchedServices } from './outside';

const key = (last: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${last}`, port: 80 });
const dest = (last: number, over: Partial<DestinationSpec> = {}): DestinationSpec => ({
  family: 'inet', address: `10.1.0.${last}`, port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0,
  tunnel: { ...DEFAULT_TUNNEL }, ...over,
});
const svc = (last: number, destinations: DestinationSpec[], over: Partial<ServiceRules> = {}): ServiceRules => ({
  key: key(last), scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, destinations, ...over,
});

describe('diffRules: from what Director wrote to what the table holds', () => {
  it('names each real server that was added, removed or changed, and the service settings', () => {
    const changes = diffRules(svc(1, [dest(1), dest(2)]), svc(1, [dest(1, { weight: 5 }), dest(3)], { scheduler: 'wlc' }));
    expect(changes.map(describeChange)).toEqual([
      'scheduler rr → wlc',
      'real server 10.1.0.2:80 removed',
      'real server 10.1.0.1:80: weight 1 → 5',
      'real server 10.1.0.3:80 added (nat, weight 1)',
    ]);
  });
  it('a whole service added or removed', () => {
    expect(diffRules(null, svc(1, [dest(1)])).map(describeChange)).toEqual(['service added (rr, 1 real server(s))']);
    expect(diffRules(svc(1, []), null).map(describeChange)).toEqual(['service removed']);
  });
  it('counts nothing that is not configuration (order of real servers, tunnel fields of a NAT server)', () => {
    expect(diffRules(svc(1, [dest(1), dest(2)]), svc(1, [dest(2), dest(1, { tunnel: { ...DEFAULT_TUNNEL, type: 'gue', port: 6080 } })]))).toEqual([]);
  });
});

describe('outsideChanges', () => {
  const expected = rulesTable([svc(1, [dest(1)]), svc(2, [dest(2)])]);
  let n = 0;
  const next = () => ++n;

  it('raises nothing while the table is what Director wrote', () => {
    expect(outsideChanges(expected, rulesTable([svc(2, [dest(2)]), svc(1, [dest(1)])]), [], 0, next)).toEqual([]);
  });

  it('one per differing service, with the diff; the same difference keeps its id, a further edit gets a new one', () => {
    const observed = rulesTable([svc(1, [dest(1, { weight: 0 })]), svc(2, [dest(2)]), svc(3, [])]);
    const first = outsideChanges(expected, observed, [], 100, next);
    expect(first.map((c) => [c.serviceId, c.changes.map((x) => x.type)])).toEqual([
      [serviceId(key(1)), ['destination_changed']],
      [serviceId(key(3)), ['service_added']],
    ]);
    expect(first[1]!.expected).toBeNull();
    const again = outsideChanges(expected, observed, first, 200, next);
    expect(again).toEqual(first);
    const edited = rulesTable([svc(1, [dest(1, { weight: 7 })]), svc(2, [dest(2)]), svc(3, [])]);
    const third = outsideChanges(expected, edited, again, 300, next);
    const of = (list: typeof first, last: number) => list.find((c) => c.serviceId === serviceId(key(last)))!;
    expect(of(third, 3)).toBe(of(first, 3));
    expect(of(third, 1).id).toBeGreaterThan(of(first, 3).id);
    expect(of(third, 1).changes.map(describeChange)).toEqual(['real server 10.1.0.1:80: weight 1 → 7']);
    expect(of(third, 1).since).toBe(100);
  });
});

describe('absorbWrite: what a journaled write left becomes expected', () => {
  it('takes services and real servers as the write left them', () => {
    const t = rulesTable([svc(1, [dest(1), dest(2)])]);
    const unplaced = absorbWrite(t, [
      { kind: 'destination', service: key(1), before: dest(1), after: dest(1, { weight: 9 }) },
      { kind: 'destination', service: key(1), before: dest(2), after: null },
      { kind: 'service', key: key(2), before: null, after: svc(2, [dest(5)]) },
      { kind: 'destination', service: key(4), before: null, after: dest(4) },
      { kind: 'timeouts', before: { tcp: 1, tcpFin: 1, udp: 1 }, after: { tcp: 2, tcpFin: 2, udp: 2 } },
    ]);
    expect([...unplaced]).toEqual([serviceId(key(4))]);
    expect(outsideChanges(t, rulesTable([svc(1, [dest(1, { weight: 9 })]), svc(2, [dest(5)])]), [], 0, () => 1)).toEqual([]);
    absorbWrite(t, [{ kind: 'service', key: key(2), before: svc(2, [dest(5)]), after: null }]);
    expect([...t.keys()]).toEqual([serviceId(key(1))]);
  });

  it('takes only what the write changed: an outside edit to another real server of the same service stays an outside change', () => {
    const t = rulesTable([svc(1, [dest(1), dest(2)])]);
    // ipvsadm set server 2's weight to 4; then Director changed server 1 and the journal holds the whole service
    const observedBefore = svc(1, [dest(1), dest(2, { weight: 4 })]);
    const observedAfter = svc(1, [dest(1, { weight: 9 }), dest(2, { weight: 4 })], { scheduler: 'wlc' });
    absorbWrite(t, [{ kind: 'service', key: key(1), before: observedBefore, after: observedAfter }]);
    const left = outsideChanges(t, rulesTable([observedAfter]), [], 0, () => 1);
    expect(left.map((c) => c.changes.map(describeChange))).toEqual([['real server 10.1.0.2:80: weight 1 → 4']]);
    // a Director write over the very field another tool changed makes it Director's
    absorbWrite(t, [{ kind: 'destination', service: key(1), before: dest(2, { weight: 4 }), after: dest(2, { weight: 6 }) }]);
    expect(outsideChanges(t, rulesTable([svc(1, [dest(1, { weight: 9 }), dest(2, { weight: 6 })], { scheduler: 'wlc' })]), [], 0, () => 1)).toEqual([]);
  });

  it('touchedServices names the services of service and real-server objects only', () => {
    expect([...touchedServices([
      { kind: 'destination', service: key(1), before: null, after: dest(1) },
      { kind: 'counters', key: null },
      { kind: 'service', key: key(2), before: null, after: null },
    ])]).toEqual([serviceId(key(1)), serviceId(key(2))]);
  });
});
