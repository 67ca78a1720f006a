import { readFileSync, readdirSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalAddress } from '../net/ip';
import { I32_MAX, SCHEDULER_NAMES, U32_MAX, unusableRealServer } from '../ipvs/rules';
import { destinationSpecSchema, serviceSpecSchema, serviceTableSchema } from '../schemas/ipvs';
import { parseSnapshot } from './parse';
import { canonicalQuad, quickDestinationSpec, quickServiceSpec, quickServiceTable, realServerProblem } from './validate';

// Mostly valid values, with the odd ones the schemas refuse or rewrite (trim, canonical form, defaults).
const pick = (valid: readonly unknown[], odd: readonly unknown[]) =>
  fc.oneof({ arbitrary: fc.constantFrom(...valid), weight: 12 }, { arbitrary: fc.constantFrom(...odd), weight: 1 });

const V4 = ['10.0.0.1', '1.2.3.4', '192.168.1.10', '0.0.0.0', '255.255.255.255', '224.0.0.1', '239.255.255.255',
  '223.255.255.255', '240.0.0.1', '1.0.0.0'];
const V6 = ['2001:db8::1', '::', '::1', 'fe80::1', 'ff02::1', 'ff00::', '2001:db8:0:1:1:1:1:1', '::ffff:1.2.3.4', 'fd00::11', '1::'];
const ODD_ADDRESSES = ['010.0.0.1', '1.2.3.04', ' 1.2.3.4', '1.2.3.4 ', '1.2.3', '1.2.3.4.5', '256.1.1.1', '1.2.3.4:80', '',
  '1..2.3', '\u0663.1.1.1', '1.2.3.+4', '2001:DB8::1', '2001:db8:0::1', '2001:0db8::1', ' ::1', '::ffff:0102:0304',
  '2001:db8::1::2', ':::', 'fe80::1%eth0', '0:0:0:0:0:0:0:1', 5, null, undefined];

const family = pick(['inet', 'inet6'], ['INET', undefined, 4]);
const address = pick([...V4, ...V6], ODD_ADDRESSES);
// an address of its family most of the time, so that enough values get past the first rule
const familyAddress = fc.oneof(
  { arbitrary: fc.record({ family: fc.constant('inet'), address: pick(V4, ODD_ADDRESSES) }), weight: 5 },
  { arbitrary: fc.record({ family: fc.constant('inet6'), address: pick(V6, ODD_ADDRESSES) }), weight: 5 },
  { arbitrary: fc.record({ family, address }), weight: 2 },
);
const port = pick([0, 1, 80, 65535], [65536, -1, 1.5, -0, Number.NaN, Number.POSITIVE_INFINITY, '80', undefined, 2 ** 53]);
const u31 = pick([0, 1, 100, I32_MAX], [-1, I32_MAX + 1, 1.5, '5', undefined, -0]);
const extra = fc.oneof({ arbitrary: fc.constant({}), weight: 6 }, { arbitrary: fc.constant({ extra: 1 }), weight: 1 });

const serviceKey = fc.oneof(
  fc.tuple(familyAddress, fc.record({
    kind: pick(['addr'], ['Addr']), protocol: pick(['tcp', 'udp', 'sctp'], ['TCP', undefined]), port,
  }), extra).map(([fa, k, e]) => ({ kind: k.kind, family: fa.family, protocol: k.protocol, address: fa.address, port: k.port, ...e })),
  fc.record({ kind: fc.constant('fwmark'), family, fwmark: pick([1, 7, 2 ** 31, U32_MAX], [0, -1, 2 ** 32, 1.5, '7']) }),
  fc.constantFrom(undefined, null, 'addr', []),
);
const bool = pick([false, true], ['yes', undefined, 0]);
const serviceSpec = fc.tuple(fc.record({
  key: serviceKey,
  scheduler: pick(SCHEDULER_NAMES, ['RR', ' rr', '', 'fastest', 5, undefined]),
  flags: fc.oneof(
    { arbitrary: fc.record({ persistent: bool, onePacket: bool, sched1: bool, sched2: bool, sched3: bool }), weight: 12 },
    { arbitrary: fc.constantFrom(undefined, null, {}), weight: 1 },
  ),
  timeout: pick([0, 1, 360, 2678400], [-1, 2678401, 1.5, undefined]),
  netmask: pick(['255.255.255.255', '255.255.255.0', '255.255.0.0', '0.0.0.0', '128', '64', '1'],
    ['', ' 255.255.255.0', '255.255.255.000', '0.0.0.24', '255.0.255.0', '129', '0', '064', 'x', undefined, '255.255.255.255 ']),
  pe: pick([null, 'sip', 'foo_1', 'abcdefghijklmno'], ['SIP', '', 'abcdefghijklmnop', ' sip', undefined, 5]),
}), extra).map(([s, e]) => ({ ...s, ...e }));

const tunnel = fc.oneof(
  { arbitrary: fc.constant({ type: 'ipip', port: 0, checksum: 'nocsum' }), weight: 24 },
  { arbitrary: fc.record({ type: pick(['ipip', 'gue', 'gre'], ['IPIP', undefined]), port: pick([0, 6080], [70000, undefined]), checksum: pick(['nocsum', 'csum', 'remcsum'], ['none', undefined]) }), weight: 12 },
  { arbitrary: fc.constantFrom(undefined, null, {}), weight: 1 },
);
const destination = fc.tuple(familyAddress, fc.record({
  port,
  forward: pick(['nat', 'dr', 'tun', 'local', 'bypass'], ['masq', undefined]),
  weight: u31, upperThreshold: u31,
  lowerThreshold: fc.oneof({ arbitrary: fc.constant(0), weight: 3 }, { arbitrary: u31, weight: 1 }),
  tunnel,
}), extra).map(([fa, d, e]) => ({
  family: fa.family, address: fa.address, port: d.port, forward: d.forward, weight: d.weight,
  upperThreshold: d.upperThreshold, lowerThreshold: d.lowerThreshold, tunnel: d.tunnel, ...e,
}));

const table = fc.array(fc.tuple(serviceSpec, fc.array(destination, { maxLength: 20 })).map(([s, destinations]) => ({ ...s, destinations })), { maxLength: 6 });

/**
 * The contract the parser and restoreTable rely on: whatever the quick check
 * accepts, the schema accepts and returns the same value (same fields, same
 * order); and every value the schema returns unchanged, the quick check accepts.
 */
function holdsToSchema(
  quick: (x: unknown) => unknown, schema: { safeParse(x: unknown): { success: boolean; data?: unknown } }, x: unknown,
): boolean {
  const q = quick(x);
  const z = schema.safeParse(x);
  if (q !== null) {
    expect(z.success).toBe(true);
    expect(q).toStrictEqual(z.data);
    expect(JSON.stringify(q)).toBe(JSON.stringify(z.data));
  } else if (z.success) {
    expect(z.data).not.toStrictEqual(x);
  }
  return q !== null;
}

describe('quick checks agree with the zod schemas', () => {
  const accepts = (quick: (x: unknown) => unknown, schema: Parameters<typeof holdsToSchema>[1], arb: fc.Arbitrary<unknown>, runs: number) => {
    let accepted = 0;
    fc.assert(fc.property(arb, (x) => { if (holdsToSchema(quick, schema, x)) accepted++; }), { numRuns: runs });
    // the property must not hold only because the quick check refuses everything
    expect(accepted).toBeGreaterThan(runs / 20);
  };
  it('service specs', () => accepts(quickServiceSpec, serviceSpecSchema, serviceSpec, 3000));
  it('real servers', () => accepts(quickDestinationSpec, destinationSpecSchema, destination, 3000));
  it('whole tables', () => accepts(quickServiceTable, serviceTableSchema, table, 1000));

  it('tables with many real servers (the Set past the scan) and repeats', () => {
    const many = fc.array(fc.record({ a: fc.nat(40), p: fc.constantFrom(80, 81) }), { minLength: 10, maxLength: 60 })
      .map((ds) => [{
        key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr',
        flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0,
        netmask: '255.255.255.255', pe: null,
        destinations: ds.map(({ a, p }) => ({ family: 'inet', address: `10.1.0.${a + 1}`, port: p, forward: 'nat', weight: 1,
          upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' } })),
      }]);
    fc.assert(fc.property(many, (t) => { holdsToSchema(quickServiceTable, serviceTableSchema, t); }), { numRuns: 300 });
  });

  it('tables from a few keys (repeated services and real servers)', () => {
    const spec = (key: unknown) => ({
      key, scheduler: 'wlc', flags: { persistent: true, onePacket: false, sched1: false, sched2: false, sched3: false },
      timeout: 300, netmask: '255.255.255.255', pe: null,
    });
    const key = fc.oneof(
      fc.record({ kind: fc.constant('addr'), family: fc.constant('inet'), protocol: fc.constantFrom('tcp', 'udp'), address: fc.constantFrom('10.0.0.1', '10.0.0.2'), port: fc.constantFrom(0, 80) }),
      fc.record({ kind: fc.constant('addr'), family: fc.constant('inet6'), protocol: fc.constantFrom('tcp', 'sctp'), address: fc.constantFrom('2001:db8::1', '::1'), port: fc.constantFrom(80, 443) }),
      fc.record({ kind: fc.constant('fwmark'), family: fc.constantFrom('inet', 'inet6'), fwmark: fc.constantFrom(1, 2) }),
    );
    const dest = fc.record({ v6: fc.boolean(), a: fc.nat(2), p: fc.constantFrom(0, 80) }).map(({ v6, a, p }) => ({
      family: v6 ? 'inet6' : 'inet', address: v6 ? `2001:db8::${a + 1}` : `10.1.0.${a + 1}`, port: p, forward: 'tun', weight: 1,
      upperThreshold: 0, lowerThreshold: 0, tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' },
    }));
    const t = fc.array(fc.tuple(key, fc.array(dest, { maxLength: 4 })).map(([k, destinations]) => ({ ...spec(k), destinations })), { maxLength: 5 });
    accepts(quickServiceTable, serviceTableSchema, t, 1000);
  });

  it('refuses what is not a table', () => {
    for (const x of [undefined, null, {}, 'x', [undefined], [[]], [null]]) expect(quickServiceTable(x)).toBeNull();
    // eslint-disable-next-line no-sparse-arrays
    expect(quickServiceTable([, ])).toBeNull();
  });
});

describe('address helpers', () => {
  it('canonicalQuad is the value of a dotted quad exactly as canonicalAddress prints it', () => {
    const text = fc.oneof(
      fc.array(fc.oneof(fc.nat(300).map(String), fc.constantFrom('00', '01', '007', '', '1a', '+1', ' 1', '0')), { minLength: 1, maxLength: 6 }).map((p) => p.join('.')),
      fc.string({ maxLength: 16 }),
    );
    fc.assert(fc.property(text, (t) => {
      const v = canonicalQuad(t);
      const canonical = t.includes('.') && canonicalAddress(t) === t;
      expect(v >= 0).toBe(canonical);
      if (canonical) expect(v).toBe(t.split('.').reduce((n, p) => n * 256 + Number(p), 0));
    }), { numRuns: 3000 });
  });

  it('realServerProblem is unusableRealServer', () => {
    for (const a of [...V4, ...V6, ...ODD_ADDRESSES.filter((x): x is string => typeof x === 'string')]) {
      for (const f of ['inet', 'inet6'] as const) expect(realServerProblem(f, a)).toBe(unusableRealServer(f, a));
    }
  });
});

describe('the parser takes the quick path', () => {
  const corpus = path.join(import.meta.dirname, '../../server/snapshot/corpus');
  const files = [path.join(import.meta.dirname, 'fixtures/reference-8.4.txt'),
    ...readdirSync(corpus).filter((f) => f.endsWith('.txt') && f !== 'names.txt').map((f) => path.join(corpus, f))];
  it.each(files.map((f) => [path.basename(f), f]))('every service and real server of %s', async (_name, f) => {
    const r = await parseSnapshot(readFileSync(f, 'utf8'));
    expect(r.errors).toEqual([]);
    for (const s of r.services) {
      const { destinations, ...spec } = s;
      expect(quickServiceSpec(spec)).toStrictEqual(spec);
      for (const d of destinations) expect(quickDestinationSpec(d)).toStrictEqual(d);
    }
    expect(quickServiceTable(r.services)).toStrictEqual(r.services);
  });
});
