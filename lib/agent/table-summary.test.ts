import { describe, expect, it } from 'vitest';
import { servicesWithoutServer, summarizeTable, tableVips } from './table-summary';

const svc = (weights: number[], cps = 0) => ({ destinations: weights.map((weight) => ({ weight })), stats: { cps, inBps: 100, outBps: 50 } });

describe('summarizeTable', () => {
  it('counts services, real servers up of total, rates, and services with no server in service', () => {
    expect(summarizeTable([svc([1, 0], 2), svc([3], 1.5), svc([0, 0]), svc([])])).toEqual({ services: 4, up: 2, total: 5, cps: 3.5, bps: 600, withoutServer: 2 });
    expect(summarizeTable([])).toEqual({ services: 0, up: 0, total: 0, cps: 0, bps: 0, withoutServer: 0 });
  });
  it('servicesWithoutServer agrees with the count', () => {
    const list = [svc([1, 0]), svc([0]), svc([])];
    expect(servicesWithoutServer(list)).toEqual([list[1], list[2]]);
    expect(summarizeTable(list).withoutServer).toBe(servicesWithoutServer(list).length);
  });
});

describe('tableVips', () => {
  it('the distinct VIPs of address services, sorted; fwmark services have none; bounded with truncated', () => {
    const s = (address: string) => ({ key: { kind: 'addr', address } });
    expect(tableVips([s('10.0.0.2'), s('10.0.0.1'), s('10.0.0.2'), { key: { kind: 'fwmark' } }])).toEqual({ vips: ['10.0.0.1', '10.0.0.2'], truncated: false });
    expect(tableVips([s('10.0.0.3'), s('10.0.0.1'), s('10.0.0.2')], 2)).toEqual({ vips: ['10.0.0.1', '10.0.0.2'], truncated: true });
  });
});
