import { describe, expect, it } from 'vitest';
import { serviceId } from '@/lib/ipvs/ids';
import type { ServiceEntry } from '@/lib/ipvs/model';
import { busyServices, servicesById, SHOW_ALL_UP_TO } from './busy-services';
import type { SummaryIndex } from './summary-index';

const service = (i: number) => ({
  key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.200.${i >> 8}.${i & 255}`, port: 80 }, destinations: [],
}) as unknown as ServiceEntry;

/** Entries per service number (absent: none); a service the table no longer has may be in the summary too. */
function summaryOf(entries: Record<number, Record<string, number>>): SummaryIndex {
  const byService = new Map(Object.entries(entries).map(([i, byState]) => [serviceId(service(Number(i)).key), byState]));
  return { total: 0, templates: 0, byState: {}, byService, byDestination: new Map() };
}

const numbers = (r: ReturnType<typeof busyServices>) => ({ busy: r.busy.map((b) => [b.s.key.kind === 'addr' ? b.s.key.address : '', b.total]), idle: r.idle });

describe('busyServices', () => {
  it('on a large table: only services with entries, most first, ties in list order; the rest counted', () => {
    const services = Array.from({ length: 1000 }, (_, i) => service(i));
    // listed out of list order, with a tie, an empty count and a service not in the list
    const summary = summaryOf({ 700: { UDP: 5 }, 3: { ESTABLISHED: 2, TIME_WAIT: 3 }, 500: { SYN_RECV: 9 }, 42: { CLOSE: 0 }, 5000: { UDP: 50 } });
    expect(numbers(busyServices(services, servicesById(services), summary))).toEqual({
      busy: [['10.200.1.244', 9], ['10.200.0.3', 5], ['10.200.2.188', 5]], idle: 997,
    });
  });

  it(`up to ${SHOW_ALL_UP_TO} services: every one, idle ones last in list order`, () => {
    const services = Array.from({ length: SHOW_ALL_UP_TO }, (_, i) => service(i));
    const r = busyServices(services, servicesById(services), summaryOf({ 7: { UDP: 1 }, 2: { UDP: 4 } }));
    expect(r.idle).toBe(0);
    expect(r.busy.map((b) => b.total).slice(0, 3)).toEqual([4, 1, 0]);
    expect(r.busy.map((b) => b.sid)).toEqual([2, 7, ...Array.from({ length: SHOW_ALL_UP_TO }, (_, i) => i).filter((i) => i !== 2 && i !== 7)].map((i) => serviceId(service(i).key)));
  });

  it('without a summary yet: nothing busy', () => {
    const services = Array.from({ length: 100 }, (_, i) => service(i));
    expect(numbers(busyServices(services, servicesById(services), undefined))).toEqual({ busy: [], idle: 100 });
  });
});
