import { afterEach, describe, expect, it, vi } from 'vitest';
import type { TableChangeEvent } from '@/lib/agent/events';
import { serviceId } from '@/lib/ipvs/ids';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import { FakeIpvs } from '../ipvs/fake';
import { TableHub } from './hub';
import { fakeStructure, silentLog } from '../api/testing';

afterEach(() => vi.useRealTimers());

const key = (i: number): ServiceKey => ({ kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${i}`, port: 80 });
const dest = (weight: number): DestinationSpec => ({ family: 'inet', address: '172.16.0.1', port: 80, forward: 'nat', weight, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } });

/** A hub on a fake kernel with two services, ticking every 10 s; a console watching service 0; the change events it gets, with when. */
async function setup() {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 1));
  const fake = new FakeIpvs();
  for (const i of [0, 1]) {
    await fake.addService({ key: key(i), scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
    await fake.addDestination(key(i), dest(1));
  }
  const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), tickMs: 10_000, watchCheckMs: 250 });
  hub.start();
  const ac = new AbortController();
  const stats = hub.stats(ac.signal, null, [serviceId(key(0))]);
  void (async () => { for await (const _ of stats) { /* a service page */ } })();
  const events: { at: number; e: TableChangeEvent }[] = [];
  void (async () => { for await (const { event } of hub.changes(ac.signal)) events.push({ at: Date.now(), e: event }); })();
  await vi.advanceTimersByTimeAsync(3000);
  return { fake, hub, events, stop: () => { ac.abort(); hub.close(); } };
}

describe('TableHub: what a console shows is checked between ticks', () => {
  it('a change another tool makes to a watched service is an event within a check, not at the next tick', async () => {
    const { fake, events, stop } = await setup();
    const t = Date.now();
    await fake.updateDestination(key(0), dest(7)); // as ipvsadm -e would: no poke from a write of ours
    await vi.advanceTimersByTimeAsync(600);
    stop();
    expect(events).toHaveLength(1);
    expect(events[0]!.at - t).toBeLessThanOrEqual(500);
    expect(events[0]!.e.services.map((s) => [serviceId(s.key), s.destinations[0]!.weight])).toEqual([[serviceId(key(0)), 7]]);
  });

  it('a service no console shows waits for the tick', async () => {
    const { fake, events, stop } = await setup();
    await fake.updateDestination(key(1), dest(7));
    await vi.advanceTimersByTimeAsync(600);
    expect(events).toHaveLength(0);
    await vi.advanceTimersByTimeAsync(10_000);
    stop();
    expect(events.map((x) => x.e.services.map((s) => serviceId(s.key)))).toEqual([[serviceId(key(1))]]);
  });

  it('with nothing changed the checks sample nothing', async () => {
    const { hub, events, stop } = await setup();
    const n = hub.samples;
    await vi.advanceTimersByTimeAsync(2000);
    stop();
    expect(hub.samples).toBe(n);
    expect(events).toHaveLength(0);
  });
});
