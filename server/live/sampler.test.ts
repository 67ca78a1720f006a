import { afterEach, describe, expect, it, vi } from 'vitest';
import { serviceId } from '@/lib/ipvs/ids';
import { diffTables } from '@/lib/agent/table-diff';
import { SAMPLER_KNOBS } from '@/lib/agent/sampler-knobs';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceEntry, type ServiceKey } from '@/lib/ipvs/model';
import { prng } from '@/lib/agent/testing';
import { FakeIpvs } from '../ipvs/fake';
import { fakeStructure, silentLog } from '../api/testing';
import { TableHub } from './hub';
import { LiveTable } from '@/lib/agent/live-wire';
import { decodeCompactTable } from '@/lib/agent/table-compact';
import { ProcFile, Sampler, oldest, procIpvsFile, procTotalsFile, type Reading, type SamplerOptions } from './sampler';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { LAB_PROC_IP_VS } from '@/lib/proc/lab-capture';
import { parseProcIpvs } from '@/lib/proc/ip-vs';

const vip = (i: number): ServiceKey => ({
  kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.100.${i >> 8}.${i & 255}`, port: 80,
});
const rs = (i: number, d: number, weight = 1): DestinationSpec => ({
  family: 'inet', address: `172.31.${d}.${(i % 250) + 1}`, port: 80, forward: 'dr', weight,
  upperThreshold: 0, lowerThreshold: 0, tunnel: DEFAULT_TUNNEL,
});
const svcSpec = (key: ServiceKey, scheduler = 'rr') => ({ key, scheduler, flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });

async function table(n: number, dests = 2): Promise<FakeIpvs> {
  const fake = new FakeIpvs();
  for (let i = 0; i < n; i++) {
    await fake.addService(svcSpec(vip(i)));
    for (let d = 0; d < dests; d++) await fake.addDestination(vip(i), rs(i, d));
  }
  return fake;
}

/** A sampler over the fake, counting the kernel reads it makes. */
function sampler(fake: FakeIpvs, opts: Partial<SamplerOptions> & { withTotals?: boolean } = {}) {
  const calls = { listServices: 0, listDestinations: 0, file: 0, totals: 0 };
  const backend = new Proxy(fake, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (prop === 'listServices' || prop === 'listDestinations') calls[prop]++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as IpvsBackend;
  const structure = fakeStructure(fake);
  const s = new Sampler({
    backend, structure: () => (calls.file++, structure()),
    ...(opts.withTotals === false ? {} : { totals: () => (calls.totals++, fake.totals()) }),
    ...opts,
  });
  return { s, calls };
}

const entryOf = (r: Reading, i: number): ServiceEntry => r.services.find((x) => serviceId(x.key) === serviceId(vip(i)))!;
const destOf = (r: Reading, i: number, d: number) => entryOf(r, i).destinations.find((x) => x.address === rs(i, d).address)!;
/** when the service's real servers' counters were last known current, as of this reading */
const destsAtOf = (r: Reading, i: number) => r.behind.get(serviceId(vip(i))) ?? r.at;

afterEach(() => {
  vi.useRealTimers();
});

describe('Sampler: one policy', () => {
  it('the first read takes everything; then, with nothing moving, only the rotation reads real servers, and covers every service within services / rotation reads', async () => {
    const fake = await table(200);
    const { s, calls } = sampler(fake);
    const first = await s.read();
    expect(first.services).toHaveLength(200);
    expect(calls.listDestinations).toBe(200);
    expect(first.behind.size).toBe(0);

    const rotation = SAMPLER_KNOBS.rotation.default;
    const seen = new Set<string>();
    for (let t = 0; t < Math.ceil(200 / rotation); t++) {
      const before = { ...calls };
      const r = await s.read();
      expect([calls.totals - before.totals, calls.file - before.file]).toEqual([1, 1]); // every tick
      expect(calls.listServices - before.listServices).toBe(0); // the totals stand still
      expect(r.read).toHaveLength(rotation);
      expect(r.unchanged).toBe(true);
      // nothing moved: every service's real servers are current as of this reading
      expect(r.behind.size).toBe(0);
      for (const id of r.read) seen.add(id);
    }
    expect(seen.size).toBe(200);
  });

  it('traffic: the service dump at the first tick the totals moved; services whose counters moved are read within the budget, oldest first, with their real servers\' own counters', async () => {
    const fake = await table(200);
    const { s, calls } = sampler(fake, { destBudget: 32, rotation: 2 });
    await s.read();
    const busy = Array.from({ length: 40 }, (_, k) => 5 * k);
    for (const i of busy) fake.traffic(vip(i), rs(i, 0), { conns: 1 + i, inPkts: 3 });
    const busyIds = new Set(busy.map((i) => serviceId(vip(i))));
    const dumps = calls.listServices;
    const r1 = await s.read();
    expect(calls.listServices).toBe(dumps + 1);
    expect(r1.read.slice(0, 32).every((id) => busyIds.has(id))).toBe(true);
    // the 8 left over are the oldest of all: the rotation takes 2 of them
    expect(r1.read).toHaveLength(34);
    expect(r1.read.slice(32).every((id) => busyIds.has(id))).toBe(true);
    // not read yet: last known real servers, not current (destsAt before this reading), the service's own counters current
    const late = busy.filter((i) => !r1.read.includes(serviceId(vip(i))));
    expect(late).toHaveLength(6);
    for (const i of late) {
      expect(destsAtOf(r1, i)).toBeLessThan(r1.at);
      expect(destOf(r1, i, 0).stats.conns).toBe(0);
      expect(entryOf(r1, i).stats.conns).toBe(1 + i);
    }
    const r2 = await s.read();
    expect(calls.listServices).toBe(dumps + 1); // the totals did not move again
    expect(r2.read.filter((id) => busyIds.has(id)).sort()).toEqual(late.map((i) => serviceId(vip(i))).sort());
    for (const i of busy) {
      expect(destOf(r2, i, 0).stats.conns).toBe(1 + i);
      expect(destOf(r2, i, 1).stats.conns).toBe(0);
      expect(destsAtOf(r2, i)).toBe(r2.at);
    }
    expect((await s.read()).read).toHaveLength(2); // all current again: the rotation only
  });

  it('watched services are read every tick, outside the budget, moving or not', async () => {
    const fake = await table(50);
    const { s } = sampler(fake, { destBudget: 1, rotation: 0 });
    await s.read();
    s.watch([serviceId(vip(3)), serviceId(vip(4))]);
    for (let t = 0; t < 4; t++) {
      fake.traffic(vip(9), rs(9, 1), { conns: 2 });
      fake.traffic(vip(10), rs(10, 1), { conns: 2 });
      const r = await s.read();
      expect(r.read.slice(0, 2).sort()).toEqual([serviceId(vip(3)), serviceId(vip(4))].sort());
      expect(r.read).toHaveLength(3); // and one of the two busy ones: the budget
    }
    s.watch([]);
    const r = await s.read();
    expect(r.read).not.toContain(serviceId(vip(3)));
    expect(r.read).not.toContain(serviceId(vip(4)));
  });

  it('reports changes made behind its back on the next read, new services with their real servers\' full settings', async () => {
    const fake = await table(200);
    const { s } = sampler(fake, { destBudget: 32 });
    await s.read();
    const prev = (await s.read()).services;

    await fake.addDestination(vip(150), rs(150, 7));
    await fake.updateDestination(vip(10), rs(10, 0, 5));
    await fake.removeDestination(vip(77), rs(77, 1));
    await fake.addService(svcSpec(vip(500), 'wlc'));
    await fake.addDestination(vip(500), { ...rs(500, 0), upperThreshold: 9 });
    await fake.removeService(vip(3));

    const r = await s.read();
    expect(r.read.slice(0, 4).sort()).toEqual([vip(10), vip(77), vip(150), vip(500)].map(serviceId).sort());
    const changes = diffTables(prev, r.services);
    expect(changes.map((c) => c.type).sort()).toEqual(['destination_added', 'destination_changed', 'destination_removed', 'service_added', 'service_removed']);
    const added = changes.find((c) => c.type === 'service_added');
    expect(added?.type === 'service_added' && added.service.destinations[0]?.upperThreshold).toBe(9);
    // the next read finds nothing more to report
    expect(diffTables(r.services, (await s.read()).services)).toEqual([]);
  });

  it('a service a write names is read at the next tick even when the file shows no difference and the totals stand still (thresholds)', async () => {
    const fake = await table(100);
    const { s, calls } = sampler(fake);
    await s.read();
    await s.read();
    await fake.updateDestination(vip(42), { ...rs(42, 1), upperThreshold: 100 });
    s.changed([vip(42)]);
    const dumps = calls.listServices;
    const r = await s.read();
    expect(calls.listServices).toBe(dumps + 1);
    expect(r.read[0]).toBe(serviceId(vip(42)));
    expect(destOf(r, 42, 1).upperThreshold).toBe(100);
    expect((await s.read()).read).not.toContain(serviceId(vip(42)));
  });

  it('changed(null): every service is read again, within the budget, in turns', async () => {
    const fake = await table(20);
    const { s } = sampler(fake, { destBudget: 8, rotation: 0 });
    await s.read();
    s.changed([null]);
    const rows = [];
    for (let t = 0; t < 4; t++) rows.push((await s.read()).read.length);
    expect(rows).toEqual([8, 8, 4, 0]);
  });

  it('holds back changed services over the budget with their last real servers, and leaves new ones out until read: never a half-read service', async () => {
    const fake = await table(40);
    const { s } = sampler(fake, { destBudget: 4, rotation: 0 });
    let prev = (await s.read()).services;
    for (let i = 0; i < 10; i++) await fake.addDestination(vip(i), rs(i, 5));
    for (let i = 100; i < 106; i++) await fake.addService(svcSpec(vip(i)));
    let reported = 0;
    const missing: number[] = [];
    for (let t = 0; t < 4; t++) {
      const r = await s.read();
      missing.push(r.missing);
      expect(r.read).toHaveLength(4);
      for (const x of r.services) expect([2, 3, 0]).toContain(x.destinations.length);
      reported += diffTables(prev, r.services).length;
      prev = r.services;
    }
    expect(prev).toHaveLength(46);
    expect(missing).toEqual([2, 0, 0, 0]); // never read: left out (new ones go first, being the oldest)
    expect(reported).toBe(16);
  });

  it('no stale data after a service is removed and made again: by a write, or by another tool with other real servers', async () => {
    const fake = await table(30);
    const { s } = sampler(fake);
    fake.traffic(vip(5), rs(5, 0), { conns: 40 });
    fake.traffic(vip(6), rs(6, 0), { conns: 50 });
    await s.read();
    await s.read();
    expect(entryOf(await s.read(), 5).stats.conns).toBe(40);
    // through the agent: the write names it
    await fake.removeService(vip(5));
    await fake.addService(svcSpec(vip(5)));
    await fake.addDestination(vip(5), rs(5, 0));
    await fake.addDestination(vip(5), rs(5, 1));
    s.changed([vip(5)]);
    // by another tool (nothing named), with another real server
    await fake.removeService(vip(6));
    await fake.addService(svcSpec(vip(6)));
    await fake.addDestination(vip(6), rs(6, 3));
    const r = await s.read();
    expect(entryOf(r, 5).stats.conns).toBe(0);
    expect(destOf(r, 5, 0).stats.conns).toBe(0);
    expect(entryOf(r, 6).stats.conns).toBe(0);
    expect(entryOf(r, 6).destinations.map((d) => d.address)).toEqual([rs(6, 3).address]);
  });

  it('the service dump every serviceDumpMs while nothing moves: a scheduler flag changed by another tool shows then', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(20);
    const { s, calls } = sampler(fake, { serviceDumpMs: 30_000 });
    await s.read();
    await fake.updateService({ ...svcSpec(vip(3)), flags: { ...DEFAULT_FLAGS, sched1: true } });
    for (let k = 0; k < 29; k++) {
      now += 1000;
      vi.setSystemTime(now);
      const r = await s.read();
      expect(entryOf(r, 3).flags.sched1).toBe(false);
      expect(r.unchanged).toBe(true);
    }
    expect(calls.listServices).toBe(1);
    now += 1000;
    vi.setSystemTime(now);
    const r = await s.read();
    expect(calls.listServices).toBe(2);
    expect(r.unchanged).toBe(false);
    expect(entryOf(r, 3).flags.sched1).toBe(true);
  });

  it('a threshold changed by another tool on an idle service shows within a rotation', async () => {
    const fake = await table(40);
    const { s } = sampler(fake, { rotation: 4 });
    await s.read();
    await s.read();
    await fake.updateDestination(vip(33), { ...rs(33, 1), lowerThreshold: 5, upperThreshold: 9 });
    let seenAt = -1;
    for (let k = 0; k < 12 && seenAt < 0; k++) if (destOf(await s.read(), 33, 1).upperThreshold === 9) seenAt = k;
    expect(seenAt).toBeGreaterThanOrEqual(0);
    expect(seenAt).toBeLessThan(40 / 4);
  });

  it('all: every service read whatever the budget', async () => {
    const fake = await table(30);
    const { s } = sampler(fake, { destBudget: 2 });
    await s.read();
    expect((await s.read({ all: true })).read).toHaveLength(30);
  });

  it('without the totals, the service dump every tick', async () => {
    const fake = await table(10);
    const { s, calls } = sampler(fake, { withTotals: false });
    for (let t = 0; t < 3; t++) await s.read();
    expect(calls.listServices).toBe(3);
  });

  it('connection counts come from the file between reads; unchanged readings hand out the same frozen entries', async () => {
    const fake = await table(30);
    const { s } = sampler(fake, { rotation: 0 });
    const a = await s.read();
    const b = await s.read();
    expect(b.unchanged).toBe(true);
    expect(b.services).toEqual(a.services);
    expect(b.services).toBe(a.services);
    fake.setConns(vip(7), rs(7, 1), { active: 3, inactive: 11 });
    const c = await s.read();
    expect(c.read).toEqual([]);
    expect(c.unchanged).toBe(false);
    expect(destOf(c, 7, 1)).toMatchObject({ activeConns: 3, inactiveConns: 11 });
    expect(c.services.filter((x, i) => x !== b.services[i]!).map((x) => serviceId(x.key))).toEqual([serviceId(vip(7))]);

    const e = entryOf(c, 7);
    expect(Object.isFrozen(c) && Object.isFrozen(c.services) && Object.isFrozen(c.services[0])).toBe(true);
    expect(() => { (e as { scheduler: string }).scheduler = 'wlc'; }).toThrow(TypeError);
    expect(() => { (e.stats as { conns: number }).conns = 1; }).toThrow(TypeError);
    expect(() => { (e.destinations[0] as { weight: number }).weight = 7; }).toThrow(TypeError);
    expect(() => { (e.destinations[0]!.stats as { conns: number }).conns = 7; }).toThrow(TypeError);
    expect(() => e.destinations.pop()).toThrow(TypeError);
  });

  it('refuses a budget that is not a positive integer', () => {
    const fake = new FakeIpvs();
    expect(() => new Sampler({ backend: fake, structure: fakeStructure(fake), destBudget: 0 })).toThrow(/destBudget/);
  });
});

describe('TableHub over the sampler: rates from each real server\'s own readings', () => {
  it('reads a steady 10 conns/s on real servers read only every few ticks, and holds it between reads', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(200, 1);
    const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), destBudget: 32 });
    const ticks = hub.stats(undefined);
    const held = new LiveTable();
    const watched = [5, 60, 199];
    const destCps = new Map<number, number[]>(watched.map((i) => [i, []]));
    const svcCps: number[] = [];
    for (let t = 0; t < 24; t++) {
      // the kernel's estimator sums the counters every 2 s: 20 connections at a time, and says 10/s itself
      if (t > 0 && t % 2 === 0) for (const i of watched) fake.traffic(vip(i), rs(i, 0), { conns: 20 }, { cps: 10 });
      await hub.sampleNow();
      expect(held.apply((await ticks.next()).value!.tick)).toBe(true);
      for (const i of watched) destCps.get(i)!.push(held.services.get(serviceId(vip(i)))!.dests.get(`${rs(i, 0).address}:80`)!.v.cps);
      svcCps.push(held.services.get(serviceId(vip(5)))!.v.cps);
      now += 1000;
      vi.setSystemTime(now);
    }
    hub.close();
    await ticks.return(undefined);
    // service counters come every tick
    expect(new Set(svcCps.slice(2))).toEqual(new Set([10]));
    for (const i of watched) {
      const cps = destCps.get(i)!;
      const firstRate = cps.findIndex((x) => x !== 0);
      // each destination is re-read within ceil(200/32) = 7 ticks, its rate over its own interval
      expect(firstRate).toBeGreaterThan(0);
      expect(firstRate).toBeLessThanOrEqual(7);
      expect(new Set(cps.slice(firstRate))).toEqual(new Set([10]));
    }
  });
});

describe('TableHub with namespace totals: settled quiet ticks', () => {
  it('keeps the compact table\'s rows through quiet samples (only its time is new) and encodes again when counters move', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(30, 2);
    const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), destBudget: 8, totals: () => fake.totals() });
    try {
      const step = async () => {
        now += 1000;
        vi.setSystemTime(now);
        await hub.sampleNow();
      };
      fake.traffic(vip(2), rs(2, 0), { conns: 5, inPkts: 50 });
      // until two samples in a row are quiet (rates decayed, hold ages saturated): bounded
      for (let k = 0; k < 30 && hub.quietSamples < 2; k++) await step();
      expect(hub.quietSamples).toBeGreaterThanOrEqual(2);
      const before = await hub.compactTable();
      await step();
      const quiet = await hub.compactTable();
      expect(quiet.at).toBe(now);
      // the same row objects (the rows are texts: compared by value, equal either way)
      expect(quiet.t).toBe(before.t);
      expect(quiet.s).toBe(before.s);
      expect(decodeCompactTable(quiet)).toEqual(await hub.table());
      fake.traffic(vip(2), rs(2, 0), { conns: 1, inPkts: 2 });
      await step();
      const moved = await hub.compactTable();
      expect(moved.t).not.toBe(before.t);
      expect(moved.s).not.toBe(before.s);
      expect(decodeCompactTable(moved).find((s) => serviceId(s.key) === serviceId(vip(2)))!.stats.conns).toBeGreaterThan(
        decodeCompactTable(quiet).find((s) => serviceId(s.key) === serviceId(vip(2)))!.stats.conns);
      // the counters stand still again: rates still decay (not a quiet sample), but the reading is the same list
      const quietBefore = hub.quietSamples;
      await step();
      expect(hub.quietSamples).toBe(quietBefore);
      const still = await hub.compactTable();
      expect(still.t).toBe(moved.t);
      expect(decodeCompactTable(still)).toEqual(await hub.table());
    } finally {
      hub.close();
    }
  });

  it('sends empty deltas once every rate has settled, costs no sampling, and a client following the ticks keeps the hub\'s values', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(30, 2);
    const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), destBudget: 8, totals: () => fake.totals() });
    const ticks = hub.stats(undefined);
    const held = new LiveTable();
    const live = (id: string) => held.services.get(id)!.v;
    const inside = hub as unknown as { current: { state: Map<string, { v: { rCps: number } }> } };
    const step = async () => {
      await hub.sampleNow();
      const t = (await ticks.next()).value!.tick;
      expect(held.apply(t)).toBe(true);
      now += 1000;
      vi.setSystemTime(now);
      return t;
    };
    for (let k = 0; k < 4; k++) {
      fake.traffic(vip(2), rs(2, 0), { conns: 5, inPkts: 50 });
      await step();
    }
    expect(live(serviceId(vip(2))).cps).toBeGreaterThan(0);
    const quiet: number[] = [];
    for (let k = 0; k < 14; k++) {
      const t = await step();
      if (t.r.length === 0 && t.n.length === 0 && t.x.length === 0) quiet.push(k);
    }
    // rates decay to 0 and hold ages saturate within a few ticks; from then on nothing is sampled or sent
    expect(hub.quietSamples).toBeGreaterThanOrEqual(6);
    expect(quiet.length).toBeGreaterThanOrEqual(6);
    expect(live(serviceId(vip(2))).cps).toBe(0);

    // traffic again: a real sample, and the decoder agrees with the hub on every rate
    fake.traffic(vip(2), rs(2, 0), { conns: 10, inPkts: 20 });
    const quietBefore = hub.quietSamples;
    await step();
    await step();
    expect(hub.quietSamples).toBe(quietBefore);
    expect(live(serviceId(vip(2))).cps).toBeGreaterThan(0);
    expect(live(serviceId(vip(2))).cps).toBe(inside.current.state.get(serviceId(vip(2)))!.v.rCps);
    // a client joining now gets, in one full tick, what the one that followed every tick holds
    const late = new LiveTable();
    const joined = hub.stats(undefined);
    expect(late.apply((await joined.next()).value!.tick)).toBe(true);
    expect([...late.services].map(([id, x]) => [id, x.v, [...x.dests].map(([d, y]) => [d, y.v])]))
      .toEqual([...held.services].map(([id, x]) => [id, x.v, [...x.dests].map(([d, y]) => [d, y.v])]));
    hub.close();
    await ticks.return(undefined);
    await joined.return(undefined);
  });
});

describe('kernel file sources', () => {
  it('procIpvsFile and procTotalsFile read the files again each call and parse what changed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'sampler-'));
    try {
      const f = path.join(dir, 'ip_vs');
      const t = path.join(dir, 'ip_vs_stats');
      const structure = procIpvsFile(f);
      const totals = procTotalsFile(t);
      const stats = (conns: number) => `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
${conns.toString(16).padStart(8)}        0        0                0                0

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       0        0        0                0                0
`;
      writeFileSync(f, LAB_PROC_IP_VS);
      writeFileSync(t, stats(10));
      const a = await structure();
      expect(a).toEqual(parseProcIpvs(LAB_PROC_IP_VS, 1));
      expect(await structure()).toBe(a);
      const ta = await totals();
      expect(ta.conns).toBe(10);
      expect(await totals()).toBe(ta);
      const edited = LAB_PROC_IP_VS.replace('Masq    3      0          0', 'Masq    3      2          0');
      writeFileSync(f, edited);
      writeFileSync(t, stats(11));
      const b = await structure();
      expect(b).toEqual(parseProcIpvs(edited, 1));
      expect(b.services[0]).toBe(a.services[0]);
      expect((await totals()).conns).toBe(11);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('procIpvsFile across many changes', () => {
  it('each read gives what a whole-file parse gives, while unchanged blocks keep their objects (the buffers alternate under the parse)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'procipvs-'));
    try {
      const f = path.join(dir, 'ip_vs');
      const structure = procIpvsFile(f);
      const rnd = prng(11);
      let text = LAB_PROC_IP_VS;
      let prev = null as Awaited<ReturnType<typeof structure>> | null;
      for (let k = 0; k < 12; k++) {
        // counts of one real server change in place; now and then the first block goes to the end
        const lines = text.split('\n');
        const dests = lines.flatMap((l, i) => (i > 2 && l.startsWith('  ->') ? [i] : []));
        const at = dests[Math.floor(rnd() * dests.length)]!;
        lines[at] = lines[at]!.replace(/\d+(\s+\d+\s*)$/, (m, rest: string) => `${k + 1}${rest}`);
        expect(lines.join('\n')).not.toBe(text);
        text = lines.join('\n');
        if (k % 5 === 4) {
          const head = text.split('\n').slice(0, 3).join('\n') + '\n';
          const blocks = text.slice(head.length).split(/(?=^\S)/m);
          text = head + [...blocks.slice(1), blocks[0]].join('');
        }
        writeFileSync(f, text);
        const got = await structure();
        expect(got).toEqual(parseProcIpvs(text, 1));
        if (prev && k % 5 !== 4) expect(got.services.filter((x, i) => x !== prev!.services[i]).length).toBeLessThanOrEqual(1);
        prev = got;
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ProcFile', () => {
  it('reads a file whole into its own buffer (growing it), and gives null while the bytes stay the same', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'procfile-'));
    try {
      const f = path.join(dir, 'ip_vs');
      const big = 'x'.repeat(700_000); // past the first buffer: it grows
      writeFileSync(f, big);
      const file = new ProcFile(f);
      expect(Buffer.from(file.read()!).toString('latin1')).toBe(big);
      expect(file.read()).toBeNull();
      expect(Buffer.from(file.last()).toString('latin1')).toBe(big);
      writeFileSync(f, `${big.slice(0, -1)}y`);
      expect(file.read()!.at(-1)).toBe('y'.charCodeAt(0));
      expect(file.read()).toBeNull();
      writeFileSync(f, 'short');
      expect(Buffer.from(file.read()!).toString('latin1')).toBe('short');
      writeFileSync(f, 'shorT');
      expect(Buffer.from(file.read()!).toString('latin1')).toBe('shorT');
      expect(file.read()).toBeNull();
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('oldest', () => {
  it('gives what a stable sort and slice give: the k smallest keys, ties in input order', () => {
    const rnd = prng(7);
    for (let run = 0; run < 200; run++) {
      const items = Array.from({ length: Math.floor(rnd() * 40) }, (_, i) => i * 3);
      const keys = new Map(items.map((i) => [i, Math.floor(rnd() * 8)]));
      const key = (i: number) => keys.get(i)!;
      const k = Math.floor(rnd() * 6);
      expect(oldest(items, k, key)).toEqual([...items].sort((a, b) => key(a) - key(b)).slice(0, k));
    }
  });
});
