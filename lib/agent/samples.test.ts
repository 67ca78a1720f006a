import { describe, expect, it } from 'vitest';
import { ZERO_STATS, type ServiceEntry } from '../ipvs/model';
import { isSettled, sampleTable } from './samples';
import { LIVE_FIELDS, TickEncoder } from './live-wire';
import type { StatsState } from './events';

function entry(conns: number, cps = 0): ServiceEntry {
  return {
    key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 },
    scheduler: 'rr', flags: { persistent: false, hashed: true, onePacket: false, sched1: false, sched2: false, sched3: false },
    timeout: 0, netmask: 'ffffffff', stats: { ...ZERO_STATS, conns, inPkts: conns * 5, inBytes: conns * 300, cps, inPps: cps * 5, inBps: cps * 300 },
    destinations: [],
  } as unknown as ServiceEntry;
}

/** Feeds counter readings `tickMs` apart (a number, or one interval per reading after the first); returns each reading's rCps. */
function rates(readings: number[], tickMs: number | number[] = 1000, cps = 0): number[] {
  let state: StatsState | null = null;
  const out: number[] = [];
  readings.forEach((c, i) => {
    state = sampleTable([entry(c, cps)], state, typeof tickMs === 'number' ? tickMs : i ? tickMs[i - 1]! : 0);
    out.push([...state.values()][0]!.v.rCps);
  });
  return out;
}

describe('per-tick rates from counters the kernel sums every 2 s', () => {
  it('reads a steady 2 conns/s as 2 on every tick, not 0 and 4', () => {
    // the counters move only when the estimator runs (every other 1 s tick)
    expect(rates([100, 100, 104, 104, 108, 108, 112]).slice(2)).toEqual([2, 2, 2, 2, 2]);
  });

  it('reads it as 2 exactly on ticks that come late or early (two movements are a whole number of periods apart)', () => {
    expect(rates([100, 100, 104, 104, 108, 108, 112], [1040, 1010, 950, 1080, 990, 1060]).slice(2)).toEqual([2, 2, 2, 2, 2]);
  });

  it('a movement a tick after a reading taken long after the one before spans a period, not the tick (the first rates after a join read twice the truth)', () => {
    // a sample a minute with nobody subscribed, then 1 s ticks: the estimator summed 2 s of connections one tick after the join
    expect(rates([100, 220, 224, 224, 228], [60_000, 1000, 1000, 1000], 2)).toEqual([0, 2, 2, 2, 2]);
  });

  it('after a reading 5.3 s after the one before, the kernel\'s own estimate picks the number of periods the movement spans', () => {
    // 12 connections since the last reading: over 2 periods (3/s) or 3 (2/s); the kernel says 2/s
    expect(rates([100, 112], [5300], 2)).toEqual([0, 2]);
    expect(rates([100, 112], [5300], 3)).toEqual([0, 3]);
  });

  it('two movements 3 s apart (the estimator ran late once) read the period count the kernel\'s estimate agrees with, not a halved rate', () => {
    // 1 conn/s: 2 connections per run; the run due between ticks 3 and 4 came after tick 4 (lab: 1.00/s dipped to 0.50/s for 2-4 ticks)
    expect(rates([100, 100, 102, 102, 102, 104, 104, 106], 1000, 1).slice(2)).toEqual([1, 1, 1, 1, 1, 1]);
    // 3 s fits one period or two; with no estimate to go by it rounds, as before
    expect(rates([100, 100, 102, 102, 102, 104], 1000, 0).at(-1)).toBe(0.5);
  });

  it('drops to 0 once the counters have stood still for longer than an estimator period', () => {
    expect(rates([100, 104, 104, 104, 104, 104])).toEqual([0, 2, 2, 2, 0, 0]);
  });

  it('after a long quiet spell takes the burst over one estimator period', () => {
    expect(rates([50, 50, 50, 50, 50, 50, 50, 60]).at(-1)).toBe(5);
  });

  it('a reset (zeroed counters) gives 0, never a negative rate', () => {
    expect(rates([100, 104, 2]).at(-1)).toBe(0);
  });
});

describe('idle objects keep their sample objects', () => {
  const withDests = (conns: number, active: number): ServiceEntry => ({
    ...entry(conns),
    destinations: [{
      family: 'inet', address: '10.0.0.2', port: 80, forward: 'dr', weight: 1, upperThreshold: 0, lowerThreshold: 0,
      tunnel: { type: 'ipip', port: 0, checksum: 'nocsum' }, activeConns: active, inactiveConns: 0, persistentConns: 0,
      stats: { ...ZERO_STATS, conns, inPkts: conns * 5 },
    }],
  } as unknown as ServiceEntry);

  it('once settled, the same readings give the same objects and an empty delta; a change gives new ones', () => {
    let state: StatsState | null = null;
    const states: StatsState[] = [];
    for (const c of [10, 20, 20, 20, 20, 20, 20, 20]) {
      state = sampleTable([withDests(c, 1)], state, 1000);
      states.push(state);
    }
    const [a, b] = [states.at(-2)!, states.at(-1)!];
    expect(isSettled(a)).toBe(true);
    expect([...b.values()][0]).toBe([...a.values()][0]);
    const enc = new TickEncoder();
    const full = enc.encode(null, a, 1, 0, 0);
    expect(enc.encode(a, b, 2, 0, 1000).r).toEqual([]);
    // not settled yet: a sample is computed (its rate still holds)
    expect([...states[2]!.values()][0]).not.toBe([...states[1]!.values()][0]);
    // a connection count that moves: a new destination sample and a delta carrying it, counters untouched
    const c = sampleTable([withDests(20, 2)], b, 1000);
    expect([...c.values()][0]).not.toBe([...b.values()][0]);
    const d = enc.encode(b, c, 3, 0, 1000);
    const num = (id: string) => full.n.find((e) => e.at(-1) === id)![0];
    const active = 1 << LIVE_FIELDS.indexOf('active');
    expect(d.r).toEqual([num([...c.keys()][0]!), active, 2, num('10.0.0.2:80'), active, 2]);
  });

  it('the same entry object handed out again (the sampler does so while nothing changed) gives the same result as a fresh copy', () => {
    // one object for every tick: the first ticks are not settled, so its rates must still decay, then hold
    const same = withDests(20, 1);
    let viaSame: StatsState | null = sampleTable([withDests(10, 1)], null, 1000);
    let viaCopies: StatsState | null = viaSame;
    for (let t = 0; t < 8; t++) {
      viaSame = sampleTable([same], viaSame, 1000);
      viaCopies = sampleTable([withDests(20, 1)], viaCopies, 1000);
      const [s, c] = [[...viaSame.values()][0]!, [...viaCopies.values()][0]!];
      expect({ ...s.v }).toEqual({ ...c.v });
      expect([...s.dests.values()].map((x) => ({ ...x }))).toEqual([...c.dests.values()].map((x) => ({ ...x })));
    }
    expect(isSettled(viaSame!)).toBe(true);
    // settled: kept whole, whether its real servers were read this tick or carried
    const kept = sampleTable([same], viaSame, 1000, new Map([['tcp:10.0.0.1:80', 1000]]));
    expect(kept.get([...kept.keys()][0]!)).toBe([...viaSame!.values()][0]);
    const carried = sampleTable([same], kept, 1000, new Map([['tcp:10.0.0.1:80', null]]));
    expect([...carried.values()][0]).toBe([...viaSame!.values()][0]);
    // a different connection count on a new entry: a new sample
    expect([...sampleTable([withDests(20, 3)], carried, 1000).values()][0]).not.toBe([...carried.values()][0]);
  });
});
