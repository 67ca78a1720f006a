import { describe, expect, it } from 'vitest';
import { applyStatsTick, EMPTY_SAMPLE, type StatSample, type StatsState } from './events';
import { deltaTick, fullTick } from './samples';
import { FIELD_ORDER, TickDecoder, TickEncoder, WireDecodeError, type WireTick } from './tick-wire';

/** A small deterministic PRNG, so a failure names a reproducible seed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

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

function plain(state: StatsState) {
  return [...state].map(([id, s]) => [id, s.v, [...s.dests].sort()]).sort();
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
        const wire = enc.encode(deltaTick(state, next, seq, seq * 1000, 1000), state);
        state = next;
        applyStatsTick(early.state, early.dec.decode(JSON.parse(JSON.stringify(wire)) as WireTick)!);
        expect(plain(early.state), `after tick ${seq}`).toEqual(plain(state));
        if (seq === 30) applyStatsTick(late.state, late.dec.decode(enc.encode(fullTick(state, seq, 0, 0), null))!);
        else if (seq > 30) applyStatsTick(late.state, late.dec.decode(wire)!);
      }
      expect(plain(late.state)).toEqual(plain(state));
    });
  }

  it('sends counters in a delta as increments, and nothing for an unchanged object', () => {
    const enc = new TickEncoder();
    const a: StatsState = new Map([['tcp:10.0.0.1:80', { v: { ...EMPTY_SAMPLE, inBytes: 123_456_789_000, conns: 5 }, dests: new Map() }],
      ['tcp:10.0.0.2:80', { v: { ...EMPTY_SAMPLE, conns: 1 }, dests: new Map() }]]);
    const full = enc.encode(fullTick(a, 1, 0, 0), null);
    expect(full.n).toEqual([[1, 'tcp:10.0.0.1:80'], [2, 'tcp:10.0.0.2:80']]);
    const b: StatsState = new Map(a);
    b.set('tcp:10.0.0.1:80', { v: { ...EMPTY_SAMPLE, inBytes: 123_456_790_000, conns: 5 }, dests: new Map() });
    const delta = enc.encode(deltaTick(a, b, 2, 1000, 1000), a);
    // object 1, mask bit 3 (inBytes), increment 1000; object 2 is absent; no names repeated
    expect(delta).toMatchObject({ n: [], r: [1, 1 << 3, 1000], x: [] });
  });

  it('waits for a full tick when a delta does not follow the last one, and names bad input', () => {
    const dec = new TickDecoder();
    const delta: WireTick = { w: 1, seq: 5, at: 0, intervalMs: 1000, full: false, n: [], r: [], x: [] };
    expect(dec.decode(delta)).toBeNull();
    expect(dec.decode({ ...delta, seq: 4, full: true, n: [[1, 'tcp:10.0.0.1:80']] })).toMatchObject({ full: true, services: [{ id: 'tcp:10.0.0.1:80' }] });
    expect(dec.decode({ ...delta, seq: 7 })).toBeNull();
    expect(() => dec.decode({ ...delta, seq: 5, r: [9, 1, 3] })).toThrow(WireDecodeError);
    expect(() => dec.decode({ ...delta, seq: 6, r: [1, 0b11, 3] })).toThrow(/cut short/);
  });
});
