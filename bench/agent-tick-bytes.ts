/**
 * Bytes per stats tick per WebSocket client at 1,000 services (goal ≤ 50 kB),
 * measured on the agent's real hub, sampler and wire encoding over the
 * in-memory fake:
 *   npx tsx bench/agent-tick-bytes.ts [services] [busyPercent] [destBudget]
 * Each service has 2 real servers; `busyPercent` of the services carry
 * traffic every tick (every counter moves; the kernel's rates move a little),
 * the rest are idle. As in the agent, /proc-like structure is read every
 * tick and real servers' counters for `destBudget` services per tick (the
 * agent's default, lib/agent/sampler-knobs.ts, unless given).
 * Prints the wire size (what the agent sends) and, for comparison, the size
 * of the same tick in the object form the console decodes it to; and what
 * decoding costs the console, which computes Director's rates itself.
 */
import pino from 'pino';
import { TableHub } from '../server/live/hub';
import { SAMPLER_KNOBS } from '../lib/agent/sampler-knobs';
import { fakeStructure } from '../server/api/testing';
import { FakeIpvs } from '../server/ipvs/fake';
import { LiveTable } from '../lib/agent/live-wire';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type ServiceKey } from '../lib/ipvs/model';

const N = Number(process.argv[2] ?? 1000);
const BUSY = Number(process.argv[3] ?? 10) / 100;
const BUDGET = Number(process.argv[4] ?? SAMPLER_KNOBS.destBudget.default);

// ticks 1 s apart on a virtual clock, so rates are per second as in the agent (and the run is quick)
let now = Date.now();
Date.now = () => now;

const fake = new FakeIpvs();
const keys: ServiceKey[] = [];
for (let i = 0; i < N; i++) {
  const key: ServiceKey = { kind: 'addr', family: 'inet', protocol: 'tcp', address: `10.${(i >> 8) & 255}.${i & 255}.1`, port: 80 };
  keys.push(key);
  await fake.addService({ key, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null });
  for (const h of [2, 3]) {
    await fake.addDestination(key, { family: 'inet', address: `172.16.${i & 255}.${h}`, port: 8080, forward: 'nat', weight: 1, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } });
  }
}
const hub = new TableHub({ backend: fake, log: pino({ level: 'silent' }), tickMs: 1000, structure: fakeStructure(fake), destBudget: BUDGET });
const ac = new AbortController();
const sizes: { full: boolean; wire: number; objects: number; decodeMs: number; pieces: number }[] = [];
const decoder = new LiveTable();
const consumer = (async () => {
  for await (const { tick } of hub.stats(ac.signal)) {
    const text = JSON.stringify(tick);
    const t0 = performance.now();
    const applied = decoder.apply(JSON.parse(text) as typeof tick);
    const decodeMs = performance.now() - t0;
    if (!applied) throw new Error(`tick ${tick.seq} could not be applied`);
    // the object form of the whole state, for scale
    const objects = tick.full && !tick.more ? Buffer.byteLength(JSON.stringify([...decoder.services].map(([id, x]) => [id, x.v, [...x.dests].map(([d, y]) => [d, y.v])]))) : 0;
    const prev = sizes.at(-1);
    // the pieces of a full tick add up to one tick
    if (tick.part && prev) Object.assign(prev, { wire: prev.wire + Buffer.byteLength(text), objects, decodeMs: prev.decodeMs + decodeMs, pieces: prev.pieces + 1 });
    else sizes.push({ full: tick.full, wire: Buffer.byteLength(text), objects, decodeMs, pieces: 1 });
  }
})();
const busy = keys.slice(0, Math.round(N * BUSY));
const TICKS = 12;
for (let t = 0; t < TICKS; t++) {
  for (const k of busy) {
    fake.traffic(k, { family: 'inet', address: (k as { address: string }).address.replace(/^10\.(\d+)\.(\d+)\.1$/, '172.16.$2.2'), port: 8080 },
      { conns: 3 + t, inPkts: 40 + t, outPkts: 35 + t, inBytes: 4000 + t * 17, outBytes: 90000 + t * 31 },
      { cps: 3 + t, inPps: 40 + t, outPps: 35 + t, inBps: 4000 + t, outBps: 90000 + t });
  }
  now += 1000;
  await hub.sampleNow();
  await new Promise((r) => setTimeout(r, 5));
}
ac.abort();
hub.close();
await consumer;
const full = sizes.find((s) => s.full)!;
const deltas = sizes.filter((s) => !s.full);
const kb = (b: number) => (b / 1000).toFixed(1);
console.log(`${N} services x 2 real servers, ${busy.length} busy each tick, ${BUDGET} services' real servers read per tick`);
console.log(`first (full) tick: wire ${kb(full.wire)} kB in ${full.pieces} piece(s) (object form ${kb(full.objects)} kB)`);
console.log(`delta ticks: wire max ${kb(Math.max(...deltas.map((s) => s.wire)))} kB, per tick ${deltas.map((s) => kb(s.wire)).join(' ')} kB`);
const decodeMs = deltas.map((s) => s.decodeMs).sort((a, b) => a - b);
console.log(`console decode (JSON.parse + LiveTable.apply): full tick ${full.decodeMs.toFixed(1)} ms in all, delta median ${decodeMs[decodeMs.length >> 1]!.toFixed(1)} ms (max ${decodeMs.at(-1)!.toFixed(1)})`);
