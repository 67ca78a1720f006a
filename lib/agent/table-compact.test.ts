import { describe, expect, it } from 'vitest';
import type { ServedService } from './events';
import { COMPACT_LIMITS, CompactDecodeError, decodeCompactTable, encodeCompactTable, type CompactTable } from './table-compact';
import { prng } from './testing';
import type { DestinationState, ServiceEntry, Stats } from '../ipvs/model';
import { FORWARD_METHODS, TUNNEL_CHECKSUMS, TUNNEL_TYPES } from '../ipvs/model';

const pick = <T>(rand: () => number, xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

function stats(rand: () => number): Stats {
  const v = () => (rand() < 0.4 ? 0 : rand() < 0.1 ? Number.MAX_SAFE_INTEGER - Math.floor(rand() * 1000) : Math.floor(rand() * 1e9));
  return { conns: v(), inPkts: v(), outPkts: v(), inBytes: v(), outBytes: v(), cps: v(), inPps: v(), outPps: v(), inBps: v(), outBps: v() };
}

function dest(rand: () => number, i: number, family: 'inet' | 'inet6'): DestinationState {
  const fam = rand() < 0.1 ? (family === 'inet' ? 'inet6' : 'inet') : family;
  const tun = rand() < 0.3;
  return {
    family: fam, address: fam === 'inet' ? `10.1.${i >> 8}.${i & 255}` : `2001:db8::${i.toString(16)}`, port: Math.floor(rand() * 65536),
    forward: pick(rand, FORWARD_METHODS), weight: rand() < 0.1 ? 2147483647 : Math.floor(rand() * 100),
    upperThreshold: rand() < 0.7 ? 0 : Math.floor(rand() * 4294967295), lowerThreshold: rand() < 0.7 ? 0 : 5,
    tunnel: tun ? { type: pick(rand, TUNNEL_TYPES), port: Math.floor(rand() * 65536), checksum: pick(rand, TUNNEL_CHECKSUMS) } : { type: 'ipip', port: 0, checksum: 'nocsum' },
    activeConns: rand() < 0.5 ? 0 : 7, inactiveConns: Math.floor(rand() * 1000), persistentConns: rand() < 0.8 ? 0 : 3, stats: stats(rand),
  };
}

/** A table with every kind of service and real server the kernel can hold. */
function table(seed: number, n: number): { at: number; entries: ServiceEntry[]; statsAt: Map<ServiceEntry, number> } {
  const rand = prng(seed);
  const at = 1_760_000_000_000 + seed;
  const entries: ServiceEntry[] = [];
  const statsAt = new Map<ServiceEntry, number>();
  for (let i = 0; i < n; i++) {
    const family = rand() < 0.3 ? 'inet6' : 'inet';
    const key: ServiceEntry['key'] = rand() < 0.15
      ? { kind: 'fwmark', family, fwmark: 1 + Math.floor(rand() * 4294967294) }
      : { kind: 'addr', family, protocol: pick(rand, ['tcp', 'udp', 'sctp'] as const), address: family === 'inet' ? `192.0.${i >> 8}.${i & 255}` : `2001:db8:1::${i.toString(16)}`, port: Math.floor(rand() * 65536) };
    const persistent = rand() < 0.3;
    const e: ServiceEntry = {
      key, scheduler: pick(rand, ['rr', 'wlc', 'sh', 'mh', 'none']),
      flags: { persistent, onePacket: rand() < 0.2, sched1: rand() < 0.2, sched2: rand() < 0.2, sched3: rand() < 0.1 },
      timeout: persistent ? Math.floor(rand() * 2678400) : 0,
      netmask: family === 'inet' ? pick(rand, ['255.255.255.255', '255.255.255.0']) : pick(rand, ['128', '64']),
      pe: persistent && rand() < 0.3 ? 'sip' : null,
      stats: stats(rand),
      destinations: Array.from({ length: Math.floor(rand() * 6) }, (_, k) => dest(rand, i * 8 + k, family)),
    };
    entries.push(e);
    if (rand() < 0.3) statsAt.set(e, at - Math.floor(rand() * 60_000));
  }
  return { at, entries, statsAt };
}

const served = (t: ReturnType<typeof table>): ServedService[] => t.entries.map((e) => ({ ...e, readAt: { config: t.at, stats: t.statsAt.get(e) ?? t.at } }));
const encode = (t: ReturnType<typeof table>): CompactTable => encodeCompactTable(t.at, t.entries, (e) => t.statsAt.get(e) ?? t.at);

/** A small valid table to break: one tcp service with one real server. */
function small(): CompactTable {
  const t = { at: 1000, statsAt: new Map(), entries: [{
    key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'wlc',
    flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null,
    stats: { conns: 1, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 },
    destinations: [{ family: 'inet', address: '10.0.0.2', port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0,
      tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: 2, inactiveConns: 0, persistentConns: 0,
      stats: { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 } }],
  }] as ServiceEntry[] };
  return encode(t);
}

describe('compact table', () => {
  it('gives back exactly the objects services.list serves, through JSON, for every kind of service and real server', () => {
    for (const seed of [1, 2, 3, 4, 5]) {
      const t = table(seed, 300);
      const wire = JSON.parse(JSON.stringify(encode(t))) as unknown;
      expect(decodeCompactTable(wire)).toEqual(served(t));
    }
  });

  it('reads back every counter exactly, including those String() writes with an exponent or over 15 digits', () => {
    const t = table(11, 3);
    const odd = [2 ** 64 - 1, 1e21, 123456789012345680000, 0.5, 1e-7, Number.MAX_SAFE_INTEGER, 999999999999999, 1000000000000000];
    t.entries[0]!.stats = { ...t.entries[0]!.stats, conns: odd[0]!, inPkts: odd[1]!, outPkts: odd[2]!, inBytes: odd[3]!, outBytes: odd[4]!, cps: odd[5]!, inPps: odd[6]!, outPps: odd[7]! };
    const wire = JSON.parse(JSON.stringify(encode(t))) as CompactTable;
    expect(wire.s).toContain('1e+21');
    expect(decodeCompactTable(wire)).toEqual(served(t));
  });

  it('gives back an empty table, and services without real servers', () => {
    expect(decodeCompactTable(JSON.parse(JSON.stringify(encodeCompactTable(5, [], () => 5))))).toEqual([]);
    const t = table(9, 50);
    for (const e of t.entries) e.destinations = [];
    expect(decodeCompactTable(encode(t))).toEqual(served(t));
  });

  it('lists each string once and leaves zeros out: an idle 1,000 × 4 table is a small fraction of the plain JSON', () => {
    const zero: Stats = { conns: 0, inPkts: 0, outPkts: 0, inBytes: 0, outBytes: 0, cps: 0, inPps: 0, outPps: 0, inBps: 0, outBps: 0 };
    const entries: ServiceEntry[] = Array.from({ length: 1000 }, (_, i) => ({
      key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.100.${i >> 8}.${i & 255}`, port: 80 }, scheduler: 'rr',
      flags: { persistent: false, onePacket: false, sched1: false, sched2: false, sched3: false }, timeout: 0, netmask: '255.255.255.255', pe: null, stats: { ...zero },
      destinations: [0, 1, 2, 3].map((d) => ({ family: 'inet', address: `172.31.${d}.${(i % 250) + 1}`, port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0,
        tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: { ...zero } }) as DestinationState),
    }));
    const c = encodeCompactTable(1, entries, () => 1);
    expect(c.t).toHaveLength(1000 + 1000 + 2); // VIPs, real server addresses, 'rr', the netmask
    const plain = JSON.stringify(entries.map((e) => ({ ...e, readAt: { config: 1, stats: 1 } }))).length;
    expect(JSON.stringify(c).length).toBeLessThan(plain / 15);
    // what is left out decodes to one shared object, frozen so that an edit cannot reach every server
    const back = decodeCompactTable(c);
    expect(back[0]!.destinations[0]!.stats).toBe(back[1]!.destinations[2]!.stats);
    expect(Object.isFrozen(back[0]!.destinations[0]!.stats) && Object.isFrozen(back[0]!.destinations[0]!.tunnel) && Object.isFrozen(back[0]!.flags)).toBe(true);
    expect(() => { (back[0]!.destinations[0]!.stats as { conns: number }).conns = 1; }).toThrow(TypeError);
  });

  describe('refuses what an agent could not have encoded', () => {
    // the rows as arrays of their values, to spoil and put back as text
    const S = (c: CompactTable): (number | string)[] => c.s.split(',').map(Number);
    const D = (c: CompactTable): (number | string)[] => c.d.split(',').map(Number);
    const text = (v: (number | string)[]): string => v.join(',');
    const cases: [string, (c: CompactTable) => unknown, RegExp][] = [
      ['not an object', () => 'x', /not an object/],
      ['another version', (c) => ({ ...c, c: 1 }), /unknown format version 1/],
      ['no time', (c) => ({ ...c, at: -1 }), /at is not a time/],
      ['rows not texts', (c) => ({ ...c, s: S(c) }), /s and d texts/],
      ['strings not an array', (c) => ({ ...c, t: 'x' }), /t must be an array/],
      ['a string that is not one', (c) => ({ ...c, t: [...c.t, 5] }), /string 4 is not a string/],
      ['a string too long', (c) => ({ ...c, t: [...c.t, 'x'.repeat(COMPACT_LIMITS.stringLength + 1)] }), /string 4/],
      ['an address index out of range', (c) => ({ ...c, s: text([1, 99, ...S(c).slice(2)]) }), /service 0: address names no string \(99\)/],
      ['an index that is not whole', (c) => ({ ...c, s: text([1, 0.5, ...S(c).slice(2)]) }), /service 0: address names no string/],
      ['an unknown protocol', (c) => ({ ...c, s: text([7, ...S(c).slice(1)]) }), /service 0: bad protocol \(7\)/],
      ['a port out of range', (c) => ({ ...c, s: text([1, 0, 65536, ...S(c).slice(3)]) }), /service 0: bad port/],
      ['fwmark 0', (c) => ({ ...c, s: text([0, 0, 0, ...S(c).slice(3)]) }), /service 0: bad fwmark \(0\)/],
      ['a mask wider than the fields', (c) => ({ ...c, s: text([...S(c).slice(0, 5), 2 ** 16]) }), /service 0: bad mask/],
      ['a service row cut short', (c) => ({ ...c, s: text(S(c).slice(0, -1)) }), /service 0: cut short/],
      ['a service row cut short in its fixed values', (c) => ({ ...c, s: text(S(c).slice(0, 3)) }), /service 0: cut short/],
      ['more real servers than rows', (c) => ({ ...c, s: text([...S(c).slice(0, 4), 2, ...S(c).slice(5)]) }), /service 0, real server 1: cut short/],
      ['a huge real server count', (c) => ({ ...c, s: text([...S(c).slice(0, 4), COMPACT_LIMITS.dests + 1, ...S(c).slice(5)]) }), /service 0: bad real server count/],
      ['rows that belong to no service', (c) => ({ ...c, d: text([...D(c), 0, 80, 0, 1, 0]) }), /rows from character 14 of d belong to no service/],
      ['a counter that is not a number', (c) => ({ ...c, s: text([...S(c).slice(0, -1), 'x']) }), /service 0: conns is not a number/],
      ['a negative counter', (c) => ({ ...c, s: text([...S(c).slice(0, -1), -1]) }), /service 0: conns is not a number in range/],
      ['a number JSON would read but String() does not write', (c) => ({ ...c, s: text([...S(c).slice(0, -1), '0x10']) }), /service 0: conns is not a number/],
      ['a space in a number', (c) => ({ ...c, s: text([...S(c).slice(0, -1), ' 1']) }), /service 0: conns is not a number/],
      ['an empty value', (c) => ({ ...c, d: text(['', ...D(c).slice(1)]) }), /service 0, real server 0: address names no string \(NaN\)/],
      ['a comma ending the text', (c) => ({ ...c, d: `${c.d},` }), /service 0, real server 0: activeConns is not a number in range/],
      ['an unknown forwarding method', (c) => ({ ...c, d: text([D(c)[0]!, 80, 9, ...D(c).slice(3)]) }), /real server 0: bad forwarding method \(9\)/],
      ['a negative weight', (c) => ({ ...c, d: text([D(c)[0]!, 80, 0, -1, ...D(c).slice(4)]) }), /real server 0: bad weight/],
      ['an unknown tunnel type', (c) => ({ ...c, d: text([...D(c).slice(0, 4), 8 + 64, 9, 2]) }), /real server 0: bad tunnelType \(9\)/],
      ['an unknown family', (c) => ({ ...c, d: text([...D(c).slice(0, 4), 1 + 64, 3, 2]) }), /real server 0: bad family/],
      ['flags out of range', (c) => ({ ...c, s: text([...S(c).slice(0, 5), 2 + 8 + 64, 32, 3, 1]) }), /service 0: bad flags/],
    ];
    it.each(cases)('%s', (_, spoil, message) => {
      const c = small();
      expect(decodeCompactTable(c)).toHaveLength(1); // the table spoiled below is valid
      expect(() => decodeCompactTable(spoil(c))).toThrow(CompactDecodeError);
      expect(() => decodeCompactTable(spoil(c))).toThrow(message);
    });
  });
});
