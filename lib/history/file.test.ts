import { describe, expect, it } from 'vitest';
import { HistoryStore, MINUTE_MS } from './rings';
import { HistoryFileError, decodeHistory, encodeHistory, maxHistoryFileBytes } from './file';
import { readService } from './read';

const T0 = 1_700_000_000_000 - (1_700_000_000_000 % MINUTE_MS);
const LIMITS = { minuteSlots: 1440, maxSeries: 100 };

/** Three minutes of one service with two real servers, at one sample a minute. */
function sample(): HistoryStore {
  const h = new HistoryStore();
  for (let m = 1; m <= 4; m++) {
    h.begin(T0 + m * MINUTE_MS, MINUTE_MS);
    h.put('tcp:10.0.0.1:80', null, m * 10, 1, 2, 300, 400);
    h.put('tcp:10.0.0.1:80', '10.1.0.1:80', m * 4, 0, 0, 0, 0);
    h.put('tcp:10.0.0.1:80', '10.1.0.2:80', m * 6, 0, 0, 0, 0);
    h.end(true);
  }
  return h;
}

describe('history file', () => {
  it('gives back the minutes it was written with', () => {
    const h = sample();
    const bytes = encodeHistory(h, T0 + 5 * MINUTE_MS);
    const c = decodeHistory(bytes, LIMITS);
    expect(c.series.map((s) => s.key).sort()).toEqual(['tcp:10.0.0.1:80', 'tcp:10.0.0.1:80 10.1.0.1:80', 'tcp:10.0.0.1:80 10.1.0.2:80']);
    const back = new HistoryStore();
    back.restore(c.minuteOf, c.series);
    const now = T0 + 5 * MINUTE_MS;
    expect(readService(back, 'tcp:10.0.0.1:80', '24h', now)).toEqual(readService(h, 'tcp:10.0.0.1:80', '24h', now));
    expect(readService(back, 'tcp:10.0.0.1:80', '24h', now).service!.cps.map((v) => Math.round(v!))).toEqual([10, 20, 30]);
  });

  it('is compact: 14.4 kB a series for 24 hours of five rates', () => {
    const bytes = encodeHistory(sample(), T0);
    expect(bytes.length).toBeLessThan(3 * (1440 * 5 * 2 + 60) + 1440 * 8 + 64);
  });

  const good = () => encodeHistory(sample(), T0 + 5 * MINUTE_MS);
  const hostile: [string, (b: Uint8Array) => Uint8Array, RegExp][] = [
    ['another file', () => new TextEncoder().encode('{"not":"history"}, padded to pass the header length'), /bad magic/],
    ['a newer version', (b) => { b[8] = 9; return b; }, /format version 9/],
    ['another number of minutes', (b) => { new DataView(b.buffer).setUint32(12, 60, true); return b; }, /60 minute slots/],
    ['a huge series count', (b) => { new DataView(b.buffer).setUint32(24, 0xffffffff, true); return b; }, /4294967295 series/],
    ['a cut-short file', (b) => b.subarray(0, b.length - 7), /cut short/],
    ['trailing bytes', (b) => { const c = new Uint8Array(b.length + 3); c.set(b); return c; }, /3 bytes after/],
    ['a minute in the wrong slot', (b) => { new DataView(b.buffer).setFloat64(28, 5, true); return b; }, /minute slot 0 holds 5/],
    ['a NaN minute', (b) => { new DataView(b.buffer).setFloat64(28, Number.NaN, true); return b; }, /minute slot 0 holds NaN/],
    ['a key longer than allowed', (b) => { new DataView(b.buffer).setUint16(28 + 1440 * 8, 4000, true); return b; }, /key of 4000 bytes/],
    ['a key with a control character', (b) => { b[28 + 1440 * 8 + 2] = 0x0a; return b; }, /not an object id/],
    ['a key that is not UTF-8', (b) => { b[28 + 1440 * 8 + 2] = 0xff; return b; }, /not UTF-8/],
  ];
  for (const [what, spoil, why] of hostile) {
    it(`refuses ${what}, saying why`, () => {
      expect(() => decodeHistory(spoil(good()), LIMITS)).toThrow(HistoryFileError);
      expect(() => decodeHistory(spoil(good()), LIMITS)).toThrow(why);
    });
  }

  it('refuses a file larger than the store could have written before reading it', () => {
    const big = new Uint8Array(maxHistoryFileBytes(1440, 2) + 1);
    expect(() => decodeHistory(big, { minuteSlots: 1440, maxSeries: 2 })).toThrow(/more than a history file can hold/);
  });

  it('refuses the same series twice', () => {
    const h = new HistoryStore();
    h.begin(T0 + MINUTE_MS, MINUTE_MS);
    h.put('a', null, 1, 0, 0, 0, 0);
    h.put('b', null, 1, 0, 0, 0, 0);
    h.end(true);
    const b = encodeHistory(h, T0);
    // rename the second key ("b") to "a"
    const at = b.lastIndexOf('b'.charCodeAt(0), 28 + 1440 * 8 + 2 + 1 + 8 + 14400 + 2);
    b[at] = 'a'.charCodeAt(0);
    expect(() => decodeHistory(b, LIMITS)).toThrow(/appears twice/);
  });
});
