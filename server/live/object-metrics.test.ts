import { Counter, Gauge, Registry } from 'prom-client';
import { describe, expect, it } from 'vitest';
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import { prng } from '@/lib/agent/testing';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, ZERO_STATS, type DestinationState, type ServiceEntry, type Stats } from '@/lib/ipvs/model';
import { OBJECT_FAMILIES, escapeLabelValue, renderObjectMetrics } from './object-metrics';

const rnd = prng(7);
const n = () => Math.floor(rnd() * 1e9);
const stats = (): Stats => ({ ...ZERO_STATS, conns: n(), inPkts: n(), outPkts: n(), inBytes: n() * 1000, outBytes: n() * 1000 });
const dest = (address: string, port: number): DestinationState => ({
  family: address.includes(':') ? 'inet6' : 'inet', address, port, forward: 'nat', weight: n() % 100, upperThreshold: 0, lowerThreshold: 0,
  tunnel: { ...DEFAULT_TUNNEL }, activeConns: n() % 1000, inactiveConns: n() % 1000, persistentConns: n() % 10, stats: stats(),
});
const entry = (i: number, dests: number): ServiceEntry => ({
  key: i % 5 === 4 ? { kind: 'fwmark', family: 'inet', fwmark: i } : { kind: 'addr', family: i % 3 ? 'inet' : 'inet6', protocol: i % 2 ? 'udp' : 'tcp', address: i % 3 ? `10.0.${i >> 8}.${i & 255}` : `2001:db8::${i}`, port: 80 },
  scheduler: 'rr', flags: { ...DEFAULT_FLAGS }, timeout: 0, netmask: '255.255.255.255', pe: null, stats: stats(),
  destinations: Array.from({ length: dests }, (_, d) => dest(d % 2 ? `172.16.${d}.${i & 255}` : `2001:db8:1::${d}`, 8000 + d)),
});

/** The same families through prom-client's labelled metrics: what /metrics served before. */
async function viaPromClient(entries: ServiceEntry[]): Promise<string> {
  const r = new Registry();
  const m = OBJECT_FAMILIES.map((f, i) => {
    const labelNames = i === 0 ? ['service'] : i < 3 ? ['service', 'direction'] : i === 4 || i === 5 ? ['service', 'destination', 'direction'] : ['service', 'destination'];
    return f.type === 'counter' ? new Counter({ name: f.name, help: f.help, labelNames, registers: [r] }) : new Gauge({ name: f.name, help: f.help, labelNames, registers: [r] });
  });
  const set = (i: number, labels: Record<string, string>, v: number) => (m[i] instanceof Counter ? m[i].inc(labels, v) : (m[i] as Gauge).set(labels, v));
  for (const e of entries) {
    const service = serviceId(e.key);
    set(0, { service }, e.stats.conns);
    set(1, { service, direction: 'in' }, e.stats.inPkts); set(1, { service, direction: 'out' }, e.stats.outPkts);
    set(2, { service, direction: 'in' }, e.stats.inBytes); set(2, { service, direction: 'out' }, e.stats.outBytes);
    for (const d of e.destinations) {
      const l = { service, destination: destinationId(d) };
      set(3, l, d.stats.conns);
      set(4, { ...l, direction: 'in' }, d.stats.inPkts); set(4, { ...l, direction: 'out' }, d.stats.outPkts);
      set(5, { ...l, direction: 'in' }, d.stats.inBytes); set(5, { ...l, direction: 'out' }, d.stats.outBytes);
      set(6, l, d.activeConns); set(7, l, d.inactiveConns); set(8, l, d.persistentConns); set(9, l, d.weight);
    }
  }
  return r.metrics();
}

const text = (entries: ServiceEntry[]) => renderObjectMetrics(entries, 5000).pieces.join('');

describe('renderObjectMetrics', () => {
  it('writes exactly what prom-client wrote for the same table (IPv4, IPv6, fwmark, TCP/UDP)', async () => {
    const entries = Array.from({ length: 40 }, (_, i) => entry(i, i % 4));
    const { pieces, truncated } = renderObjectMetrics(entries, 5000);
    const text = pieces.join('');
    expect(truncated).toBe(false);
    expect(text).toBe(await viaPromClient(entries));
  });

  it('an unchanged entry object is written once; a new object for a changed service is written anew', () => {
    const a = entry(1, 2), b = entry(2, 2);
    const first = text([a, b]);
    expect(text([a, b])).toBe(first);
    const b2: ServiceEntry = { ...b, destinations: [{ ...b.destinations[0]!, activeConns: 123456 }, b.destinations[1]!] };
    const next = text([a, b2]);
    expect(next).not.toBe(first);
    expect(next).toContain(`director_ipvs_destination_active_connections{service="${serviceId(b.key)}",destination="${destinationId(b.destinations[0]!)}"} 123456`);
  });

  it('leaves whole services out past maxSeries (one series per service and per real server) and says so', () => {
    const entries = [entry(1, 3), entry(2, 3), entry(3, 3)];
    const r = renderObjectMetrics(entries, 9);
    expect(r.truncated).toBe(true);
    expect(r.pieces.join('')).toContain(`service="${serviceId(entries[1]!.key)}"`);
    expect(r.pieces.join('')).not.toContain(`service="${serviceId(entries[2]!.key)}"`);
    expect(renderObjectMetrics(entries, 12).truncated).toBe(false);
  });

  it('escapes label values as the text format requires', () => {
    expect(escapeLabelValue('a"b\\c\nd')).toBe('a\\"b\\\\c\\nd');
    expect(escapeLabelValue('tcp:10.0.0.1:80')).toBe('tcp:10.0.0.1:80');
  });

  it('cuts a large table into pieces of about 64 kB that add up to the whole text', async () => {
    const entries = Array.from({ length: 400 }, (_, i) => entry(i, 4));
    const { pieces } = renderObjectMetrics(entries, 5000);
    expect(pieces.length).toBeGreaterThan(5);
    expect(Math.max(...pieces.map((p) => p.length))).toBeLessThan(80 * 1024);
    expect(pieces.join('')).toBe(await viaPromClient(entries));
  });
});
