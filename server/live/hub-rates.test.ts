import { afterEach, describe, expect, it, vi } from 'vitest';
import { serviceId } from '@/lib/ipvs/ids';
import { LiveTable, type WireTick } from '@/lib/agent/live-wire';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationKey, type ServiceKey } from '@/lib/ipvs/model';
import { FakeIpvs } from '../ipvs/fake';
import { TableHub } from './hub';
import { fakeStructure, silentLog } from '../api/testing';

afterEach(() => {
  vi.useRealTimers();
});

/** One subscriber's view, decoded from the wire as the console does: "svc rs1 rs2" conns/s of the first service per tick. */
function follow(hub: TableHub, watch: string[], until: () => boolean, out: { at: number; line: number[] }[]) {
  const table = new LiveTable();
  const g = hub.stats(undefined, null, watch);
  void (async () => {
    for await (const { tick } of g) {
      if (!table.apply(tick as WireTick)) continue;
      const sid = watch[0] ?? [...table.services.keys()].sort()[0]!;
      const s = table.services.get(sid)!;
      out.push({ at: table.at, line: [s.v.cps, ...[...s.dests].sort(([a], [b]) => a.localeCompare(b)).map(([, d]) => d.v.cps)] });
      if (until()) break;
    }
  })();
}

async function scenario(phase: number, joins: { at: number; watch: boolean }[], endMs: number) {
  vi.useFakeTimers();
  const t0 = Date.UTC(2026, 0, 1);
  vi.setSystemTime(t0);
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
  const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), destBudget: 8, totals: () => fake.totals() });
  hub.start();
  const views: { at: number; line: number[] }[][] = [];
  let pending = 0;
  for (let ms = 10; ms <= endMs; ms += 10) {
    // one connection a second per real server, which the kernel's counters show only at its estimator's runs, every 2 s
    if (ms % 1000 === 500) pending++;
    if (ms % 2000 === phase) {
      for (const s of svcs) for (const d of s.dests) fake.traffic(s.key, d, { conns: pending, inPkts: 5 * pending }, { cps: 1, inPps: 5 });
      pending = 0;
    }
    for (const j of joins) {
      if (j.at !== ms) continue;
      const view: { at: number; line: number[] }[] = [];
      views.push(view);
      follow(hub, j.watch ? [serviceId(svcs[0]!.key)] : [], () => Date.now() >= t0 + endMs - 1000, view);
    }
    await vi.advanceTimersByTimeAsync(10);
  }
  hub.close();
  return views;
}

describe('TableHub rates as the agent runs it (the sampler with the totals), from counters the kernel sums every 2 s', () => {
  for (const phase of [30, 480, 990, 1260, 1730]) {
    it(`the first rates a subscriber gets after a quiet spell are the true ones (estimator phase ${phase} ms): the overview, then a service page`, async () => {
      const views = await scenario(phase, [{ at: 125_340, watch: false }, { at: 140_650, watch: true }], 160_000);
      for (const view of views) {
        expect(view.length).toBeGreaterThan(15);
        // every tick, the first included: 2/s on the service, 1/s on each real server
        expect(view.map((v) => v.line.join(' '))).toEqual(view.map(() => '2 1 1'));
      }
    });
  }
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
