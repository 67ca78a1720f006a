import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StatsState } from '@/lib/agent/events';
import { serviceId } from '@/lib/agent/ids';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationKey, type ServiceKey } from '@/lib/ipvs/model';
import { FakeIpvs } from '../ipvs/fake';
import { TableHub } from './hub';
import { fakeStructure, silentLog } from './testing';

afterEach(() => {
  vi.useRealTimers();
});

describe('TableHub rates as the agent runs it (alternate reads, totals)', () => {
  it('after a spell with nobody subscribed (a sample a minute), the first rates a joining subscriber gets are the true ones', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = new FakeIpvs();
    const svcs: { key: ServiceKey; dests: DestinationKey[] }[] = [];
    for (let i = 0; i < 3; i++) {
      const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${i}`, port: 80 };
      await fake.addService({ key, scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
      const dests: DestinationKey[] = [];
      for (let d = 0; d < 2; d++) {
        const dest: DestinationKey = { family: 'inet', address: `172.16.${i}.${d + 1}`, port: 80 };
        await fake.addDestination(key, { ...dest, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } });
        dests.push(dest);
      }
      svcs.push({ key, dests });
    }
    const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), destBudget: 8, alternateReads: true, totals: () => fake.totals() });
    const inside = hub as unknown as { current: { at: number; state: StatsState } | null; demand: number };
    const watched = serviceId(svcs[0]!.key);
    const subs: AsyncGenerator<unknown>[] = [];
    const seen: { t: number; svc: number; rs: number[] }[] = [];
    await hub.sampleNow();
    for (let t = 1; t <= 130; t++) {
      now += 1000;
      vi.setSystemTime(now);
      // one connection a second on every real server: 2 a second per service
      for (const s of svcs) for (const d of s.dests) fake.traffic(s.key, d, { conns: 1, inPkts: 5 }, { cps: 1, inPps: 5 });
      if (t === 100) subs.push(hub.stats(undefined, null, [])); // the overview
      if (t === 115) subs.push(hub.stats(undefined, null, [watched])); // the service page
      for (const g of subs) void g.next();
      await Promise.resolve();
      // the hub's timer: every tick while someone subscribes, else once a minute
      if (inside.demand > 0 || now - inside.current!.at >= 59_500) {
        await hub.sampleNow();
        const st = inside.current!.state.get(watched)!;
        seen.push({ t, svc: st.v.rCps, rs: [...st.dests.values()].map((d) => d.rCps) });
      }
    }
    hub.close();
    const joined = seen.filter((x) => x.t >= 100);
    expect(joined).toHaveLength(31);
    for (const x of joined) expect({ t: x.t, svc: x.svc, rs: x.rs }).toEqual({ t: x.t, svc: 2, rs: [1, 1] });
  });
});

/** A fake kernel table with one service and no real servers. */
async function oneService(): Promise<FakeIpvs> {
  const fake = new FakeIpvs();
  const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 };
  await fake.addService({ key, scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
  return fake;
}

describe('TableHub joins', () => {
  it('subscriptions that join together after a quiet spell share one fresh sample (a second one right after made rates over milliseconds)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await oneService();
    const hub = new TableHub({ backend: fake, log: silentLog, tickMs: 60_000 });
    const inside = hub as unknown as { running: Promise<void> | null };
    hub.start();
    await inside.running;
    const before = hub.samples;
    now += 120_000;
    vi.setSystemTime(now);
    // a console page: stats ticks and change events, subscribed in one batch
    const stats = hub.stats(undefined, null, []);
    const changes = hub.changes(undefined, null);
    const pending = [stats.next(), changes.next()];
    await inside.running;
    expect(hub.samples - before).toBe(1);
    hub.close();
    await Promise.race([Promise.all(pending), new Promise((r) => setTimeout(r, 100))]);
  });
});

/** A 1 s hub over one service, started under fake timers and left `quietMs` without a subscriber. */
async function startedAndQuiet(quietMs: number): Promise<TableHub> {
  vi.useFakeTimers();
  vi.setSystemTime(Date.UTC(2026, 0, 1));
  const hub = new TableHub({ backend: await oneService(), log: silentLog, tickMs: 1000 });
  hub.start();
  await vi.advanceTimersByTimeAsync(quietMs);
  return hub;
}

describe('TableHub timer', () => {
  it('a subscriber joining just before a timer tick gets one sample, not a second one milliseconds later', async () => {
    const hub = await startedAndQuiet(30_900); // nobody subscribed: no sample since the first; the timer fires in 100 ms
    const before = hub.samples;
    const stats = hub.stats(undefined, null, []);
    void stats.next();
    await vi.advanceTimersByTimeAsync(400);
    expect(hub.samples - before).toBe(1); // the join's, not also the timer's 100 ms later
    await vi.advanceTimersByTimeAsync(1000);
    expect(hub.samples - before).toBe(2); // ticking again at the next timer tick
    hub.close();
    void stats.return(undefined);
  });
});

describe('TableHub first tick', () => {
  it('a subscriber joining after a quiet spell gets the fresh sample first, not the minute-old idle one (a lone point, then a gap, on the service page)', async () => {
    const hub = await startedAndQuiet(45_300); // nobody subscribed: the only sample is 45 s old
    const joinedAt = Date.now();
    const stats = hub.stats(undefined, null, []);
    const first = stats.next();
    await vi.advanceTimersByTimeAsync(50);
    const got = await first;
    expect(got.done).toBe(false);
    const tick = (got.value as { tick: { at: number; full: boolean } }).tick;
    expect(tick.full).toBe(true);
    expect(tick.at).toBeGreaterThanOrEqual(joinedAt);
    hub.close();
    void stats.return(undefined);
  });
});
