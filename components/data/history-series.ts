/**
 * The service page's chart over a chosen range: what the agent's history
 * (history.get) returned, with the live ticks appended as they come. Over
 * 15 minutes every tick is a point; over 1 hour and 24 hours ticks are folded
 * into the minute they fall in, as the agent's own minutes are.
 */
import type { LiveSample } from '@/lib/agent/live-wire';
import type { ServiceHistory } from '@/lib/history/read';
import { MINUTE_MS, RANGE_MS, type HistoryRange } from '@/lib/history/rings';

export const RANGES: readonly { range: HistoryRange; label: string }[] = [
  { range: '15m', label: '15 min' },
  { range: '1h', label: '1 h' },
  { range: '24h', label: '24 h' },
];

export const RANGE_WORDS: Record<HistoryRange, string> = { '15m': '15 minutes', '1h': 'hour', '24h': '24 hours' };

interface DestSeries {
  cps: number[];
  bps: number[];
}

export class ChartHistory {
  /** point times (ms; a rate covers the `ms[i]` before `at[i]`) */
  readonly at: number[] = [];
  readonly ms: number[] = [];
  readonly dests = new Map<string, DestSeries>();
  /** bumps on every change, for memoised readers */
  version = 0;
  /** the minute the last point is still accumulating (1h/24h), -1 when none */
  private openMinute = -1;
  private openW = 0;
  private readonly openSums = new Map<string, { cps: number; bps: number }>();

  constructor(readonly range: HistoryRange, h: ServiceHistory | null) {
    if (!h) return;
    this.at.push(...h.at);
    this.ms.push(...h.ms);
    for (const d of h.dests) {
      this.dests.set(d.id, {
        cps: d.v.cps.map((v) => v ?? Number.NaN),
        bps: d.v.inBps.map((v, i) => (v === null || d.v.outBps[i] === null ? Number.NaN : v + d.v.outBps[i]!)),
      });
    }
  }

  private series(did: string): DestSeries {
    let s = this.dests.get(did);
    if (!s) {
      // a real server first seen now lines up with the points before it
      s = { cps: new Array<number>(this.at.length).fill(Number.NaN), bps: new Array<number>(this.at.length).fill(Number.NaN) };
      this.dests.set(did, s);
    }
    return s;
  }

  /** One live tick: `at` and the ms its rates cover, and each real server's rates. */
  addTick(at: number, intervalMs: number, dests: ReadonlyMap<string, { v: LiveSample }>): void {
    if (intervalMs <= 0 || (this.at.length && at <= this.at[this.at.length - 1]! && this.openMinute < 0)) return;
    if (this.range === '15m') {
      for (const did of dests.keys()) this.series(did);
      this.at.push(at);
      this.ms.push(intervalMs);
      for (const [did, s] of this.dests) {
        const v = dests.get(did)?.v;
        s.cps.push(v ? v.cps : Number.NaN);
        s.bps.push(v ? v.inBps + v.outBps : Number.NaN);
      }
    } else {
      const m = Math.floor((at - intervalMs / 2) / MINUTE_MS);
      const lastClosed = this.openMinute < 0 && this.at.length ? Math.floor(this.at[this.at.length - 1]! / MINUTE_MS) - 1 : -1;
      if (m <= lastClosed || (this.openMinute >= 0 && m < this.openMinute)) return;
      if (m !== this.openMinute) {
        // the minute before is complete: its point moves to the minute's end, as the agent's are
        if (this.openMinute >= 0) this.at[this.at.length - 1] = (this.openMinute + 1) * MINUTE_MS;
        this.openMinute = m;
        this.openW = 0;
        this.openSums.clear();
        for (const did of dests.keys()) this.series(did);
        this.at.push(at);
        this.ms.push(MINUTE_MS);
        for (const s of this.dests.values()) { s.cps.push(Number.NaN); s.bps.push(Number.NaN); }
      }
      this.at[this.at.length - 1] = at;
      this.openW += intervalMs;
      for (const [did, d] of dests) {
        const s = this.series(did);
        if (s.cps.length < this.at.length) { s.cps.push(Number.NaN); s.bps.push(Number.NaN); }
        const sum = this.openSums.get(did) ?? { cps: 0, bps: 0 };
        sum.cps += d.v.cps * intervalMs;
        sum.bps += (d.v.inBps + d.v.outBps) * intervalMs;
        this.openSums.set(did, sum);
        s.cps[s.cps.length - 1] = sum.cps / this.openW;
        s.bps[s.bps.length - 1] = sum.bps / this.openW;
      }
    }
    this.trim(at);
    this.version++;
  }

  /** Drops points older than the range. */
  private trim(now: number): void {
    const from = now - RANGE_MS[this.range];
    let k = 0;
    while (k < this.at.length && this.at[k]! < from) k++;
    if (k === 0) return;
    this.at.splice(0, k);
    this.ms.splice(0, k);
    for (const s of this.dests.values()) { s.cps.splice(0, k); s.bps.splice(0, k); }
  }

  /** The oldest point's time, or null with none. */
  get oldest(): number | null {
    return this.at.length ? this.at[0]! : null;
  }
}
