/**
 * Host-side cost of `director restore` before the kernel is written (issue 3):
 * parse of an ipvsadm -Sn file, then what restoreTable does with the result
 * (whole-table validation, plan against an empty table).
 *
 *   npx tsx bench/snapshot-parse.bench.ts [--services N] [--dests N] [--runs N] [--names] [--stages parse,validate,plan] [--write FILE]
 *
 * The file is generated from a model through formatSnapshot, which writes
 * what `ipvsadm -Sn` writes byte for byte (server/snapshot/corpus.test.ts),
 * so its order and spelling are ipvsadm's. Default 10,000 services × 4 real
 * servers = 50,000 lines: TCP/UDP/SCTP/fwmark (some IPv6, in brackets), every
 * scheduler, -p with and without -M, --pe, -o, -b, -m/-g/-i (ipip/gue/gre),
 * weights, -x/-y. --names writes every 10th service with a service name
 * (`:http`) and resolves it through a stub, to time the name path too.
 * --write FILE only writes the generated file (e.g. for `director restore`
 * in the lab) and exits.
 *
 * Each stage: one warm-up, then --runs timed runs; prints median (min..max).
 * Peak RSS is the process's maxRSS after the parse runs (it includes the
 * generated text and the model, which are alive throughout).
 */
import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { performance } from 'node:perf_hooks';
import type { AddressFamily, DestinationSpec, Protocol, ServiceKey, ServiceRules } from '../lib/ipvs/model';
import { canonicalAddress } from '../lib/net/ip';
import { formatSnapshot } from '../lib/snapshot/format';
import { parseSnapshot } from '../lib/snapshot/parse';
import { planRestore } from '../lib/snapshot/plan';
import type { NameResolver } from '../lib/snapshot/resolve';
import { validateTable } from '../server/snapshot/apply';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    dests: { type: 'string', default: '4' },
    runs: { type: 'string', default: '5' },
    names: { type: 'boolean', default: false },
    stages: { type: 'string', default: 'parse,validate,plan' },
    write: { type: 'string' },
  },
});
const SERVICES = Number(values.services);
const DESTS = Number(values.dests);
const RUNS = Number(values.runs);
const STAGES = values.stages.split(',');

const SCHEDS = ['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh', 'sed', 'nq', 'fo', 'ovf', 'mh'];
const canon = (a: string) => canonicalAddress(a)!;
const ip4 = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;

function makeModel(): ServiceRules[] {
  const out: ServiceRules[] = [];
  for (let i = 0; i < SERVICES; i++) {
    const v6 = i % 10 === 3;
    const family: AddressFamily = v6 ? 'inet6' : 'inet';
    const kindSel = i % 20;
    const protocol: Protocol = kindSel < 12 ? 'tcp' : kindSel < 17 ? 'udp' : 'sctp';
    const fwmark = i % 25 === 7;
    const persistent = i % 3 === 0;
    const port = persistent && i % 30 === 0 ? 0 : [80, 443, 53, 8080, 3868][i % 5]!;
    const key: ServiceKey = fwmark
      ? { kind: 'fwmark', family, fwmark: i + 1 }
      : { kind: 'addr', family, protocol, address: v6 ? canon(`2001:db8:${(i >> 16).toString(16)}::${(i & 0xffff).toString(16)}`) : ip4(0x0a000000 + i), port };
    const scheduler = SCHEDS[i % SCHEDS.length]!;
    const shmh = scheduler === 'sh' || scheduler === 'mh';
    const udpish = key.kind === 'fwmark' || key.protocol === 'udp';
    const destinations: DestinationSpec[] = [];
    for (let j = 0; j < DESTS; j++) {
      const n = i * DESTS + j;
      const forward = (['nat', 'dr', 'tun', 'nat'] as const)[(i + j) % 4]!;
      const dfam: AddressFamily = v6 && !(forward === 'tun' && j === 2) ? 'inet6' : 'inet';
      const address = dfam === 'inet6' ? canon(`2001:db8:aa:${(n >> 16).toString(16)}::${(n & 0xffff).toString(16)}`) : ip4(0xac100000 + n + 1);
      // ipvsadm forces the service port on DR/TUN real servers of address services
      const dport = key.kind === 'addr' && forward !== 'nat' ? key.port : forward === 'nat' ? 8000 + j : 0;
      const tunType = (['ipip', 'gue', 'gre'] as const)[n % 3]!;
      const tunnel = forward !== 'tun' ? { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const }
        : tunType === 'gue' ? { type: 'gue' as const, port: 6080, checksum: 'csum' as const }
        : tunType === 'gre' ? { type: 'gre' as const, port: 0, checksum: 'nocsum' as const }
        : { type: 'ipip' as const, port: 0, checksum: 'nocsum' as const };
      const upper = n % 7 === 0 ? 1000 + j : 0;
      destinations.push({
        family: dfam, address, port: dport, forward, weight: (n * 37) % 200, upperThreshold: upper,
        lowerThreshold: upper && n % 2 === 0 ? 500 : 0, tunnel,
      });
    }
    out.push({
      key, scheduler,
      flags: { persistent, onePacket: udpish && i % 4 === 1, sched1: shmh && i % 2 === 0, sched2: shmh && i % 3 === 0, sched3: !shmh && i % 11 === 0 },
      timeout: persistent ? 60 + (i % 600) : 0,
      netmask: !persistent ? (v6 ? '128' : '255.255.255.255') : v6 ? String(48 + (i % 80)) : i % 2 ? '255.255.255.0' : '255.255.255.255',
      pe: persistent && key.kind === 'addr' && key.protocol === 'udp' && i % 5 === 3 ? 'sip' : null,
      destinations,
    });
  }
  return out;
}

const PORT_NAMES: Record<string, number> = { http: 80, https: 443, domain: 53, 'http-alt': 8080, diameter: 3868 };
const stubResolver: NameResolver = {
  resolveHost: async () => null,
  resolveService: async (name) => PORT_NAMES[name] ?? null,
};
const NAME_OF = Object.fromEntries(Object.entries(PORT_NAMES).map(([k, v]) => [String(v), k]));

function withNames(text: string): string {
  let svc = -1;
  return text.split('\n').map((l) => {
    if (l.startsWith('-A')) svc++;
    if (svc % 10 !== 0) return l;
    return l.replace(/(-[tu]|--sctp-service) (\S+):(\d+)/, (m, opt: string, host: string, port: string) => (NAME_OF[port] ? `${opt} ${host}:${NAME_OF[port]}` : m));
  }).join('\n');
}

const model = makeModel();
const reference = formatSnapshot(model);
const text = values.names ? withNames(reference) : reference;
const resolver = values.names ? stubResolver : undefined;
const lineCount = text.split('\n').length - 1;
if (values.write) {
  writeFileSync(values.write, text);
  process.stdout.write(`wrote ${values.write}: ${lineCount} lines\n`);
  process.exit(0);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
const spread = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return `median ${median(xs).toFixed(0).padStart(5)} ms (${s[0]!.toFixed(0)}..${s.at(-1)!.toFixed(0)})`;
};
/**
 * Wall time, and the process's CPU time (all its threads, GC helpers
 * included): on a shared 2-core machine the wall time swings with whatever
 * else runs, the CPU time much less.
 */
async function time<T>(name: string, f: () => Promise<T> | T): Promise<{ ms: number[]; last: T }> {
  let last = await f();
  const ms: number[] = [], cpu: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = await f();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  process.stdout.write(`${name.padEnd(34)} wall ${spread(ms)}   cpu ${spread(cpu)}   runs ${ms.map((x) => x.toFixed(0)).join(' ')}\n`);
  return { ms, last };
}
const rssMb = () => (process.resourceUsage().maxRSS / 1024).toFixed(0);

process.stdout.write(`${SERVICES} services × ${DESTS} = ${lineCount} lines, ${(text.length / 1e6).toFixed(2)} MB${values.names ? ', names' : ''}; node ${process.version}; peak RSS before: ${rssMb()} MB\n`);

const parsed = await time('parseSnapshot', () => parseSnapshot(text, { resolver }));
process.stdout.write(`peak RSS after parse: ${rssMb()} MB\n`);
const p = parsed.last;
if (p.errors.length > 0) throw new Error(`the generated file does not parse: ${JSON.stringify(p.errors.slice(0, 3))}`);
const again = formatSnapshot(p.services);
if (again !== reference) {
  const a = again.split('\n'), b = reference.split('\n');
  const k = a.findIndex((l, i) => l !== b[i]);
  throw new Error(`format(parse(text)) differs from the text at line ${k + 1}: '${a[k]}' vs '${b[k]}'`);
}

if (STAGES.includes('validate')) await time('validateTable (in restoreTable)', () => validateTable(p.services));
if (STAGES.includes('plan')) {
  const r = await time('planRestore into an empty table', () => planRestore([], p.services, { lines: p.lines }));
  if (r.last.length !== lineCount) throw new Error(`plan has ${r.last.length} ops for ${lineCount} lines`);
}
process.stdout.write(`peak RSS at the end: ${rssMb()} MB\n`);
