import { afterEach, describe, expect, it, vi } from 'vitest';
import { TickDecoder } from '@/lib/agent/tick-wire';
import { applyStatsTick, type StatsState } from '@/lib/agent/events';
import { serviceId } from '@/lib/ipvs/ids';
import { diffTables } from '@/lib/agent/table-diff';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceKey } from '@/lib/ipvs/model';
import { FakeIpvs } from '../ipvs/fake';
import { parseProcIpvs } from '@/lib/proc/ip-vs';
import { DestSweep, ReusedFileReader, oldest, procStructure } from './dest-sweep';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { TableHub } from './hub';
import { fakeStructure, silentLog } from '../api/testing';
import { prng } from '@/lib/agent/testing';

const vip = (i: number): ServiceKey => ({
  kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.100.${i >> 8}.${i & 255}`, port: 80,
});
const rs = (i: number, d: number, weight = 1): DestinationSpec => ({
  family: 'inet', address: `172.31.${d}.${(i % 250) + 1}`, port: 80, forward: 'dr', weight,
  upperThreshold: 0, lowerThreshold: 0, tunnel: DEFAULT_TUNNEL,
});

async function table(n: number, dests = 2): Promise<FakeIpvs> {
  const fake = new FakeIpvs();
  for (let i = 0; i < n; i++) {
    await fake.addService({ key: vip(i), scheduler: 'rr', flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
    for (let d = 0; d < dests; d++) await fake.addDestination(vip(i), rs(i, d));
  }
  return fake;
}

/** The fake as the hub's backend, counting the kernel calls a tick makes. */
function counting(fake: FakeIpvs) {
  const calls = { listServices: 0, listDestinations: 0, dump: 0 };
  const backend = new Proxy(fake, {
    get(target, prop, receiver) {
      const v = Reflect.get(target, prop, receiver) as unknown;
      if (typeof v !== 'function') return v;
      return (...args: unknown[]) => {
        if (prop === 'listServices' || prop === 'listDestinations' || prop === 'dump') calls[prop]++;
        return (v as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  }) as IpvsBackend;
  return { backend, calls };
}

afterEach(() => {
  vi.useRealTimers();
});

/**
 * A first read of everything, then `reads` reads with traffic on service 3 (watched) and service 11 (nobody
 * watches) before each: per read, `S:` the service dumps it made (with `calls`), then which of the two had
 * their real servers dumped.
 */
async function busyAndWatched(fake: FakeIpvs, sweep: DestSweep, reads: number, beforeRead: () => void, calls?: { listServices: number }) {
  await sweep.read(); // first: everything
  const watched = serviceId(vip(3));
  sweep.setWatched([watched]);
  const busy = serviceId(vip(11));
  const rows: string[] = [];
  for (let t = 0; t < reads; t++) {
    beforeRead();
    // with the kernel's estimator rates, as a busy service has them
    fake.traffic(vip(11), rs(11, 0), { conns: 1, inPkts: 3 }, { cps: 1, inPps: 3 });
    fake.traffic(vip(3), rs(3, 0), { conns: 1, inPkts: 3 }, { cps: 1, inPps: 3 });
    const s = calls?.listServices ?? 0;
    const r = await sweep.read();
    rows.push(`${calls ? `${calls.listServices - s}:` : ''}${r.dumped.includes(busy) ? 'busy' : '-'}:${r.dumped.includes(watched) ? 'watched' : '-'}`);
  }
  return { rows, busy };
}

describe('DestSweep: budgeted GET_DEST dumps', () => {
  it('200 services, budget 32: one service dump per read; GET_DEST for services whose counters moved first, the rest in a rotation of budget/16', async () => {
    const fake = await table(200);
    const { backend, calls } = counting(fake);
    const sweep = new DestSweep({ backend, structure: fakeStructure(fake), budget: 32 });

    const first = await sweep.read();
    expect(first.entries).toHaveLength(200); // the first read takes the whole table
    expect(calls.listDestinations).toBe(200);

    // nothing moves: a service's dump stays current, and only the rotation (for thresholds, tunnel settings) reads
    const seen = new Set<string>();
    for (let t = 0; t < Math.ceil(200 / 2); t++) {
      const before = { ...calls };
      const r = await sweep.read();
      expect(calls.listServices - before.listServices).toBe(1);
      expect(calls.listDestinations - before.listDestinations).toBe(2);
      expect(calls.dump).toBe(0);
      expect(r.entries).toHaveLength(200);
      for (const e of r.entries) expect(e.destinations).toHaveLength(2);
      for (const id of r.dumped) seen.add(id);
    }
    expect(seen.size).toBe(200);

    // traffic on 40 services: those whose counters moved go first, 32 on this read and the other 8 on the next
    const busy = Array.from({ length: 40 }, (_, k) => 5 * k);
    for (const i of busy) fake.traffic(vip(i), rs(i, 0), { conns: 1, inPkts: 3 });
    const busyIds = new Set(busy.map((i) => serviceId(vip(i))));
    const r1 = await sweep.read();
    expect(r1.dumped).toHaveLength(32);
    expect(r1.dumped.every((id) => busyIds.has(id))).toBe(true);
    const r2 = await sweep.read();
    const rest = r2.dumped.filter((id) => busyIds.has(id));
    expect(new Set([...r1.dumped, ...rest]).size).toBe(40);
    for (const i of busy) {
      const d = r2.entries.find((e) => serviceId(e.key) === serviceId(vip(i)))!.destinations.find((x) => x.address === rs(i, 0).address)!;
      expect(d.stats.conns).toBe(1);
    }
  });

  it('alternate reads: service dump and /proc on alternate calls, both after a write; watched services every call; a service gone meanwhile is skipped', async () => {
    const fake = await table(100);
    const { backend, calls } = counting(fake);
    let procReads = 0;
    const structure = fakeStructure(fake);
    const sweep = new DestSweep({ backend, structure: () => { procReads++; return structure(); }, budget: 4, alternate: true });
    await sweep.read(); // first: everything
    expect([calls.listServices, procReads]).toEqual([1, 1]);
    sweep.setWatched([serviceId(vip(7))]);
    const kinds: string[] = [];
    for (let t = 0; t < 4; t++) {
      const before = { s: calls.listServices, p: procReads };
      const r = await sweep.read();
      kinds.push(`${calls.listServices - before.s}${procReads - before.p}`);
      expect(r.dumped).toContain(serviceId(vip(7)));
      expect(r.entries).toHaveLength(100);
    }
    expect(kinds).toEqual(['01', '10', '01', '10']);

    // a real server added behind the agent's back shows within two reads
    await fake.addDestination(vip(42), rs(42, 5));
    const first = await sweep.read();
    const second = await sweep.read();
    const got = [first, second].map((r) => r.entries.find((e) => serviceId(e.key) === serviceId(vip(42)))!.destinations.length);
    expect(got).toContain(3);

    // a write names its service: both reads at once
    sweep.markDirty([vip(3)]);
    const b = { s: calls.listServices, p: procReads };
    const w = await sweep.read();
    expect([calls.listServices - b.s, procReads - b.p]).toEqual([1, 1]);
    expect(w.dumped).toContain(serviceId(vip(3)));

    // removed between the service list and its GET_DEST: left out, not an error
    sweep.markDirty([vip(9)]);
    await sweep.read();
    await fake.removeService(vip(7));
    const r = await sweep.read();
    const r2 = await sweep.read();
    expect([r, r2].some((x) => x.entries.every((e) => serviceId(e.key) !== serviceId(vip(7))))).toBe(true);
  });

  it('alternate reads: a busy service that nobody watches has its real servers read on the calls that read the service dump, a watched one every call', async () => {
    const fake = await table(50);
    const { backend, calls } = counting(fake);
    const sweep = new DestSweep({ backend, structure: fakeStructure(fake), budget: 8, alternate: true });
    const { rows, busy } = await busyAndWatched(fake, sweep, 6, () => {}, calls);
    expect(rows).toEqual(['0:-:watched', '1:busy:watched', '0:-:watched', '1:busy:watched', '0:-:watched', '1:busy:watched']);
    // its counters are current as of the last call that read both
    const last = (await sweep.read(), await sweep.read()).entries.find((e) => serviceId(e.key) === busy)!;
    expect(last.destinations.find((d) => d.address === rs(11, 0).address)!.stats.conns).toBe(6);
  });

  it('busyEveryMs: a busy service nobody watches has its real servers read at most that often, the first time it turns busy at once; a watched one every call', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(50);
    const sweep = new DestSweep({ backend: fake, structure: fakeStructure(fake), budget: 8, alternate: true, busyEveryMs: 3500 });
    const { rows } = await busyAndWatched(fake, sweep, 10, () => vi.setSystemTime((now += 1000)));
    // read 1 s after the first read (it just turned busy), then every 4 s: the service dump comes every other call
    expect(rows).toEqual(['-:watched', 'busy:watched', '-:watched', '-:watched', '-:watched', 'busy:watched', '-:watched', '-:watched', '-:watched', 'busy:watched']);
  });

  it('reports structure changes made behind its back on the next read', async () => {
    const fake = await table(200);
    const sweep = new DestSweep({ backend: fake, structure: fakeStructure(fake), budget: 32 });
    await sweep.read();
    const prev = (await sweep.read()).entries;

    await fake.addDestination(vip(150), rs(150, 7));
    await fake.updateDestination(vip(10), rs(10, 0, 5));
    await fake.removeDestination(vip(77), rs(77, 1));
    await fake.addService({ key: vip(500), scheduler: 'wlc', flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
    await fake.addDestination(vip(500), { ...rs(500, 0), upperThreshold: 9 });
    await fake.removeService(vip(3));

    const r = await sweep.read();
    expect(r.dumped.slice(0, 4).sort()).toEqual([vip(10), vip(77), vip(150), vip(500)].map(serviceId).sort());
    const changes = diffTables(prev, r.entries);
    const summary = changes.map((c) => c.type).sort();
    expect(summary).toEqual(['destination_added', 'destination_changed', 'destination_removed', 'service_added', 'service_removed']);
    const added = changes.find((c) => c.type === 'service_added');
    // a new service arrives with its real servers' full settings, not /proc's partial view
    expect(added?.type === 'service_added' && added.service.destinations[0]?.upperThreshold).toBe(9);
    // and the next read finds nothing more to report
    expect(diffTables(r.entries, (await sweep.read()).entries)).toEqual([]);
  });

  it('dumps a service a write names even when /proc shows no difference (thresholds)', async () => {
    const fake = await table(100);
    const sweep = new DestSweep({ backend: fake, structure: fakeStructure(fake), budget: 8 });
    await sweep.read();
    await sweep.read();
    await fake.updateDestination(vip(42), { ...rs(42, 1), upperThreshold: 100 });
    sweep.markDirty([vip(42)]);
    const r = await sweep.read();
    expect(r.dumped[0]).toBe(serviceId(vip(42)));
    const e = r.entries.find((x) => serviceId(x.key) === serviceId(vip(42)))!;
    expect(e.destinations.find((d) => d.address === rs(42, 1).address)?.upperThreshold).toBe(100);
  });

  it('holds back changed services that do not fit in the budget, and leaves new ones out until dumped', async () => {
    const fake = await table(40);
    const sweep = new DestSweep({ backend: fake, structure: fakeStructure(fake), budget: 4 });
    await sweep.read();
    for (let i = 0; i < 10; i++) await fake.addDestination(vip(i), rs(i, 5));
    for (let i = 100; i < 106; i++) {
      await fake.addService({ key: vip(i), scheduler: 'rr', flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
    }
    let prev = (await table(40).then((f) => f.dump()));
    let reported = 0;
    for (let t = 0; t < 4; t++) {
      const r = await sweep.read();
      expect(r.dumped).toHaveLength(4);
      for (const e of r.entries) {
        // either the old structure or the whole new one: never a half-read service
        expect([2, 3, 0]).toContain(e.destinations.length);
      }
      reported += diffTables(prev, r.entries).length;
      prev = r.entries;
    }
    expect(prev).toHaveLength(46);
    expect(reported).toBe(16);
  });

  it('with no more services than the budget, dumps every service on every read', async () => {
    const fake = await table(32);
    const { backend, calls } = counting(fake);
    const sweep = new DestSweep({ backend, structure: fakeStructure(fake), budget: 32 });
    for (let t = 0; t < 3; t++) expect((await sweep.read()).dumped).toHaveLength(32);
    expect(calls.listDestinations).toBe(96);
  });

  it('refuses a budget that is not a positive integer', () => {
    const fake = new FakeIpvs();
    expect(() => new DestSweep({ backend: fake, structure: fakeStructure(fake), budget: 0 })).toThrow(/destBudget/);
  });
});

describe('TableHub over the sweep: rates from each destination\'s own readings', () => {
  it('reads a steady 10 conns/s on destinations dumped only every 6 or 7 ticks, and holds it between dumps', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(200, 1);
    const hub = new TableHub({ backend: fake, log: silentLog, structure: fakeStructure(fake), destBudget: 32 });
    const ticks = hub.stats(undefined);
    const decoder = new TickDecoder();
    const state: StatsState = new Map();
    const watched = [5, 60, 199];
    const destCps = new Map<number, number[]>(watched.map((i) => [i, []]));
    const svcCps: number[] = [];
    for (let t = 0; t < 24; t++) {
      // the kernel's estimator sums the counters every 2 s: 20 connections at a time, and says 10/s itself
      if (t > 0 && t % 2 === 0) for (const i of watched) fake.traffic(vip(i), rs(i, 0), { conns: 20 }, { cps: 10 });
      await hub.sampleNow();
      applyStatsTick(state, decoder.decode((await ticks.next()).value!.tick)!);
      for (const i of watched) destCps.get(i)!.push(state.get(serviceId(vip(i)))!.dests.get(`${rs(i, 0).address}:80`)!.rCps);
      svcCps.push(state.get(serviceId(vip(5)))!.v.rCps);
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

// lab capture (Linux 6.1 UML) of /proc/net/ip_vs, as in lib/proc/ip-vs.test.ts
const HEAD = `IP Virtual Server version 1.2.1 (size=4096)
Prot LocalAddress:Port Scheduler Flags
  -> RemoteAddress:Port Forward Weight ActiveConn InActConn
`;
const BLOCKS = [
  'SCTP  0A010103:0F1C nq  \n',
  `TCP  [2001:0db8:0000:0000:0000:0000:0000:0001]:0050 sh persistent 10000 40000000
  -> [2001:0db8:0000:0000:0000:0000:0000:000a]:1F90      Masq    1      0          0         \n`,
  `TCP  0A010101:0050 rr  persistent 30000 FFFFFF00
  -> 0A020202:0050      Masq    3      0          0         
  -> 0A020203:0050      Masq    1      4          7         \n`,
  `FWM  00000009 rr persistent 6000 40000000
  -> [2001:0db8:0000:0000:0000:0000:0000:000b]:0000      Route   1      0          0         \n`,
];

describe('procStructure: /proc/net/ip_vs parsed block by block', () => {
  it('gives what a whole-file parse gives, across edits, reusing unchanged blocks', async () => {
    let text = HEAD + BLOCKS.join('');
    const read = procStructure(async () => text);
    const first = await read();
    expect(first).toEqual(parseProcIpvs(text, 1));
    expect(first.services.map((s) => s.key.family)).toEqual(['inet', 'inet6', 'inet', 'inet6']);

    text = HEAD + [BLOCKS[0], BLOCKS[2]!.replace('4          7', '5          7'), BLOCKS[3], BLOCKS[1]].join('');
    const second = await read();
    expect(second).toEqual(parseProcIpvs(text, 1));
    expect(second.services[0]).toBe(first.services[0]); // unchanged block: same object
    expect(second.services[1]).not.toBe(first.services[2]);
    expect(second.services[1]!.destinations[1]!.activeConns).toBe(5);

    text = HEAD;
    expect((await read()).services).toEqual([]);
  });

  it('from a file: an unchanged read between two changes still compares with the right bytes (the reader alternates buffers)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'proc-structure-'));
    try {
      const f = path.join(dir, 'ip_vs');
      const read = procStructure(f);
      const v1 = HEAD + BLOCKS.join('');
      const v2 = HEAD + [BLOCKS[0], BLOCKS[1], BLOCKS[2]!.replace('4          7', '5          7'), BLOCKS[3]].join('');
      const v3 = HEAD + [BLOCKS[0], BLOCKS[1], BLOCKS[2]!.replace('4          7', '6          7'), BLOCKS[3]].join('');
      for (const text of [v1, v1, v2, v2, v2, v3, v1, v1, v3]) {
        writeFileSync(f, text);
        expect(await read()).toEqual(parseProcIpvs(text, 1));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('names the line of a malformed block', async () => {
    const read = procStructure(async () => `${HEAD}${BLOCKS[2]}TCP  0A010101:0051 rr\n  -> nonsense Masq 1 0 0\n`);
    await expect(read()).rejects.toThrow("/proc/net/ip_vs line 8: bad destination address: '  -> nonsense Masq 1 0 0'");
  });
});

/** fakeStructure, but the same object for the same content, as procStructure gives for the same text. */
function memoStructure(fake: FakeIpvs): () => Promise<ProcIpvsLike> {
  const read = fakeStructure(fake);
  let last: { json: string; value: ProcIpvsLike } | null = null;
  return async () => {
    const value = await read();
    const json = JSON.stringify(value);
    if (last?.json === json) return last.value;
    last = { json, value };
    return value;
  };
}
type ProcIpvsLike = Awaited<ReturnType<ReturnType<typeof fakeStructure>>>;

/**
 * The backend handing back its previous service objects for unchanged replies, as the netlink backend does
 * (netlink-client.kernel.test.ts): the sweep tells an unchanged service dump by the objects' identity.
 */
function reusing<T extends { backend: IpvsBackend }>(c: T): T {
  const kept = new Map<string, unknown>();
  const listServices = c.backend.listServices.bind(c.backend);
  const backend = Object.create(c.backend) as IpvsBackend;
  backend.listServices = async () => (await listServices()).map((svc) => {
    const json = JSON.stringify(svc);
    const k = kept.get(json);
    if (k) return k as typeof svc;
    kept.set(json, svc);
    return svc;
  });
  return { ...c, backend };
}

/** A sweep over a fake table of `n` services, with the namespace totals, counting the kernel calls it makes. */
async function quietSweep(n: number, budget: number, fullEveryMs?: number) {
  const fake = await table(n);
  const { backend, calls } = reusing(counting(fake));
  const sweep = new DestSweep({
    backend, structure: memoStructure(fake), budget, alternate: true, totals: () => fake.totals(), ...(fullEveryMs ? { fullEveryMs } : {}),
  });
  return { fake, calls, sweep };
}

describe('DestSweep with namespace totals: no counter reads while nothing moves', () => {
  it('skips the service dump and GET_DEST dumps while the totals stand still, and resumes on traffic', async () => {
    const { fake, calls, sweep } = await quietSweep(100, 16);
    const first = await sweep.read();
    expect(first.unchanged).toBe(false);
    expect(calls).toEqual({ listServices: 1, listDestinations: 100, dump: 0 });

    for (let k = 0; k < 6; k++) {
      const r = await sweep.read();
      expect(r.unchanged).toBe(true);
      expect(r.entries).toBe(first.entries);
    }
    // no service dump; GET_DEST only for the rotation (a sixteenth of the budget a call, from the second quiet call on), which found nothing new
    expect(calls).toEqual({ listServices: 1, listDestinations: 100 + 5 * 1, dump: 0 });
    expect(sweep.quietFast).toBe(5);
    expect(sweep.quietReads).toBe(6);

    fake.traffic(vip(7), rs(7, 1), { conns: 3, inPkts: 9 });
    let seen = false;
    for (let k = 0; k < 2 && !seen; k++) {
      const r = await sweep.read();
      expect(r.unchanged).toBe(false);
      seen = r.entries.find((e) => serviceId(e.key) === serviceId(vip(7)))!.stats.conns === 3;
    }
    expect(seen).toBe(true);
    expect(calls.listServices).toBe(2);
    expect(calls.listDestinations).toBeGreaterThan(105); // the budgeted sweep runs again while counters move
  });

  it('a call that finds the totals moved reads the service dump whatever its parity, and the file is read at least every other call', async () => {
    const fake = await table(50);
    const { backend, calls } = counting(fake);
    const memo = memoStructure(fake);
    let files = 0;
    const sweep = new DestSweep({ backend, structure: () => (files++, memo()), budget: 8, alternate: true, totals: () => fake.totals() });
    await sweep.read();
    await sweep.read();
    const rows: string[] = [];
    for (let t = 0; t < 10; t++) {
      // the kernel's estimator runs every 2 s; a sample out of turn (a join, a write) shifts the calls' parity
      if ([1, 4, 6, 7].includes(t)) fake.traffic(vip(11), rs(11, 0), { conns: 2, inPkts: 6 }, { cps: 1, inPps: 3 });
      const s0 = calls.listServices, f0 = files;
      await sweep.read();
      rows.push(`${calls.listServices - s0 ? 'S' : '-'}${files - f0 ? 'F' : '-'}`);
    }
    // every movement's counters read at once; the file on every call that does not read them, or the call after
    expect(rows).toEqual(['-F', 'S-', '-F', '-F', 'S-', '-F', 'S-', 'SF', '-F', '-F']);
  });

  it('sees a service added behind its back at the next call without traffic, and reads everything again after fullEveryMs', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const { fake, calls, sweep } = await quietSweep(20, 4, 30_000);
    await sweep.read();
    await sweep.read();
    await fake.addService({ key: vip(500), scheduler: 'wlc', flags: DEFAULT_FLAGS, timeout: 0, netmask: '255.255.255.255', pe: null });
    await fake.addDestination(vip(500), rs(500, 0));
    const ids = async () => (await sweep.read()).entries.map((e) => serviceId(e.key));
    expect(await ids()).toContain(serviceId(vip(500)));
    for (let k = 0; k < 4; k++) await sweep.read();
    const quietBefore = sweep.quietReads;
    expect(quietBefore).toBeGreaterThan(0);
    const servicesBefore = calls.listServices;
    // a scheduler flag changed behind its back: /proc/net/ip_vs does not print flags, and the totals stand still
    await fake.updateService({ key: vip(3), scheduler: 'rr', flags: { ...DEFAULT_FLAGS, sched1: true }, timeout: 0, netmask: '255.255.255.255', pe: null });
    for (let k = 0; k < 3; k++) {
      const r = await sweep.read();
      expect(r.unchanged).toBe(true);
      expect(r.entries.find((e) => serviceId(e.key) === serviceId(vip(3)))!.flags.sched1).toBe(false);
    }
    expect(calls.listServices).toBe(servicesBefore);
    now += 31_000;
    vi.setSystemTime(now);
    const r1 = await sweep.read();
    expect(calls.listServices).toBe(servicesBefore + 1); // the service dump, once fullEveryMs has passed
    expect(r1.unchanged).toBe(false);
    expect(r1.entries.find((e) => serviceId(e.key) === serviceId(vip(3)))!.flags.sched1).toBe(true);
    expect(diffTables((await sweep.read()).entries, r1.entries)).toEqual([]);
  });

  it('the fullEveryMs read of an idle table that finds it the same is a quiet call, and the calls after it too (they stayed "moving", each sampled in full: 7 % of a core in the lab)', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const { calls, sweep } = await quietSweep(20, 32, 30_000);
    await sweep.read();
    const before = calls.listServices;
    // 1 s ticks (a longer pause reads everything anyway)
    let full = 0;
    for (let k = 0; k < 31; k++) {
      now += 1000;
      vi.setSystemTime(now);
      if (!(await sweep.read()).unchanged) full++;
    }
    // read, and found the same: nothing for the hub to sample or encode (it sampled all 1,000 services, once a minute)
    expect(full).toBe(0);
    expect(calls.listServices).toBe(before + 1);
    for (let k = 0; k < 5; k++) {
      now += 1000;
      vi.setSystemTime(now);
      expect((await sweep.read()).unchanged).toBe(true);
    }
    expect(calls.listServices).toBe(before + 1);
  });

  it('keeps rotating GET_DEST dumps while quiet: a threshold changed by another tool shows within a rotation, unchanged ticks stay unchanged', async () => {
    const { fake, calls, sweep } = await quietSweep(40, 64);
    await sweep.read();
    await sweep.read();
    const before = calls.listDestinations;
    const r = await sweep.read();
    expect(r.unchanged).toBe(true);
    expect(calls.listDestinations - before).toBe(4); // the rotation's budget (64 / 16), nothing more
    await fake.updateDestination(vip(33), { ...rs(33, 1), lowerThreshold: 5, upperThreshold: 9 });
    let seenAt = -1;
    for (let k = 0; k < 12 && seenAt < 0; k++) {
      const x = await sweep.read();
      const d = x.entries.find((e) => serviceId(e.key) === serviceId(vip(33)))!.destinations.find((q) => q.address === rs(33, 1).address)!;
      if (d.upperThreshold === 9) seenAt = k;
    }
    expect(seenAt).toBeGreaterThanOrEqual(0);
    expect(seenAt).toBeLessThanOrEqual(11); // ceil(40 / 4) calls for a whole rotation, one more to read it
    expect(sweep.quietFast).toBeGreaterThan(0);
  });

  it('a write named by markDirty is read at the next call even while the totals stand still', async () => {
    const { fake, calls, sweep } = await quietSweep(50, 4);
    await sweep.read();
    await sweep.read();
    await fake.updateDestination(vip(3), { ...rs(3, 0), upperThreshold: 77 });
    sweep.markDirty([vip(3)]);
    const before = calls.listDestinations;
    const r = await sweep.read();
    expect(r.dumped).toContain(serviceId(vip(3)));
    expect(calls.listDestinations).toBeGreaterThan(before);
    expect(r.entries.find((e) => serviceId(e.key) === serviceId(vip(3)))!.destinations.find((d) => d.address === rs(3, 0).address)!.upperThreshold).toBe(77);
  });
});

describe('TableHub with namespace totals: settled quiet ticks', () => {
  it('sends empty deltas once every rate has settled, costs no sampling, and a decoder following the ticks keeps the hub\'s state', async () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    let now = Date.UTC(2026, 0, 1);
    vi.setSystemTime(now);
    const fake = await table(30, 2);
    const hub = new TableHub({ backend: fake, log: silentLog, structure: memoStructure(fake), destBudget: 8, alternateReads: true, totals: () => fake.totals() });
    const ticks = hub.stats(undefined);
    const decoder = new TickDecoder();
    const state: StatsState = new Map();
    const step = async () => {
      await hub.sampleNow();
      const t = (await ticks.next()).value!.tick;
      applyStatsTick(state, decoder.decode(t)!);
      now += 1000;
      vi.setSystemTime(now);
      return t;
    };
    for (let k = 0; k < 4; k++) {
      fake.traffic(vip(2), rs(2, 0), { conns: 5, inPkts: 50 });
      await step();
    }
    expect(state.get(serviceId(vip(2)))!.v.rCps).toBeGreaterThan(0);
    const quiet: number[] = [];
    for (let k = 0; k < 14; k++) {
      const t = await step();
      if (t.r.length === 0 && t.n.length === 0 && t.x.length === 0) quiet.push(k);
    }
    // rates decay to 0 and hold ages saturate within a few ticks; from then on nothing is sampled or sent
    expect(hub.quietSamples).toBeGreaterThanOrEqual(6);
    expect(quiet.length).toBeGreaterThanOrEqual(6);
    expect(state.get(serviceId(vip(2)))!.v.rCps).toBe(0);
    expect(state.get(serviceId(vip(2)))!.v.conns).toBe(20);

    // traffic again: a real sample, and the decoder agrees with the hub on every rate
    fake.traffic(vip(2), rs(2, 0), { conns: 10, inPkts: 20 });
    const quietBefore = hub.quietSamples;
    await step();
    await step();
    expect(hub.quietSamples).toBe(quietBefore);
    expect(state.get(serviceId(vip(2)))!.v.conns).toBe(30);
    expect(state.get(serviceId(vip(2)))!.v.rCps).toBeGreaterThan(0);
    const fresh = new TickDecoder();
    const full: StatsState = new Map();
    const joined = hub.stats(undefined);
    applyStatsTick(full, fresh.decode((await joined.next()).value!.tick)!);
    expect(full).toEqual(state);
    hub.close();
    await ticks.return(undefined);
    await joined.return(undefined);
  });
});

describe('ReusedFileReader', () => {
  it('gives the file\'s bytes in buffers kept between calls, and says whether they changed', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'director-reused-'));
    try {
      const f = path.join(dir, 'ip_vs');
      const big = 'x'.repeat(200_000); // past the first buffer's 64 kB: it grows
      writeFileSync(f, big);
      const r = new ReusedFileReader(f, 100_000); // sync reads up to 100 kB, async past it
      const a = await r.read();
      expect(a.changed).toBe(true);
      expect(a.bytes.toString('latin1')).toBe(big);
      const b = await r.read();
      expect(b.changed).toBe(false);
      expect(b.bytes.toString('latin1')).toBe(big);
      writeFileSync(f, `${big.slice(0, -1)}y`);
      const c = await r.read();
      expect(c.changed).toBe(true);
      expect(c.bytes.at(-1)).toBe('y'.charCodeAt(0));
      const d = await r.read();
      expect(d.changed).toBe(false);
      // the two buffers alternate: the previous call's bytes are still intact
      expect(c.bytes.toString('latin1')).toBe(d.bytes.toString('latin1'));
      writeFileSync(f, 'short');
      const e = await r.read();
      expect(e.changed).toBe(true);
      expect(e.bytes.toString('latin1')).toBe('short');
      writeFileSync(f, 'shorT');
      const g = await r.read(); // a small file: the blocking path
      expect(g.changed).toBe(true);
      expect(g.bytes.toString('latin1')).toBe('shorT');
      expect((await r.read()).changed).toBe(false);
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
      const keys = new Map(items.map((i) => [i, Math.floor(rnd() * 8)])); // few distinct keys: many ties
      const key = (i: number) => keys.get(i)!;
      const k = Math.floor(rnd() * 6);
      expect(oldest(items, k, key)).toEqual([...items].sort((a, b) => key(a) - key(b)).slice(0, k));
    }
  });
});
