import { describe, expect, it } from 'vitest';
import { decodeCompactTable } from '@/lib/agent/table-compact';
import { keptServiceId } from '@/lib/ipvs/ids';
import { DEFAULT_FLAGS, ZERO_STATS, type ServiceEntry, type ServiceKey } from '@/lib/ipvs/model';
import { ServedTable } from './served-table';

const key = (i: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${i}`, port: 80 });
const entry = (i: number, conns = 0): ServiceEntry => ({
  key: key(i), scheduler: 'rr', flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null,
  stats: { ...ZERO_STATS, conns }, destinations: [],
});

describe('ServedTable', () => {
  const entries = [entry(1), entry(2, 5)];
  const behind = new Map([[keptServiceId(entries[1]!), 900]]);

  it('serves each service stamped with when its parts were read, the same objects by id and in compact form', () => {
    const t = new ServedTable(1000, entries, behind);
    const list = t.services();
    expect(list.map((s) => s.readAt)).toEqual([{ config: 1000, stats: 1000 }, { config: 1000, stats: 900 }]);
    expect(t.services()).toBe(list);
    expect(t.get(key(2))).toBe(list[1]);
    expect(t.get(key(3))).toBeUndefined();
    // a look-up by id gives the entry itself, without the served forms
    expect(t.entry(keptServiceId(entries[1]!))).toBe(entries[1]);
    expect(t.next(2000, entries, behind).entry(keptServiceId(entries[0]!))).toBe(entries[0]);
    expect(t.entry('tcp:10.0.0.3:80')).toBeUndefined();
    expect(t.compact()).toBe(t.compact());
    expect(decodeCompactTable(JSON.parse(JSON.stringify(t.compact())))).toEqual(list);
    // a change event's service is built anew, stamped alike
    expect(t.served(entries[1]!)).not.toBe(list[1]);
    expect(t.served(entries[1]!)).toEqual(list[1]);
  });

  it('keeps the compact form for the next sample of the same rows (only the time is new), and only then', () => {
    const t = new ServedTable(1000, entries, behind);
    const c = t.compact();
    const same = t.next(2000, entries, behind);
    expect(same.compact().at).toBe(2000);
    expect(same.compact().t).toBe(c.t);
    expect(decodeCompactTable(same.compact())).toEqual(same.services());
    // other entries, or other services behind: encoded again
    const moved = [entry(1), entry(2, 6)];
    expect(same.next(3000, moved, behind).compact().t).not.toBe(c.t);
    expect(same.next(3000, entries, new Map()).compact().t).not.toBe(c.t);
    // a table nobody asked in compact form has none to keep: the next one encodes its own
    const unasked = new ServedTable(1000, entries, behind).next(2000, entries, behind);
    expect(decodeCompactTable(unasked.compact())).toEqual(unasked.services());
  });
});
