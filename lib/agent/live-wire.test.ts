import { describe, expect, it } from 'vitest';
import { EMPTY_SAMPLE, type StatSample, type StatsState } from './events';
import { isWireTick, LIVE_FIELDS, LiveTable, piecesOf, TickEncoder, WIRE_VERSION, WireDecodeError, type WireTick } from './live-wire';
import { prng } from './testing';

const FIELDS = Object.keys(EMPTY_SAMPLE) as (keyof StatSample)[];

function sample(rand: () => number, prev?: StatSample): StatSample {
  const s: StatSample = { ...(prev ?? EMPTY_SAMPLE) };
  for (const f of FIELDS) {
    if (rand() < 0.5) continue;
    s[f] = rand() < 0.2 ? 0 : Math.round(rand() * 1e5) / 100;
  }
  return s;
}

/** The next table state: some objects change, some stay the same object, some go, some arrive. */
function evolve(rand: () => number, prev: StatsState, tick: number): StatsState {
  const next: StatsState = new Map();
  for (const [id, svc] of prev) {
    if (rand() < 0.05) continue;
    if (rand() < 0.2) {
      next.set(id, svc); // kept whole, as sampleTable keeps an unchanged service
      continue;
    }
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

/** What the browser must hold: the agent's rates and connection counts of every object, by id. */
function expected(state: StatsState) {
  const live = (s: StatSample) => ({
    cps: s.rCps, inPps: s.rInPps, outPps: s.rOutPps, inBps: s.rInBps, outBps: s.rOutBps, active: s.active, inactive: s.inactive, persistent: s.persistent,
  });
  return [...state].map(([id, s]) => [id, live(s.v), [...s.dests].map(([did, d]) => [did, live(d)]).sort()]).sort();
}

function held(t: LiveTable) {
  return [...t.services].map(([id, s]) => [id, { ...s.v }, [...s.dests].map(([did, d]) => [did, { ...d.v }]).sort()]).sort();
}

describe('live ticks on the wire', () => {
  for (const seed of [1, 2, 3, 42, 2026]) {
    it(`a client applying every tick holds exactly the agent's values (seed ${seed})`, () => {
      const rand = prng(seed);
      const enc = new TickEncoder();
      let state: StatsState = evolve(rand, new Map(), 0);
      // two clients: one from the start, one joining later with a full tick
      const early = new LiveTable();
      const late = new LiveTable();
      expect(early.apply(enc.encode(null, state, 1, 0, 0))).toBe(true);
      for (let seq = 2; seq < 60; seq++) {
        const next = evolve(rand, state, seq);
        const wire = enc.encode(state, next, seq, seq * 1000, 1000);
        state = next;
        expect(early.apply(JSON.parse(JSON.stringify(wire)) as WireTick), `tick ${seq}`).toBe(true);
        expect(held(early), `after tick ${seq}`).toEqual(expected(state));
        if (seq === 30) late.apply(enc.encode(null, state, seq, 0, 0));
        else if (seq > 30) late.apply(wire);
      }
      expect(held(late)).toEqual(expected(state));
    });
  }

  it('carries rates as values, only the fields that changed, and nothing for an object kept or unchanged', () => {
    const enc = new TickEncoder();
    const busy = { ...EMPTY_SAMPLE, conns: 10, inBytes: 5000, kCps: 2, rCps: 2, rInBps: 2500, active: 1 };
    const idle = { ...EMPTY_SAMPLE };
    const s0: StatsState = new Map([
      ['tcp:10.0.0.1:80', { v: busy, dests: new Map([['10.1.0.1:80', busy]]) }],
      ['tcp:10.0.0.2:80', { v: idle, dests: new Map([['10.1.0.2:80', idle]]) }],
    ]);
    const full = enc.encode(null, s0, 1, 1000, 0);
    expect(full.n).toEqual([[1, 'tcp:10.0.0.1:80'], [2, 1, '10.1.0.1:80'], [3, 'tcp:10.0.0.2:80'], [4, 3, '10.1.0.2:80']]);
    const bit = (f: (typeof LIVE_FIELDS)[number]) => 1 << LIVE_FIELDS.indexOf(f);
    // counters and the kernel's rates never travel: only what a page shows
    expect(full.r).toEqual([1, bit('cps') | bit('inBps') | bit('active'), 2, 2500, 1, 2, bit('cps') | bit('inBps') | bit('active'), 2, 2500, 1, 3, 0, 4, 0]);
    // the counters moved but the rates held; the idle service is the same object: nothing to send
    const moved = { ...busy, conns: 12, inBytes: 6000, rInBps: 3000 };
    const s1: StatsState = new Map([
      ['tcp:10.0.0.1:80', { v: moved, dests: new Map([['10.1.0.1:80', { ...busy, conns: 12 }]]) }],
      ['tcp:10.0.0.2:80', s0.get('tcp:10.0.0.2:80')!],
    ]);
    const delta = enc.encode(s0, s1, 2, 2000, 1000);
    expect(delta).toEqual({ w: WIRE_VERSION, seq: 2, at: 2000, intervalMs: 1000, full: false, n: [], r: [1, bit('inBps'), 3000], x: [] });
  });

  it('removes real servers and services by number, and a service that comes back gets new numbers', () => {
    const enc = new TickEncoder();
    const t = new LiveTable();
    const a = { ...EMPTY_SAMPLE, rCps: 1 };
    const s0: StatsState = new Map([['tcp:10.0.0.1:80', { v: a, dests: new Map([['10.1.0.1:80', a], ['10.1.0.2:80', a]]) }]]);
    t.apply(enc.encode(null, s0, 1, 0, 0));
    const s1: StatsState = new Map([['tcp:10.0.0.1:80', { v: a, dests: new Map([['10.1.0.1:80', a]]) }]]);
    const d1 = enc.encode(s0, s1, 2, 0, 1000);
    expect(d1.x).toEqual([3]);
    t.apply(d1);
    expect([...t.services.get('tcp:10.0.0.1:80')!.dests.keys()]).toEqual(['10.1.0.1:80']);
    const d2 = enc.encode(s1, new Map(), 3, 0, 1000);
    expect(d2.x).toEqual([1]);
    t.apply(d2);
    expect(t.services.size).toBe(0);
    const d3 = enc.encode(new Map(), s1, 4, 0, 1000);
    expect(d3.n).toEqual([[4, 'tcp:10.0.0.1:80'], [5, 4, '10.1.0.1:80']]);
    t.apply(d3);
    expect(t.services.get('tcp:10.0.0.1:80')!.dests.get('10.1.0.1:80')!.v.cps).toBe(1);
  });

  it('a full tick sent in pieces gives the same table, and only the last piece completes it', () => {
    const rand = prng(7);
    const enc = new TickEncoder();
    let state: StatsState = new Map();
    for (let seq = 0; seq < 40; seq++) state = evolve(rand, state, seq);
    const full = enc.encode(null, state, 40, 40_000, 1000);
    const pieces = piecesOf(JSON.parse(JSON.stringify(full)) as WireTick, 7);
    expect(pieces.length).toBe(Math.ceil(full.n.length / 7));
    expect(pieces.map((p) => [p.seq, p.full, p.part, p.more])).toEqual(pieces.map((_, i) => [40, true, i, i < pieces.length - 1 ? true : undefined]));
    expect(pieces.flatMap((p) => p.r)).toEqual(full.r);
    const t = new LiveTable();
    for (const p of pieces.slice(0, -1)) {
      expect(t.apply(p)).toBe(true);
      expect(t.seq).toBe(-1);
    }
    // a delta while the pieces come in is refused: the table is not whole yet
    const next = evolve(rand, state, 41);
    const delta = enc.encode(state, next, 41, 41_000, 1000);
    expect(t.apply(delta)).toBe(false);
    expect(t.apply(pieces.at(-1)!)).toBe(true);
    expect(t.seq).toBe(40);
    expect(held(t)).toEqual(expected(state));
    expect(t.apply(delta)).toBe(true);
    expect(held(t)).toEqual(expected(next));
    // a small table is one message, as before
    expect(piecesOf(full, full.n.length)).toEqual([full]);
  });

  it('refuses a piece that does not follow the last one (the agent sends a full tick on resume)', () => {
    const state: StatsState = new Map([1, 2, 3].map((i) => [`tcp:10.0.0.${i}:80`, { v: { ...EMPTY_SAMPLE, rCps: i }, dests: new Map() }]));
    const pieces = piecesOf(new TickEncoder().encode(null, state, 9, 0, 1000), 1);
    const t = new LiveTable();
    expect(t.apply(pieces[1]!)).toBe(false);
    expect(t.apply(pieces[0]!)).toBe(true);
    expect(t.apply(pieces[2]!)).toBe(false);
    expect(t.apply(pieces[1]!)).toBe(true);
    expect(t.apply({ ...pieces[2]!, seq: 8 })).toBe(false);
    expect(t.apply(pieces[2]!)).toBe(true);
    expect([...t.services.values()].map((s) => s.v.cps)).toEqual([1, 2, 3]);
    expect(() => piecesOf(pieces[0]!)).toThrow(/whole full tick/);
  });

  it('waits for a full tick when a delta does not follow the last one, and names bad input', () => {
    const t = new LiveTable();
    const delta: WireTick = { w: WIRE_VERSION, seq: 5, at: 0, intervalMs: 1000, full: false, n: [], r: [], x: [] };
    expect(t.apply(delta)).toBe(false);
    expect(t.apply({ ...delta, seq: 4, full: true, n: [[1, 'tcp:10.0.0.1:80']] })).toBe(true);
    expect([...t.services.keys()]).toEqual(['tcp:10.0.0.1:80']);
    expect(t.apply({ ...delta, seq: 7 })).toBe(false);
    expect(() => t.apply({ ...delta, seq: 5, r: [9, 1, 3] })).toThrow(WireDecodeError);
    expect(() => t.apply({ ...delta, seq: 5, r: [1, 0b11, 3] })).toThrow(/cut short/);
    expect(() => t.apply({ ...delta, seq: 5, n: [[2, 7, '10.1.0.1:80']] })).toThrow(/unknown service/);
  });

  it('refuses a tick of another format version (an agent older or newer than the console)', () => {
    const old = { w: 4, seq: 1, at: 0, intervalMs: 0, full: true, n: [], r: [], x: [] };
    expect(isWireTick(old)).toBe(true);
    expect(() => new LiveTable().apply(old as unknown as WireTick)).toThrow(WireDecodeError);
  });
});
