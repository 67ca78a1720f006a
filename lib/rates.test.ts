import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ZERO_STATS, type Stats } from './ipvs/model';
import { connectionShares, rateBetween } from './rates';

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
});
