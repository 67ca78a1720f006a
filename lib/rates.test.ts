import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_STATS, type Stats } from './ipvs/model';
import { RateTracker, RateWindow, connectionShares, newConnsBetween, rateBetween } from './rates';

const st = (o: Partial<Stats>): Stats => ({ ...ZERO_STATS, ...o });

describe('rateBetween', () => {
  it('per-second rates from deltas over the elapsed time', () => {
    const r = rateBetween(st({ conns: 10, inPkts: 100, outPkts: 50, inBytes: 1000, outBytes: 4000 }),
      st({ conns: 30, inPkts: 400, outPkts: 50, inBytes: 6000, outBytes: 4000 }), 2000);
    expect(r).toEqual({ ok: true, rates: { cps: 10, inPps: 150, outPps: 0, inBps: 2500, outBps: 0 } });
  });
  it('a counter that went down (zeroed, re-created) is a reset, not a negative rate', () => {
    expect(rateBetween(st({ conns: 10, inBytes: 500 }), st({ conns: 12, inBytes: 100 }), 1000)).toEqual({ ok: false, reason: 'reset' });
  });
  it('no elapsed time gives no rate', () => {
    expect(rateBetween(ZERO_STATS, ZERO_STATS, 0)).toEqual({ ok: false, reason: 'no-time' });
    expect(rateBetween(ZERO_STATS, ZERO_STATS, NaN)).toEqual({ ok: false, reason: 'no-time' });
  });
  it('property: never negative', () => {
    const stats = fc.record({ conns: fc.nat(), inPkts: fc.nat(), outPkts: fc.nat(), inBytes: fc.nat(), outBytes: fc.nat() })
      .map((o) => st(o));
    fc.assert(fc.property(stats, stats, fc.integer({ min: 1, max: 1e6 }), (a, b, ms) => {
      const r = rateBetween(a, b, ms);
      if (r.ok) for (const v of Object.values(r.rates)) expect(v).toBeGreaterThanOrEqual(0);
    }));
  });
});

describe('RateWindow', () => {
  it('keeps the newest `capacity` samples oldest first, gaps as null', () => {
    const w = new RateWindow(3);
    const r = (cps: number) => ({ cps, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
    w.push(1000, r(1));
    w.push(2000, null);
    w.push(3000, r(3));
    w.push(4000, r(4));
    expect(w.size).toBe(3);
    const c = w.columns();
    expect(c.t).toEqual([2, 3, 4]);
    expect(c.cps).toEqual([null, 3, 4]);
    expect(w.latest()).toEqual({ timeMs: 4000, rates: r(4) });
  });
  it('15 minutes at 1 s holds 900 samples', () => {
    const w = new RateWindow();
    for (let i = 0; i < 2000; i++) w.push(i * 1000, { cps: i, inPps: 0, outPps: 0, inBps: 0, outBps: 0 });
    expect(w.size).toBe(900);
    expect(w.columns().cps[0]).toBe(1100);
  });
  it('rejects a bad capacity', () => {
    expect(() => new RateWindow(0)).toThrow(/capacity/);
  });
});

describe('RateTracker', () => {
  it('first reading has no rate, then rates; a key that disappears starts fresh', () => {
    const t = new RateTracker();
    expect(t.tick(0, [['a', st({ conns: 5 })]]).get('a')).toBeNull();
    expect(t.tick(1000, [['a', st({ conns: 8 })]]).get('a')).toMatchObject({ cps: 3 });
    t.tick(2000, []);
    expect(t.tick(3000, [['a', st({ conns: 100 })]]).get('a')).toBeNull();
  });
  it('a reset tick gives null, the next tick a rate again', () => {
    const t = new RateTracker();
    t.tick(0, [['a', st({ conns: 50 })]]);
    expect(t.tick(1000, [['a', st({ conns: 2 })]]).get('a')).toBeNull();
    expect(t.tick(2000, [['a', st({ conns: 6 })]]).get('a')).toMatchObject({ cps: 4 });
  });
});

describe('connectionShares', () => {
  it('share of new connections next to share of weight', () => {
    expect(connectionShares([
      { id: 'rs1', weight: 3, newConns: 50 },
      { id: 'rs2', weight: 1, newConns: 50 },
      { id: 'rs3', weight: 0, newConns: 0 },
    ])).toEqual([
      { id: 'rs1', ofNewConns: 0.5, ofWeight: 0.75, skew: -0.25 },
      { id: 'rs2', ofNewConns: 0.5, ofWeight: 0.25, skew: 0.25 },
      { id: 'rs3', ofNewConns: 0, ofWeight: 0, skew: 0 },
    ]);
  });
  it('no new connections or no weight gives null shares', () => {
    expect(connectionShares([{ id: 'a', weight: 0, newConns: 0 }])).toEqual([{ id: 'a', ofNewConns: null, ofWeight: null, skew: null }]);
  });
  it('newConnsBetween flags resets', () => {
    expect(newConnsBetween(st({ conns: 5 }), st({ conns: 9 }))).toEqual({ newConns: 4, reset: false });
    expect(newConnsBetween(st({ conns: 9 }), st({ conns: 5 }))).toEqual({ newConns: 0, reset: true });
    expect(newConnsBetween(undefined, st({ conns: 5 }))).toEqual({ newConns: 0, reset: true });
  });
});
