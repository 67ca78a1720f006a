/**
 * Bytes per stats tick per WebSocket client at 1,000 services (goal ≤ 50 kB),
 * measured on the agent's real sampler and delta code over the in-memory fake:
 *   npx tsx bench/agent-tick-bytes.ts [services] [busyPercent]
 * Each service has 2 real servers; `busyPercent` of the services carry
 * traffic every tick (all counters and rates change), the rest are idle.
 */
import pino from 'pino';
import { TableHub } from '../server/agent/hub';
import { FakeIpvs } from '../server/ipvs/fake';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type ServiceKey } from '../lib/ipvs/model';

const N = Number(process.argv[2] ?? 1000);
const BUSY = Number(process.argv[3] ?? 10) / 100;

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
const hub = new TableHub({ backend: fake, log: pino({ level: 'silent' }), tickMs: 1000 });
const ac = new AbortController();
const sizes: { full: boolean; bytes: number }[] = [];
const consumer = (async () => {
  for await (const { tick } of hub.stats(ac.signal)) sizes.push({ full: tick.full, bytes: Buffer.byteLength(JSON.stringify(tick)) });
})();
const busy = keys.slice(0, Math.round(N * BUSY));
for (let t = 0; t < 6; t++) {
  for (const k of busy) {
    fake.traffic(k, { family: 'inet', address: (k as { address: string }).address.replace(/^10\.(\d+)\.(\d+)\.1$/, '172.16.$2.2'), port: 8080 },
      { conns: 3 + t, inPkts: 40 + t, outPkts: 35 + t, inBytes: 4000 + t * 17, outBytes: 90000 + t * 31 },
      { cps: 3 + t, inPps: 40 + t, outPps: 35 + t, inBps: 4000 + t, outBps: 90000 + t });
  }
  await new Promise((r) => setTimeout(r, 20));
  await hub.sampleNow();
  await new Promise((r) => setTimeout(r, 5));
}
ac.abort();
hub.close();
await consumer;
const full = sizes.find((s) => s.full)!;
const deltas = sizes.filter((s) => !s.full).map((s) => s.bytes);
console.log(`${N} services x 2 real servers, ${busy.length} busy each tick`);
console.log(`first (full) tick: ${(full.bytes / 1024).toFixed(1)} kB`);
console.log(`delta ticks: max ${(Math.max(...deltas) / 1024).toFixed(1)} kB, per tick ${deltas.map((b) => (b / 1024).toFixed(1)).join(' ')} kB`);
