import { afterEach, describe, expect, it, vi } from 'vitest';
import type { StatSample, StatsState } from '@/lib/agent/events';
import { serviceId } from '@/lib/ipvs/ids';
import { LiveTable, type WireTick } from '@/lib/agent/live-wire';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationKey, type ServiceKey } from '@/lib/ipvs/model';
import { FakeIpvs } from '../ipvs/fake';
import { TableHub } from './hub';
import { fakeStructure, silentLog } from '../api/testing';
import { prng } from '@/lib/agent/testing';


/** What a browser must show: the agent's rates and connection counts of every object, by id. */
function expected(state: StatsState) {
  const live = (s: StatSample) => ({
    cps: s.rCps, inPps: s.rInPps, outPps: s.rOutPps, inBps: s.rInBps, outBps: s.rOutBps, active: s.active, inactive: s.inactive, persistent: s.persistent,
  });
  return [...state].map(([id, s]) => [id, live(s.v), [...s.dests].map(([did, d]) => [did, live(d)]).sort()]).sort();
}

function held(t: LiveTable) {
  return [...t.services].map(([id, s]) => [id, { ...s.v }, [...s.dests].map(([did, d]) => [did, { ...d.v }]).sort()]).sort();
}

type Traffic = 'steady' | 'kernel2s' | 'bursty' | 'idle' | 'stops';

interface Client {
  name: string;
  ticks: AsyncGenerator<{ id: string; tick: WireTick }>;
  table: LiveTable;
  first: boolean;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('stats ticks carry the agent\'s rates: every browser holds exactly the agent\'s values', () => {
  const modes = [
    { name: 'the sampler, 4 services\' real servers per tick', structure: true, totals: false, seed: 7 },
    { name: 'the sampler with the totals', structure: true, totals: true, seed: 11 },
    { name: 'every real server read every tick', structure: false, totals: false, seed: 23 },
  ];
  for (const mode of modes) {
    it(mode.name, async () => {
      vi.useFakeTimers({ toFake: ['Date'] });
      let now = Date.UTC(2026, 0, 1);
      vi.setSystemTime(now);
      const rand = prng(mode.seed);
      const fake = new FakeIpvs();
      const traffic = new Map<string, { key: ServiceKey; kind: Traffic; dests: DestinationKey[] }>();
      let made = 0;
      const addService = async () => {
        const i = made++;
        const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.${i >> 8}.${i & 255}`, port: 80 };
        await fake.addService({ key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
        const kinds: Traffic[] = ['steady', 'kernel2s', 'kernel2s', 'bursty', 'idle', 'stops'];
        const s = { key, kind: kinds[Math.floor(rand() * kinds.length)]!, dests: [] as DestinationKey[] };
        traffic.set(serviceId(key), s);
        for (let d = 0; d < 1 + Math.floor(rand() * 3); d++) await addDest(s);
        return key;
      };
      const addDest = async (s: { key: ServiceKey; dests: DestinationKey[] }) => {
        const dest: DestinationKey = { family: 'inet', address: `172.16.${made & 255}.${10 + s.dests.length + Math.floor(rand() * 200)}`, port: 8080 };
        if (s.dests.some((d) => d.address === dest.address)) return;
        await fake.addDestination(s.key, { ...dest, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } });
        s.dests.push(dest);
      };
      for (let i = 0; i < 24; i++) await addService();

      const hub = new TableHub({
        backend: fake, log: silentLog, structure: mode.structure ? fakeStructure(fake) : undefined, destBudget: 4,
        totals: mode.totals ? () => fake.totals() : undefined,
      });
      const inside = hub as unknown as { current: { seq: number; at: number; intervalMs: number; state: StatsState } | null };
      const clients: Client[] = [];
      const join = (name: string, watch: string[] = []) =>
        clients.push({ name, ticks: hub.stats(undefined, null, watch), table: new LiveTable(), first: true });
      join('from the start');

      let rateTicks = 0;
      for (let t = 0; t < 90; t++) {
        // traffic as the kernel would count it
        for (const s of traffic.values()) {
          const moves = s.kind === 'steady' || (s.kind === 'kernel2s' && t % 2 === 0) || (s.kind === 'bursty' && rand() < 0.3)
            || (s.kind === 'stops' && t % 20 < 6);
          if (!moves) continue;
          for (const d of s.dests) {
            if (rand() < 0.2) continue;
            const n = 1 + Math.floor(rand() * 40);
            fake.traffic(s.key, d, { conns: n, inPkts: n * 7, outPkts: n * 5, inBytes: n * 900 + Math.floor(rand() * 99), outBytes: n * 40_000 },
              rand() < 0.5 ? { cps: n, inPps: n * 7, outPps: n * 5, inBps: n * 900, outBps: n * 40_000 } : undefined);
            if (rand() < 0.3) fake.setConns(s.key, d, { active: Math.floor(rand() * 9), inactive: Math.floor(rand() * 30) });
          }
        }
        // and the table changing under it (a write pokes the hub, as the router does)
        const all = [...traffic.values()];
        const pick = () => all[Math.floor(rand() * all.length)]!;
        if (rand() < 0.08) {
          const s = pick();
          await fake.zero(s.key);
          hub.poke([s.key]);
        }
        if (rand() < 0.06 && all.length > 10) {
          const s = pick();
          await fake.removeService(s.key);
          traffic.delete(serviceId(s.key));
          hub.poke([s.key]);
        }
        if (rand() < 0.08) hub.poke([await addService()]);
        if (rand() < 0.08) {
          const s = pick();
          if (s.dests.length > 1 && rand() < 0.5) {
            await fake.removeDestination(s.key, s.dests.pop()!);
          } else {
            await addDest(s);
          }
          hub.poke([s.key]);
        }
        if (t === 30) join('joins mid-stream');
        if (t === 55) join('watches a service', [serviceId(pick().key)]);
        if (t === 70) join('joins after a quiet spell');

        // mostly 1 s ticks, sometimes late or early (a busy agent), sometimes long gaps past the hold
        const r = rand();
        now += r < 0.7 ? 1000 : r < 0.8 ? 1000 + Math.floor(rand() * 40) - 20 : r < 0.9 ? 500 : r < 0.95 ? 2600 : 7000;
        vi.setSystemTime(now);
        await hub.sampleNow();
        const cur = inside.current!;
        for (const c of clients) {
          const tick = (await c.ticks.next()).value!.tick;
          // a joining client gets everything once, then only what changed
          expect(tick.full, `${c.name}, tick ${t}`).toBe(c.first);
          c.first = false;
          expect(c.table.apply(JSON.parse(JSON.stringify(tick)) as WireTick), `${c.name}, tick ${t}`).toBe(true);
          expect(held(c.table), `${c.name}, tick ${t}`).toEqual(expected(cur.state));
        }
        for (const s of cur.state.values()) if (s.v.rCps > 0) rateTicks++;
      }
      hub.close();
      for (const c of clients) await c.ticks.return(undefined);
      // there were rates to carry
      expect(rateTicks).toBeGreaterThan(500);
    });
  }
});

describe('a full tick of a large table', () => {
  it('goes out in pieces; a subscriber resuming from a piece before the last gets the full tick again', async () => {
    const fake = new FakeIpvs();
    for (let i = 0; i < 1100; i++) {
      const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.1.${i >> 8}.${i & 255}`, port: 80 };
      await fake.addService({ key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
      for (const a of ['172.16.0.1', '172.16.0.2']) {
        await fake.addDestination(key, { family: 'inet', address: a, port: 80, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } });
      }
    }
    const hub = new TableHub({ backend: fake, log: silentLog, destBudget: 4 });
    const inside = hub as unknown as { current: { state: StatsState } | null };
    await hub.sampleNow();
    const pieces = async (lastEventId: string | null) => {
      const gen = hub.stats(undefined, lastEventId);
      const got: { id: string; tick: WireTick }[] = [];
      do got.push((await gen.next()).value!); while (got.at(-1)!.tick.more);
      await gen.return(undefined);
      return got;
    };
    const first = await pieces(null);
    // 3,300 objects: four pieces of one tick (PIECE_OBJECTS each), only the last under the tick's own id
    expect(first.map((p) => [p.tick.full, p.tick.part, p.tick.n.length])).toEqual([[true, 0, 1000], [true, 1, 1000], [true, 2, 1000], [true, 3, 300]]);
    expect(first[0]!.id).not.toBe(first[1]!.id);
    const table = new LiveTable();
    for (const p of first) expect(table.apply(JSON.parse(JSON.stringify(p.tick)) as WireTick)).toBe(true);
    expect(held(table)).toEqual(expected(inside.current!.state));
    const again = await pieces(first[0]!.id);
    expect(again.map((p) => p.tick)).toEqual(first.map((p) => p.tick));
    hub.close();
  });
});
