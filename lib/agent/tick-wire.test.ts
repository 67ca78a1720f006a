import { describe, expect, it } from 'vitest';
import { applyStatsTick, EMPTY_SAMPLE, type StatSample, type StatsState, type StatsTick } from './events';
import { ZERO_STATS, type ServiceEntry } from '../ipvs/model';
import { deltaTick, fullTick, sampleTable } from './samples';
import { FIELD_ORDER, isWireTick, TickDecoder, TickEncoder, WIRE_VERSION, WireDecodeError, type WireTick } from './tick-wire';
import { prng } from './testing';


function sample(rand: () => number, prev?: StatSample): StatSample {
  const s: StatSample = { ...(prev ?? EMPTY_SAMPLE) };
  for (const f of FIELD_ORDER) {
    if (rand() < 0.5) continue;
    // counters only grow, except after a zero; rates are any non-negative number
    if (f === 'conns' || f === 'inPkts' || f === 'outPkts' || f === 'inBytes' || f === 'outBytes') {
      s[f] = rand() < 0.05 ? 0 : s[f] + Math.floor(rand() * 1e6) * (rand() < 0.1 ? 1e6 : 1);
    } else {
      s[f] = rand() < 0.2 ? 0 : Math.round(rand() * 1e5) / 100;
    }
  }
  return s;
}

/** The next table state: some objects change, some go, some arrive. */
function evolve(rand: () => number, prev: StatsState, tick: number): StatsState {
  const next: StatsState = new Map();
  for (const [id, svc] of prev) {
    if (rand() < 0.05) continue;
    const dests = new Map<string, StatSample>();
    for (const [did, d] of svc.dests) {
      if (rand() < 0.05) continue;
      dests.set(did, rand() < 0.6 ? sample(rand, d) : d);
    }
    if (rand() < 0.1) dests.set(`10.9.${tick}.${Math.floor(rand() * 250)}:80`, sample(rand));
    next.set(id, { v: rand() < 0.6 ? sample(rand, svc.v) : svc.v, dests });
  }
  const add = Math.floor(rand() * 4);
  for (let i = 0; i < add; i++) {
    const dests = new Map<string, StatSample>();
    for (let d = 0; d < Math.floor(rand() * 4); d++) dests.set(`10.0.${d}.${tick}:80`, rand() < 0.5 ? sample(rand) : { ...EMPTY_SAMPLE });
    next.set(`tcp:192.0.2.${tick % 250}:${1000 + i + tick * 10}`, { v: rand() < 0.5 ? sample(rand) : { ...EMPTY_SAMPLE }, dests });
  }
  return next;
}

/** What a sweeping sampler might report: some services' real servers not read, others over their own interval. */
function reads(rand: () => number, state: StatsState): Map<string, number | null> | undefined {
  if (rand() < 0.3) return undefined;
  const m = new Map<string, number | null>();
  for (const id of state.keys()) {
    const r = rand();
    if (r < 0.5) m.set(id, null);
    else if (r < 0.8) m.set(id, Math.floor(rand() * 40_000));
  }
  return m;
}

function plain(state: StatsState) {
  return [...state].map(([id, s]) => [id, s.v, [...s.dests].sort()]).sort();
}

/** Order-free form of a tick: the console merges rows by id. */
function normal(t: StatsTick) {
  return {
    ...t, removed: [...t.removed].sort(),
    services: [...t.services].sort((a, b) => a.id.localeCompare(b.id)).map((s) => ({
      ...s, removedDests: [...s.removedDests].sort(), dests: [...s.dests].sort((a, b) => a.id.localeCompare(b.id)),
    })),
  };
}

describe('compact stats ticks', () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    it(`a client that decodes every tick holds exactly the agent's state (seed ${seed})`, () => {
      const rand = prng(seed);
      const enc = new TickEncoder();
      let state: StatsState = evolve(rand, new Map(), 0);
      // two clients: one from the start, one joining later with a full tick
      const early = { dec: new TickDecoder(), state: new Map() as StatsState };
      const late = { dec: new TickDecoder(), state: new Map() as StatsState };
      applyStatsTick(early.state, early.dec.decode(enc.encode(fullTick(state, 1, 0, 0), null))!);
      for (let seq = 2; seq < 60; seq++) {
        const next = evolve(rand, state, seq);
        // rates here are random, not computed from counters: they all travel, and still decode exactly
        const tick = deltaTick(state, next, seq, seq * 1000, 1000);
        const wire = enc.encode(tick, state, reads(rand, next));
        state = next;
        const decoded = early.dec.decode(JSON.parse(JSON.stringify(wire)) as WireTick)!;
        expect(normal(decoded), `tick ${seq}`).toEqual(normal(tick));
        applyStatsTick(early.state, decoded);
        expect(plain(early.state), `after tick ${seq}`).toEqual(plain(state));
        if (seq === 30) applyStatsTick(late.state, late.dec.decode(enc.encode(fullTick(state, seq, 0, 0), null))!);
        else if (seq > 30) applyStatsTick(late.state, late.dec.decode(wire)!);
      }
      expect(plain(late.state)).toEqual(plain(state));
    });
  }

  it('sends counters in a delta as increments, no Director rates, and nothing for an unchanged object', () => {
    const entry = (address: string, conns: number, inBytes: number) => ({
      key: { kind: 'addr', family: 'inet', protocol: 'tcp', address, port: 80 }, stats: { ...ZERO_STATS, conns, inBytes }, destinations: [],
    }) as unknown as ServiceEntry;
    const enc = new TickEncoder();
    const dec = new TickDecoder();
    const a = sampleTable([entry('10.0.0.1', 5, 123_456_789_000), entry('10.0.0.2', 1, 0)], null, 0);
    const full = enc.encode(fullTick(a, 1, 0, 0), null);
    expect(full.n).toEqual([[1, 'tcp:10.0.0.1:80'], [2, 'tcp:10.0.0.2:80']]);
    dec.decode(full);
    const b = sampleTable([entry('10.0.0.1', 5, 123_456_790_000), entry('10.0.0.2', 1, 0)], a, 1000);
    const delta = enc.encode(deltaTick(a, b, 2, 1000, 1000), a);
    // object 1, mask bit 3 (inBytes), increment 1000; its rate is the decoder's to compute (over one estimator
    // period, the least two movements can be apart); object 2 is absent; no names repeated
    expect(delta).toMatchObject({ n: [], r: [1, 1 << 3, 1000], x: [] });
    expect(dec.decode(delta)!.services).toEqual([{ id: 'tcp:10.0.0.1:80', v: { inBytes: 123_456_790_000, rInBps: 500 }, dests: [], removedDests: [] }]);
    expect(enc.explicitRates).toBe(0);
  });

  it('sends no real-server interval for services whose every object has settled, and still decodes exactly', () => {
    const svc = (i: number, conns: number) => ({
      key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.0.0.${i}`, port: 80 }, stats: { ...ZERO_STATS, conns },
      destinations: [{ family: 'inet', address: `10.1.0.${i}`, port: 80, activeConns: 0, inactiveConns: 0, persistentConns: 0, stats: { ...ZERO_STATS, conns } }],
    }) as unknown as ServiceEntry;
    const enc = new TickEncoder();
    const dec = new TickDecoder();
    const client: StatsState = new Map();
    // 20 services; only the first has traffic, every other tick (as the kernel sums it)
    const table = (t: number) => Array.from({ length: 20 }, (_, i) => svc(i, i === 0 ? 100 + 4 * Math.floor(t / 2) : 7));
    let state = sampleTable(table(0), null, 0);
    applyStatsTick(client, dec.decode(enc.encode(fullTick(state, 1, 0, 0), null))!);
    let last: WireTick | null = null;
    for (let t = 1; t < 10; t++) {
      // every service's real servers read this tick, over the tick
      const dt = new Map([...state.keys()].map((id) => [id, 1000] as [string, number]));
      const next = sampleTable(table(t), state, 1000, dt);
      const tick = deltaTick(state, next, t + 1, t * 1000, 1000);
      last = enc.encode(tick, state, dt);
      const got = dec.decode(JSON.parse(JSON.stringify(last)) as WireTick)!;
      expect(normal(got), `tick ${t}`).toEqual(normal(tick));
      applyStatsTick(client, got);
      expect(plain(client), `after tick ${t}`).toEqual(plain(next));
      state = next;
    }
    // settled: the 19 idle services' intervals no longer travel; the busy one's does
    expect(last!.d).toEqual([1, 1000]);
  });

  it('sends a rate only where the decoder would compute another one', () => {
    const enc = new TickEncoder();
    const dec = new TickDecoder();
    const id = 'tcp:10.0.0.1:80';
    const a: StatsState = new Map([[id, { v: { ...EMPTY_SAMPLE, inBytes: 5000, rInBps: 7 }, dests: new Map() }]]);
    const b: StatsState = new Map([[id, { v: { ...EMPTY_SAMPLE, inBytes: 6000, rInBps: 3 }, dests: new Map() }]]);
    dec.decode(enc.encode(fullTick(a, 1, 0, 0), null));
    // over 1 s the decoder would make 1000 of that increment; the agent said 3
    const delta = enc.encode(deltaTick(a, b, 2, 1000, 1000), a);
    expect(delta.r).toEqual([1, (1 << 3) | (1 << FIELD_ORDER.indexOf('rInBps')), 1000, 3]);
    expect(enc.explicitRates).toBe(1);
    expect(dec.decode(delta)!.services[0]!.v).toEqual({ inBytes: 6000, rInBps: 3 });
  });

  it('waits for a full tick when a delta does not follow the last one, and names bad input', () => {
    const dec = new TickDecoder();
    const delta: WireTick = { w: WIRE_VERSION, seq: 5, at: 0, intervalMs: 1000, full: false, n: [], r: [], x: [] };
    expect(dec.decode(delta)).toBeNull();
    expect(dec.decode({ ...delta, seq: 4, full: true, n: [[1, 'tcp:10.0.0.1:80']] })).toMatchObject({ full: true, services: [{ id: 'tcp:10.0.0.1:80' }] });
    expect(dec.decode({ ...delta, seq: 7 })).toBeNull();
    expect(() => dec.decode({ ...delta, seq: 5, r: [9, 1, 3] })).toThrow(WireDecodeError);
    expect(() => dec.decode({ ...delta, seq: 6, r: [1, 0b11, 3] })).toThrow(/cut short/);
  });

  it('refuses a tick of another format version (an agent older or newer than the console)', () => {
    const old = { w: 1, seq: 1, at: 0, intervalMs: 0, full: true, n: [], r: [], x: [] };
    expect(isWireTick(old)).toBe(true);
    expect(() => new TickDecoder().decode(old as unknown as WireTick)).toThrow(WireDecodeError);
  });
});
