import { afterEach, describe, expect, it, vi } from 'vitest';
import { applyStatsTick, type StatsState, type StatsTick } from '@/lib/agent/events';
import { serviceId } from '@/lib/ipvs/ids';
import { deltaTick, fullTick } from '@/lib/agent/samples';
import { TickDecoder, type WireTick } from '@/lib/agent/tick-wire';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationKey, type ServiceKey } from '@/lib/ipvs/model';
import { FakeIpvs } from '../ipvs/fake';
import { TableHub } from './hub';
import { fakeStructure, silentLog } from '../api/testing';
import { prng } from '@/lib/agent/testing';


/** Order-free form of a tick: the console merges rows by id, so only their content matters. */
function normal(t: StatsTick) {
  return {
    seq: t.seq, at: t.at, intervalMs: t.intervalMs, full: t.full, removed: [...t.removed].sort(),
    services: [...t.services].sort((a, b) => a.id.localeCompare(b.id)).map((s) => ({
      id: s.id, v: s.v, removedDests: [...s.removedDests].sort(),
      dests: [...s.dests].sort((a, b) => a.id.localeCompare(b.id)),
    })),
  };
}

function plain(state: StatsState) {
  return [...state].map(([id, s]) => [id, s.v, [...s.dests].sort()]).sort();
}

type Traffic = 'steady' | 'kernel2s' | 'bursty' | 'idle' | 'stops';

interface Client {
  name: string;
  ticks: AsyncGenerator<{ id: string; tick: WireTick }>;
  decoder: TickDecoder;
  state: StatsState;
  first: boolean;
}

afterEach(() => {
  vi.useRealTimers();
});

describe('stats ticks on the wire carry no Director rates, yet decode to exactly the agent\'s ticks', () => {
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
        clients.push({ name, ticks: hub.stats(undefined, null, watch), decoder: new TickDecoder(), state: new Map(), first: true });
      join('from the start');

      let prev: StatsState | null = null;
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
          const got = c.decoder.decode((await c.ticks.next()).value!.tick);
          expect(got, `${c.name}, tick ${t}`).not.toBeNull();
          const want = c.first ? fullTick(cur.state, cur.seq, cur.at, cur.intervalMs) : deltaTick(prev!, cur.state, cur.seq, cur.at, cur.intervalMs);
          c.first = false;
          expect(normal(got!), `${c.name}, tick ${t}`).toEqual(normal(want));
          applyStatsTick(c.state, got!);
          expect(plain(c.state), `${c.name}, tick ${t}`).toEqual(plain(cur.state));
        }
        for (const s of cur.state.values()) if (s.v.rCps > 0) rateTicks++;
        prev = cur.state;
      }
      hub.close();
      for (const c of clients) await c.ticks.return(undefined);
      // the rates were the decoders' own computation, and there were rates to compute
      expect(hub.wireExplicitRates).toBe(0);
      expect(rateTicks).toBeGreaterThan(500);
    });
  }
});
