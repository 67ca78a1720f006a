/**
 * Bounded fuzzing of every parser that reads hostile input: snapshot text
 * and JSON (files to import), keepalived.conf with includes, the connection
 * table, /proc/net/ip_vs and its stats, and netlink replies. Each parser gets
 * FUZZ_RUNS inputs from a fixed seed, made by mutating real samples (so most
 * inputs get deep into the grammar) and by plain random text. A parser may
 * refuse an input only the way it documents (errors in its result, or its
 * own error class); any other exception is a crash, and an input that takes
 * over HANG_MS is a hang. A failing case prints its seed and path: commit it
 * as a named case next to the parser's tests.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatConnLine } from './conn/format';
import { parseConnTable } from './conn/parse';
import { arbConnEntry } from './conn/testing';
import * as codec from './ipvs/codec';
import { IpvsError } from './ipvs/errors';
import { DEFAULT_FLAGS, DEFAULT_TUNNEL, type DestinationSpec, type ServiceSpec } from './ipvs/model';
import { parseKeepalived, type IncludeReader } from './keepalived/parse';
import { ProcParseError, parseProcIpvs } from './proc/ip-vs';
import { LAB_PROC_IP_VS } from './proc/lab-capture';
import { parseProcIpvsStats, parseProcIpvsStatsPercpu } from './proc/ip-vs-stats';
import { readSnapshotJson } from './snapshot/json';
import { parseSnapshot } from './snapshot/parse';

const FUZZ_RUNS = 10_000;
const SEED = 20261204;
const HANG_MS = 1_000;

const ROOT = path.resolve(import.meta.dirname, '..');
const read = (p: string) => readFileSync(path.join(ROOT, p), 'utf8');
const SNAPSHOT_TEXTS = [
  ...readdirSync(path.join(ROOT, 'server/snapshot/corpus')).filter((f) => f.endsWith('.txt')).map((f) => read(`server/snapshot/corpus/${f}`)),
  read('lib/snapshot/fixtures/reference-8.4.txt'),
];
const KEEPALIVED_DIR = 'lib/keepalived/corpus';
const KEEPALIVED_TEXTS = readdirSync(path.join(ROOT, KEEPALIVED_DIR)).filter((f) => f.endsWith('.conf')).map((f) => read(`${KEEPALIVED_DIR}/${f}`));
const PROC_STATS = `   Total Incoming Outgoing         Incoming         Outgoing
   Conns  Packets  Packets            Bytes            Bytes
      2D      1C2        0            1B2E4                0

 Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
       1        9        0              3D2                0
`;
const PROC_PERCPU = `       Total Incoming Outgoing         Incoming         Outgoing
CPU    Conns  Packets  Packets            Bytes            Bytes
  0       2D      1C2        0            1B2E4                0
  ~       2D      1C2        0            1B2E4                0

     Conns/s   Pkts/s   Pkts/s          Bytes/s          Bytes/s
           1        9        0              3D2                0
`;

/** Bits that move parsers to their edges: delimiters, numbers at their limits, odd bytes. */
const PIECES = [
  '{', '}', '{{{{', '}}}}', '\n', '\r\n', '"', "'", '\\', '\0', '#', '!', ' ', '\t', '-', '--', ':', '::', '[', ']', '/',
  '0', '-1', '0x', '4294967296', '99999999999999999999', '1e309', 'NaN', '\uFFFD', '\u00e9', '\ud800',
  'include a.conf', 'include *.conf', 'include ../x.conf', '-A', '-a', '-t', '-u', '-f', '-6', '-s', '-r', '-w', '-p', '-M',
  '10.0.0.1', '::1', '[::1]:80', '255.255.255.255', 'virtual_server', 'real_server', 'HTTP_GET', 'url', 'TCP', 'FWM',
  '->', 'Masq', 'Route', 'Tunnel', 'persistent', 'ESTABLISHED', 'FFFFFFFF', 'null', '{}', '[]', '"services"',
];

interface Mutation { kind: number; at: number; len: number; piece: number; times: number }
const arbMutation: fc.Arbitrary<Mutation> = fc.record({
  kind: fc.nat(6),
  at: fc.nat(),
  len: fc.nat(64),
  piece: fc.nat(PIECES.length - 1),
  times: fc.integer({ min: 1, max: 200 }),
});

/** Applies mutations to a text: insert, delete, replace, repeat, cut, duplicate a line, swap two lines. */
function mutate(text: string, ms: readonly Mutation[]): string {
  let t = text;
  for (const m of ms) {
    const at = t.length ? m.at % (t.length + 1) : 0;
    const piece = PIECES[m.piece]!;
    switch (m.kind) {
      case 0: t = t.slice(0, at) + piece + t.slice(at); break;
      case 1: t = t.slice(0, at) + t.slice(at + m.len); break;
      case 2: t = t.slice(0, at) + piece + t.slice(at + piece.length); break;
      case 3: t = t.slice(0, at) + piece.repeat(m.times) + t.slice(at); break;
      case 4: t = t.slice(0, at); break;
      default: {
        const lines = t.split('\n');
        const i = m.at % lines.length;
        const j = (m.at + m.len) % lines.length;
        if (m.kind === 5) lines.splice(i, 0, ...Array<string>(Math.min(m.times, 20)).fill(lines[i]!));
        else [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        t = lines.join('\n');
      }
    }
  }
  return t;
}

/** An input built from one of the samples, or, one time in eight, random text. */
function textInput(samples: readonly string[]): fc.Arbitrary<string> {
  return fc.oneof(
    { weight: 7, arbitrary: fc.tuple(fc.nat(samples.length - 1), fc.array(arbMutation, { minLength: 1, maxLength: 8 })).map(([i, ms]) => mutate(samples[i]!, ms)) },
    { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 400 }) },
  );
}

interface Outcome { crashes: string[]; slowest: number }

/** Runs `parse` on every input; an error that `allowed` does not accept is a crash. */
async function fuzz<T>(arb: fc.Arbitrary<T>, parse: (x: T) => unknown, allowed: (e: unknown) => boolean = () => false): Promise<Outcome> {
  const out: Outcome = { crashes: [], slowest: 0 };
  await fc.assert(fc.asyncProperty(arb, async (x) => {
    const t0 = performance.now();
    try {
      await parse(x);
    } catch (e) {
      if (!allowed(e) && out.crashes.length < 5) out.crashes.push(`${e instanceof Error ? e.stack?.split('\n').slice(0, 3).join(' | ') : String(e)} on ${JSON.stringify(x).slice(0, 300)}`);
    }
    const ms = performance.now() - t0;
    if (ms > out.slowest) out.slowest = ms;
    if (ms > HANG_MS && out.crashes.length < 5) out.crashes.push(`hang: ${ms.toFixed(0)} ms on ${JSON.stringify(x).slice(0, 300)}`);
  }), { seed: SEED, numRuns: FUZZ_RUNS, endOnFailure: true });
  return out;
}

function expectClean(name: string, o: Outcome): void {
  process.stdout.write(`fuzz ${name}: ${FUZZ_RUNS} inputs, ${o.crashes.length} crashes or hangs, slowest ${o.slowest.toFixed(1)} ms\n`);
  expect(o.crashes, name).toEqual([]);
  expect(o.slowest, `${name}: slowest input`).toBeLessThan(HANG_MS);
}

/** An in-memory folder of keepalived files that include each other (cycles too), '*' globbing the name. */
function includeFolder(files: Record<string, string>): IncludeReader {
  return (pattern) => {
    const base = pattern.split('/').pop() ?? pattern;
    const re = new RegExp(`^${base.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '.*')}$`);
    return Object.keys(files).filter((f) => re.test(f)).sort().map((f) => ({ file: `/etc/keepalived/${f}`, text: files[f]! }));
  };
}

const isProcError = (e: unknown) => e instanceof ProcParseError;
const isMalformedReply = (e: unknown) => e instanceof IpvsError;

// Each suite reads 10,000 inputs; together they take some seconds.
const SLOW = 120_000;

describe(`bounded fuzzing, ${FUZZ_RUNS} inputs per parser, seed ${SEED}`, () => {
  it('ipvsadm -S snapshot text', async () => {
    expectClean('snapshot text', await fuzz(textInput(SNAPSHOT_TEXTS), (t) => parseSnapshot(t, { maxErrors: 20 })));
  }, SLOW);

  it('snapshot JSON', async () => {
    const sample = JSON.stringify({
      version: 1,
      services: [{ service: { key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'rr' }, destinations: [{ address: '10.0.0.2', port: 80, forward: 'dr', weight: 1 }] }],
    }, null, 1);
    expectClean('snapshot JSON', await fuzz(textInput([sample, '{}', '[]']), (t) => readSnapshotJson(t)));
  }, SLOW);

  it('keepalived.conf with includes', async () => {
    const arb = fc.tuple(textInput(KEEPALIVED_TEXTS), textInput(KEEPALIVED_TEXTS), fc.boolean()).map(([main, other, cycle]) => ({
      main: cycle ? `include *.conf\n${main}` : main,
      files: { 'a.conf': other, 'b.conf': cycle ? `include a.conf\ninclude b.conf\n${other}` : other },
    }));
    expectClean('keepalived', await fuzz(arb, (x) => parseKeepalived(x.main, { file: '/etc/keepalived/keepalived.conf', include: includeFolder(x.files) })));
  }, SLOW);

  it('the connection table (/proc/net/ip_vs_conn)', async () => {
    const sample = `Pro FromIP   FPrt ToIP     TPrt DestIP   DPrt State       Expires PEName PEData\n${fc.sample(arbConnEntry, { seed: SEED, numRuns: 20 }).map(formatConnLine).join('\n')}\n`;
    expectClean('connection table', await fuzz(textInput([sample]), (t) => parseConnTable(t)));
  }, SLOW);

  it('/proc/net/ip_vs, ip_vs_stats and ip_vs_stats_percpu', async () => {
    const arb = fc.tuple(fc.nat(2), textInput([LAB_PROC_IP_VS, PROC_STATS, PROC_PERCPU]));
    expectClean('/proc/net/ip_vs*', await fuzz(arb, ([which, t]) => [() => parseProcIpvs(t, 100), () => parseProcIpvsStats(t), () => parseProcIpvsStatsPercpu(t)][which]!(), isProcError));
  }, SLOW);

  it('netlink replies (service, real server, info, timeouts, sync daemon, genl header)', async () => {
    const spec: ServiceSpec = { key: { kind: 'addr', family: 'inet', protocol: 'tcp', address: '10.0.0.1', port: 80 }, scheduler: 'wlc', flags: { ...DEFAULT_FLAGS }, timeout: 300, netmask: '255.255.255.0', pe: null };
    const destSpec: DestinationSpec = { family: 'inet', address: '10.0.0.2', port: 80, forward: 'nat', weight: 3, upperThreshold: 0, lowerThreshold: 0, tunnel: { ...DEFAULT_TUNNEL } };
    // the nests' contents, as unpackService/unpackDestination take them
    const service = codec.packService(spec).subarray(4);
    const dest = codec.packDestination(destSpec).subarray(4);
    const samples = [service, dest, codec.packTimeouts({ tcp: 900, tcpFin: 120, udp: 300 }), codec.packGenlMessage(1, [service])];
    const bytes = fc.oneof(
      { weight: 6, arbitrary: fc.tuple(fc.nat(samples.length - 1), fc.array(fc.tuple(fc.nat(), fc.nat(255)), { minLength: 1, maxLength: 12 }), fc.nat()).map(([i, flips, cut]) => {
        const b = Uint8Array.from(samples[i]!);
        for (const [at, v] of flips) b[at % b.length] = v;
        return cut % 4 === 0 ? b.subarray(0, cut % (b.length + 1)) : b;
      }) },
      { weight: 1, arbitrary: fc.uint8Array({ maxLength: 300 }) },
    );
    const decoders: ((b: Uint8Array) => unknown)[] = [
      (b) => codec.unpackService(b),
      (b) => codec.unpackServiceMessage(b),
      (b) => codec.unpackDestination(b, 'inet'),
      (b) => codec.unpackDestinationMessage(b, 'inet6'),
      (b) => codec.unpackInfo(b),
      (b) => codec.unpackTimeouts(b),
      (b) => codec.unpackDaemonMessage(b),
      (b) => codec.unpackGenlMessage(b),
    ];
    const arb = fc.tuple(fc.nat(decoders.length - 1), bytes);
    expectClean('netlink replies', await fuzz(arb, ([d, b]) => decoders[d]!(b), isMalformedReply));
  }, SLOW);
});
