import { describe, expect, it } from 'vitest';
import { HistoryStore, MINUTE_MS, decodeRate, encodeRate } from './rings';
import { readOverview, readService } from './read';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE_MS);

/** One tick of a table of `services` services with `dests` real servers each; `rate(i)` is every rate of service i. */
function tick(h: HistoryStore, at: number, services: number, dests: number, rate: (i: number) => number, complete = true) {
  h.begin(at, 1000);
  for (let i = 0; i < services; i++) {
    const sid = `tcp:10.0.${i >> 8}.${i & 255}:80`;
    const r = rate(i);
    h.put(sid, null, r, r, r, r * 100, r * 100);
    for (let d = 0; d < dests; d++) h.put(sid, `10.1.0.${d}:80`, r / dests, r / dests, r / dests, (r * 100) / dests, (r * 100) / dests);
  }
  h.end(complete);
}

describe('rate codes', () => {
  it('keep a value within 0.05 % from 0.01/s to 10 TB/s, and 0 exactly', () => {
    expect(decodeRate(encodeRate(0))).toBe(0);
    expect(encodeRate(-3)).toBe(0);
    expect(encodeRate(Number.NaN)).toBe(0);
    for (const v of [0.5, 1, 3.3, 1234, 987_654, 1.25e9, 1e13]) {
      expect(Math.abs(decodeRate(encodeRate(v)) - v) / v).toBeLessThan(0.0005);
    }
  });
});

describe('HistoryStore', () => {
  it('keeps every tick for the last 15 minutes and a per-minute average beyond', () => {
    const h = new HistoryStore();
    // 20 minutes at one tick a second, service rate = the minute number + 1
    for (let s = 1; s <= 20 * 60; s++) tick(h, T0 + s * 1000, 1, 2, () => Math.floor((s - 1) / 60) + 1);
    const now = T0 + 20 * 60 * 1000;
    const r15 = readService(h, 'tcp:10.0.0.0:80', '15m', now);
    expect(r15.at.length).toBe(900);
    expect(r15.at[0]).toBe(now - 899_000);
    expect(r15.service!.cps[899]).toBeCloseTo(20, 1);
    expect(r15.dests.map((d) => d.id).sort()).toEqual(['10.1.0.0:80', '10.1.0.1:80']);
    expect(r15.dests[0]!.v.cps[899]).toBeCloseTo(10, 1);
    const r1h = readService(h, 'tcp:10.0.0.0:80', '1h', now);
    // the 20th minute is still open: 19 closed minutes, each the average of its ticks
    expect(r1h.at.length).toBe(19);
    expect(r1h.ms.every((m) => m === MINUTE_MS)).toBe(true);
    expect(r1h.service!.cps.map((v) => Math.round(v!))).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(r1h.service!.inBps[0]).toBeCloseTo(100, 0);
  });

  it('keeps 24 hours of minutes, and no more', () => {
    const h = new HistoryStore({ tickSlots: 4 });
    // one sample a minute for 25 hours (the agent's idle rhythm)
    for (let m = 1; m <= 25 * 60; m++) {
      h.begin(T0 + m * MINUTE_MS, MINUTE_MS);
      h.put('svc', null, m, 0, 0, 0, 0);
      h.end(true);
    }
    const now = T0 + 25 * 60 * MINUTE_MS + 1;
    const r = readService(h, 'svc', '24h', now);
    // minutes 60 to 1498 (1499 is still open): the 24 hours that end now
    expect(r.at.length).toBe(1439);
    expect(r.at[0]).toBe(T0 + 61 * MINUTE_MS);
    expect(r.service!.cps[1438]).toBeCloseTo(1499, -1);
    expect(r.service!.cps[0]).toBeCloseTo(61, 0);
  });

  it('shows nothing before an object existed and a hole where a partial tick missed it', () => {
    const h = new HistoryStore();
    tick(h, T0 + 1000, 1, 0, () => 1);
    h.begin(T0 + 2000, 1000);
    h.put('late', null, 5, 0, 0, 0, 0);
    h.end(false);
    tick(h, T0 + 3000, 1, 0, () => 1, false);
    const late = readService(h, 'late', '15m', T0 + 3000);
    expect(late.service!.cps).toEqual([null, 5, null]);
  });

  it('drops a series when its object goes away, and gives its bytes back', () => {
    const h = new HistoryStore();
    tick(h, T0 + 1000, 10, 4, () => 1);
    const full = h.bytes();
    expect(h.storedSeries).toBe(50);
    tick(h, T0 + 2000, 5, 4, () => 1);
    expect(h.storedSeries).toBe(25);
    expect(h.bytes()).toBeLessThan(full / 1.9);
    expect(readService(h, 'tcp:10.0.0.9:80', '15m', T0 + 2000).service).toBeNull();
  });

  it('stays within its bound at 1,000 services x 4 real servers, all carrying traffic', () => {
    const maxBytes = 48 * 1024 * 1024;
    const h = new HistoryStore({ maxBytes });
    for (let s = 1; s <= 3; s++) tick(h, T0 + s * 1000, 1000, 4, () => 1);
    expect(h.bytes()).toBeLessThanOrEqual(maxBytes);
    // what does not fit is refused, not grown into
    expect(h.refused).toBeGreaterThan(0);
    expect(h.storedSeries * h.perSeries).toBeGreaterThan(maxBytes * 0.97);
    // the heap agrees with the store's own figure (within 10 %), measured where gc is exposed
    if (typeof globalThis.gc === 'function') {
      globalThis.gc();
      const before = process.memoryUsage();
      const h2 = new HistoryStore({ maxBytes });
      for (let s = 1; s <= 3; s++) tick(h2, T0 + s * 1000, 1000, 4, () => 1);
      globalThis.gc();
      const after = process.memoryUsage();
      const used = after.heapUsed + after.arrayBuffers - before.heapUsed - before.arrayBuffers;
      expect(used).toBeLessThan(h2.bytes() * 1.1);
    }
  });

  it('costs a few dozen bytes for a series that never carried traffic', () => {
    const h = new HistoryStore();
    tick(h, T0 + 1000, 1000, 4, () => 0);
    expect(h.storedSeries).toBe(0);
    expect(h.bytes()).toBeLessThan(1.1e6);
    const r = readService(h, 'tcp:10.0.0.1:80', '15m', T0 + 1000);
    expect(r.service!.cps).toEqual([0]);
  });

  it('squeezes every service into at most 60 sparkline points', () => {
    const h = new HistoryStore();
    for (let s = 1; s <= 900; s++) tick(h, T0 + s * 1000, 3, 1, (i) => i + 1);
    const o = readOverview(h, '15m', T0 + 900_000);
    expect(o.at.length).toBe(60);
    expect(Object.keys(o.services).sort()).toEqual(['tcp:10.0.0.0:80', 'tcp:10.0.0.1:80', 'tcp:10.0.0.2:80']);
    expect(o.services['tcp:10.0.0.2:80']!.cps.every((v) => Math.abs(v! - 3) < 0.01)).toBe(true);
    expect(o.services['tcp:10.0.0.0:80']!.bps[0]).toBeCloseTo(200, 0);
    // a service without traffic is a null, not 180 zeros
    tick(h, T0 + 901_000, 4, 0, (i) => (i === 3 ? 0 : 1));
    expect(readOverview(h, '15m', T0 + 901_000).services['tcp:10.0.0.3:80']).toBeNull();
  });
});
