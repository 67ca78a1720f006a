/**
 * Bytes the agent's rate history holds at 1,000 services × 4 real servers:
 * the store's own figure and the heap's (run with node --expose-gc), with
 * traffic on 10 services, and with traffic on every one (the worst case,
 * capped by maxBytes). Usage: node --expose-gc --import tsx bench/history-bytes.ts
 */
import { HistoryStore, MINUTE_MS } from '@/lib/history/rings';

const gc = (globalThis as { gc?: () => void }).gc;
if (!gc) throw new Error('run with node --expose-gc');

function heap(): number {
  gc!();
  const m = process.memoryUsage();
  return m.heapUsed + m.arrayBuffers;
}

function run(busy: number, maxBytes: number) {
  const before = heap();
  const h = new HistoryStore({ maxBytes });
  const sids = Array.from({ length: 1000 }, (_, i) => `tcp:10.0.${i >> 8}.${i & 255}:80`);
  const dids = sids.map((_, i) => Array.from({ length: 4 }, (_, d) => `10.1.${i >> 8}.${i & 255}:${8080 + d}`));
  const t0 = Math.floor(Date.now() / MINUTE_MS) * MINUTE_MS;
  let tickNs = 0n;
  const ticks = 600;
  for (let s = 1; s <= ticks; s++) {
    const a = process.hrtime.bigint();
    h.begin(t0 + s * 1000, 1000);
    for (let i = 0; i < sids.length; i++) {
      const r = i < busy ? 10 + (s % 7) : 0;
      h.put(sids[i]!, null, r, r, r, r * 900, r * 900);
      for (let d = 0; d < 4; d++) h.put(sids[i]!, dids[i]![d]!, r / 4, r / 4, r / 4, r * 225, r * 225);
    }
    h.end(true);
    if (s > 300) tickNs += process.hrtime.bigint() - a;
  }
  const used = heap() - before;
  console.log(`traffic on ${busy} services: store says ${(h.bytes() / 1e6).toFixed(2)} MB, heap grew ${(used / 1e6).toFixed(2)} MB, ${h.storedSeries} series stored, ${h.refused} refused; record ${(Number(tickNs / BigInt(ticks - 300)) / 1e6).toFixed(2)} ms/tick`);
  return h;
}

run(10, 48 * 1024 * 1024);
run(1000, 48 * 1024 * 1024);
run(1000, Infinity);
