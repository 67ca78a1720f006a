/**
 * The history file: the per-minute part of a HistoryStore (lib/history/rings.ts),
 * so 24 hours survive an agent restart. Binary, little-endian, versioned:
 *
 *   "DIRHIST\n"  u16 version  u16 fields  u32 minuteSlots  f64 savedAt  u32 series
 *   f64 × minuteSlots      the minute each slot holds (-1: none)
 *   per series:  u16 keyBytes  key (UTF-8)  f64 since  u16 × minuteSlots × fields
 *
 * Reading trusts nothing: every length is checked against the file's size and
 * the store's own limits before anything is allocated, and the file must end
 * exactly where its last series does.
 */
import { HISTORY_FIELDS, type HistoryStore } from './rings';

export const HISTORY_FILE_VERSION = 1;
const MAGIC = 'DIRHIST\n';
const HEADER = 8 + 2 + 2 + 4 + 8 + 4;
export const MAX_KEY_BYTES = 256;
const F = HISTORY_FIELDS.length;

export class HistoryFileError extends Error {}

export interface HistoryFileContents {
  savedAt: number;
  minuteOf: Float64Array;
  series: { key: string; since: number; minutes: Uint16Array }[];
}

/** The largest file a store with these limits writes (a larger one is refused unread). */
export function maxHistoryFileBytes(minuteSlots: number, maxSeries: number): number {
  return HEADER + 8 * minuteSlots + maxSeries * (2 + MAX_KEY_BYTES + 8 + 2 * F * minuteSlots);
}

export function encodeHistory(store: HistoryStore, savedAt: number): Uint8Array {
  const enc = new TextEncoder();
  const rows: [Uint8Array, number, Uint16Array][] = [];
  for (const [key, s] of store.stored()) {
    const k = enc.encode(key);
    if (k.length === 0 || k.length > MAX_KEY_BYTES) continue;
    rows.push([k, s.since, store.minuteCodes(s)]);
  }
  const n = store.minuteSlots;
  let size = HEADER + 8 * n;
  for (const [k] of rows) size += 2 + k.length + 8 + 2 * F * n;
  const buf = new Uint8Array(size);
  const dv = new DataView(buf.buffer);
  let o = 0;
  for (let i = 0; i < MAGIC.length; i++) buf[o++] = MAGIC.charCodeAt(i);
  dv.setUint16(o, HISTORY_FILE_VERSION, true); o += 2;
  dv.setUint16(o, F, true); o += 2;
  dv.setUint32(o, n, true); o += 4;
  dv.setFloat64(o, savedAt, true); o += 8;
  dv.setUint32(o, rows.length, true); o += 4;
  for (let i = 0; i < n; i++, o += 8) dv.setFloat64(o, store.minuteOf[i]!, true);
  for (const [k, since, codes] of rows) {
    dv.setUint16(o, k.length, true); o += 2;
    buf.set(k, o); o += k.length;
    dv.setFloat64(o, since, true); o += 8;
    for (let i = 0; i < codes.length; i++, o += 2) dv.setUint16(o, codes[i]!, true);
  }
  return buf;
}

/** Parses a history file for a store of `minuteSlots` minutes holding at most `maxSeries` series; throws HistoryFileError saying what is wrong. */
export function decodeHistory(buf: Uint8Array, opts: { minuteSlots: number; maxSeries: number }): HistoryFileContents {
  const bad = (why: string): never => {
    throw new HistoryFileError(why);
  };
  if (buf.length > maxHistoryFileBytes(opts.minuteSlots, opts.maxSeries)) bad(`${buf.length} bytes is more than a history file can hold`);
  if (buf.length < HEADER) bad(`${buf.length} bytes is shorter than the header`);
  for (let i = 0; i < MAGIC.length; i++) if (buf[i] !== MAGIC.charCodeAt(i)) bad('not a Director history file (bad magic)');
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let o = MAGIC.length;
  const version = dv.getUint16(o, true); o += 2;
  if (version !== HISTORY_FILE_VERSION) bad(`format version ${version}, this agent reads version ${HISTORY_FILE_VERSION}`);
  const fields = dv.getUint16(o, true); o += 2;
  if (fields !== F) bad(`${fields} fields per point, expected ${F}`);
  const n = dv.getUint32(o, true); o += 4;
  if (n !== opts.minuteSlots) bad(`${n} minute slots, expected ${opts.minuteSlots}`);
  const savedAt = dv.getFloat64(o, true); o += 8;
  if (!Number.isFinite(savedAt) || savedAt < 0) bad('save time is not a time');
  const count = dv.getUint32(o, true); o += 4;
  if (count > opts.maxSeries) bad(`${count} series, more than the ${opts.maxSeries} kept`);
  if (buf.length < o + 8 * n) bad('cut short in the minute axis');
  const minuteOf = new Float64Array(n);
  for (let i = 0; i < n; i++, o += 8) {
    const m = dv.getFloat64(o, true);
    if (m !== -1 && !(Number.isInteger(m) && m >= 0 && m % n === i)) bad(`minute slot ${i} holds ${m}, not a minute of that slot`);
    minuteOf[i] = m;
  }
  const dec = new TextDecoder('utf-8', { fatal: true });
  const series: HistoryFileContents['series'] = [];
  const keys = new Set<string>();
  const codesBytes = 2 * F * n;
  for (let s = 0; s < count; s++) {
    if (buf.length < o + 2) bad(`cut short at series ${s}`);
    const kl = dv.getUint16(o, true); o += 2;
    if (kl === 0 || kl > MAX_KEY_BYTES) bad(`series ${s}: key of ${kl} bytes (1-${MAX_KEY_BYTES})`);
    if (buf.length < o + kl + 8 + codesBytes) bad(`cut short at series ${s}`);
    let key: string;
    try {
      key = dec.decode(buf.subarray(o, o + kl));
    } catch {
      return bad(`series ${s}: key is not UTF-8`);
    }
    // keys are service and real-server ids: printable, at most one space between the two
    if (!/^[\x21-\x7e]+( [\x21-\x7e]+)?$/.test(key)) bad(`series ${s}: key ${JSON.stringify(key.slice(0, 40))} is not an object id`);
    if (keys.has(key)) bad(`series ${s}: key ${key} appears twice`);
    keys.add(key);
    o += kl;
    const since = dv.getFloat64(o, true); o += 8;
    if (!Number.isFinite(since) || since < 0) bad(`series ${key}: first-seen time is not a time`);
    const minutes = new Uint16Array(F * n);
    for (let i = 0; i < minutes.length; i++, o += 2) minutes[i] = dv.getUint16(o, true);
    series.push({ key, since, minutes });
  }
  if (o !== buf.length) bad(`${buf.length - o} bytes after the last series`);
  return { savedAt, minuteOf, series };
}
