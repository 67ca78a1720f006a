/**
 * Connection-table summary against raw reads (issue 8, measure e).
 *
 *   npx tsx bench/conn-summary.bench.ts [FILE] [--lines N] [--runs N] [--bundle] [--only main|worker|main64]...
 *
 * Without FILE, writes a synthetic ip_vs_conn of N lines (default 1,000,000)
 * in the kernel's exact format into a temp dir (tmpfs /dev/shm when there is
 * one) and removes it afterwards. With FILE (e.g. /proc/net/ip_vs_conn inside
 * the lab kernel) it reads that.
 * Director = the real reader (server/conn/reader.ts; with --bundle the copy
 * in dist/cli that the agent runs, built by `npm run build:cli`), three ways:
 * in a worker thread (the default), on the main thread in 16 KiB slices (the
 * fallback), and on the main thread in 64 KiB slices (the reader before the
 * worker). Anchors: `cat FILE > /dev/null`, an `awk` state count over FILE,
 * and, when FILE is /proc/net/ip_vs_conn and ipvsadm exists,
 * `ipvsadm -Lcn | awk`. Runs alternate after one warm-up; the table shows
 * medians and ratios.
 */
import { spawnSync } from 'node:child_process';
import { createWriteStream, existsSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { median } from './stats';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import { CONN_HEADER, formatConnLine } from '../lib/conn/format';
import type { ConnEntry } from '../lib/conn/parse';
import * as sourceReader from '../server/conn/reader';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    lines: { type: 'string', default: '1000000' },
    runs: { type: 'string', default: '5' },
    bundle: { type: 'boolean', default: false },
    only: { type: 'string', multiple: true },
  },
});
const LINES = Number(values.lines);
const RUNS = Number(values.runs);

type Reader = typeof sourceReader;
async function bundledReader(): Promise<Reader> {
  const entry = path.resolve(import.meta.dirname, '../dist/cli/director.mjs');
  if (!existsSync(entry)) throw new Error('--bundle: no dist/cli/director.mjs (npm run build:cli)');
  const m = (await import(pathToFileURL(entry).href)) as { connReader: () => Promise<Reader> };
  return m.connReader();
}
const reader: Reader = values.bundle ? await bundledReader() : sourceReader;

interface Mode { key: string; name: string; opts: sourceReader.ReadOptions }
const ALL_MODES: Mode[] = [
  { key: 'main64', name: 'main thread, 64 KiB slices (before)', opts: { thread: 'main', chunkSize: 64 * 1024 } },
  { key: 'main', name: 'main thread, 16 KiB slices (fallback)', opts: { thread: 'main' } },
  { key: 'worker', name: 'worker thread', opts: { thread: 'worker' } },
];
const MODES = ALL_MODES.filter((m) => !values.only || values.only.includes(m.key));

// A plausible busy director: 200 IPv4 services × 4 real servers, some IPv6,
// UDP, persistence templates, and a state mix dominated by short-lived HTTP.
const STATE_MIX: [string, number][] = [
  ['ESTABLISHED', 30], ['TIME_WAIT', 25], ['FIN_WAIT', 20], ['SYN_RECV', 10], ['CLOSE_WAIT', 5], ['CLOSE', 3],
  ['LAST_ACK', 2], ['SYN_SENT', 1],
];
const STATES = STATE_MIX.flatMap(([s, w]) => Array<string>(w).fill(s));

function synthetic(i: number): ConnEntry {
  const svc = i % 200;
  const rs = (i >>> 3) % 4;
  const r = (i * 2654435761) >>> 0;
  const v6 = i % 20 === 0;
  const udp = i % 10 === 1;
  const template = i % 50 === 2;
  const c = 0x0a000000 + (r & 0xffffff);
  const ip4 = (v: number) => `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  return {
    protocol: udp ? 'udp' : 'tcp',
    family: v6 ? 'inet6' : 'inet',
    clientAddr: v6 ? `2001:db8:${(r >>> 16).toString(16)}::${(r & 0xffff).toString(16)}` : ip4(template ? c & 0xffffff00 : c),
    clientPort: template ? 0 : 1024 + (r % 64000),
    vaddr: v6 ? `2001:db8:ffff::${svc.toString(16)}` : ip4(0xc0a80000 + svc),
    fwmark: null,
    vport: udp ? 53 : 80,
    destFamily: v6 ? 'inet6' : 'inet',
    destAddr: v6 ? `2001:db8:aaaa::${(svc * 4 + rs).toString(16)}` : ip4(0xac100000 + svc * 4 + rs),
    destPort: udp ? 53 : 80,
    state: template ? (i % 100 === 2 ? 'ASSURED' : 'NONE') : udp ? 'UDP' : STATES[r % STATES.length]!,
    expires: r % 900,
    template,
  };
}

async function writeSynthetic(file: string, n: number): Promise<void> {
  const out = createWriteStream(file);
  out.write(CONN_HEADER);
  let batch = '';
  for (let i = 0; i < n; i++) {
    batch += formatConnLine(synthetic(i));
    if (batch.length > 1 << 20) {
      if (!out.write(batch)) await new Promise<void>((r) => out.once('drain', () => r()));
      batch = '';
    }
  }
  out.write(batch);
  await new Promise<void>((res, rej) => out.end((e?: Error | null) => (e ? rej(e) : res())));
}

function shell(cmd: string, file: string): number {
  const t = performance.now();
  const r = spawnSync('bash', ['-c', cmd, 'bench', file], { stdio: ['ignore', 'ignore', 'inherit'] });
  if (r.status !== 0) throw new Error(`'${cmd}' exited ${r.status}`);
  return performance.now() - t;
}

interface Run { ms: number; maxBlockMs: number; probeMaxGapMs: number; maxSliceMs: number; slices: number[] }

/** Runs `fn` under the event-loop probes: monitorEventLoopDelay(1 ms) and the longest gap of a 1 ms interval. */
async function probed(fn: (onSlice: (ms: number) => void) => Promise<unknown>): Promise<Run> {
  const h = monitorEventLoopDelay({ resolution: 1 });
  let last = performance.now();
  let maxGap = 0;
  const probe = setInterval(() => {
    const now = performance.now();
    maxGap = Math.max(maxGap, now - last);
    last = now;
  }, 1);
  h.enable();
  let maxSlice = 0;
  const slices: number[] = [];
  const onSlice = (ms: number) => { maxSlice = Math.max(maxSlice, ms); slices.push(ms); };
  const t = performance.now();
  await fn(onSlice);
  const ms = performance.now() - t;
  h.disable();
  clearInterval(probe);
  maxGap = Math.max(maxGap, performance.now() - last);
  return { ms, maxBlockMs: h.max / 1e6, probeMaxGapMs: maxGap, maxSliceMs: maxSlice, slices };
}

function director(file: string, what: 'summary' | 'page', mode: Mode): Promise<Run> {
  return probed((onSlice) => {
    const opts = { ...mode.opts, path: file, onSlice };
    if (what === 'summary') return reader.summarizeConnections(opts);
    return reader.readConnectionPage({ filter: { state: 'SYN_RECV', client: '10.0.0.0/9' }, offset: 1000, limit: 100 }, opts);
  });
}

/**
 * The probes with nothing to do for `ms`: on a loaded machine the main thread is descheduled now and
 * then whatever it runs, and with a worker it shares the cores with it; this is that floor.
 */
const idleFloor = (ms: number) => probed(() => new Promise((r) => setTimeout(r, ms)));


async function main(): Promise<void> {
  let file = positionals[0];
  let tmp: string | null = null;
  if (!file) {
    tmp = mkdtempSync(path.join(existsSync('/dev/shm') ? '/dev/shm' : tmpdir(), 'director-bench-'));
    file = path.join(tmp, 'ip_vs_conn');
    const t = performance.now();
    await writeSynthetic(file, LINES);
    console.log(`generated ${LINES.toLocaleString('en')} lines, ${(statSync(file).size / 1e6).toFixed(1)} MB in ${((performance.now() - t) / 1000).toFixed(1)} s: ${file}`);
  }
  try {
    let check!: Awaited<ReturnType<Reader['summarizeConnections']>>;
    const first = await probed(async () => {
      check = await reader.summarizeConnections({ path: file, thread: MODES.some((m) => m.key === 'worker') ? 'worker' : 'main' });
    });
    console.log(`entries: ${(check.connections + check.templates).toLocaleString('en')} (${check.templates.toLocaleString('en')} templates), ` +
      `services ${check.services.length}, destinations ${check.destinations.length}, malformed ${check.malformed}; ` +
      `reader: ${values.bundle ? 'dist/cli bundle' : 'sources through tsx'}`);
    console.log(`first summary (with a worker: includes starting it): ${first.ms.toFixed(0)} ms, ` +
      `max block ${Math.max(first.maxBlockMs, first.probeMaxGapMs).toFixed(1)} ms`);

    // Spawning a shell costs ~2 s in user-mode Linux, which would swamp the
    // anchors there; this row shows that floor so ratios can be read honestly.
    const anchors: [string, string][] = [
      ['(spawn floor: bash -c true)', 'true'],
      ['cat FILE > /dev/null', 'cat "$1" > /dev/null'],
      ['awk state count', `awk '{c[$8]++} END {for (s in c) n++}' "$1"`],
    ];
    const ipvsadmOk = file === '/proc/net/ip_vs_conn' && spawnSync('ipvsadm', ['-v']).status === 0;
    if (ipvsadmOk) anchors.push(['ipvsadm -Lcn | awk', `ipvsadm -Lcn | awk '{c[$3]++} END {for (s in c) n++}'`]);

    const times: Record<string, number[]> = Object.fromEntries(anchors.map(([n]) => [n, []]));
    const sum: Run[][] = MODES.map(() => []);
    const pages: Run[][] = MODES.map(() => []);
    const floors: Run[] = [];
    let rssPeak = 0;
    for (let i = 0; i <= RUNS; i++) {
      const warm = i === 0;
      // alternate the order so no mode always runs right after cat (page cache, CPU frequency)
      const order = MODES.map((_, k) => k);
      if (i % 2) order.reverse();
      const s: Run[] = [], p: Run[] = [];
      for (const k of order) {
        s[k] = await director(file, 'summary', MODES[k]!);
        p[k] = await director(file, 'page', MODES[k]!);
      }
      const a = anchors.map(([, cmd]) => shell(cmd, file!));
      const floor = await idleFloor(1000);
      rssPeak = Math.max(rssPeak, process.memoryUsage().rss);
      if (warm) continue;
      MODES.forEach((_, k) => { sum[k]!.push(s[k]!); pages[k]!.push(p[k]!); });
      floors.push(floor);
      anchors.forEach(([n], k) => times[n]!.push(a[k]!));
    }
    const maxRssMb = process.resourceUsage().maxRSS / 1024;

    const catMs = median(times['cat FILE > /dev/null']!);
    const rows: string[][] = [['measure', 'median ms', 'vs cat', 'vs awk', ...(ipvsadmOk ? ['vs ipvsadm|awk'] : []), 'max block ms', 'max slice ms', 'p99 slice ms', 'goal']];
    const awkMs = median(times['awk state count']!);
    const ipvsMs = ipvsadmOk ? median(times['ipvsadm -Lcn | awk']!) : NaN;
    const row = (name: string, ms: number, block: string, slice: string, p99: string, goal: string) => [
      name, ms.toFixed(0), (ms / catMs).toFixed(2), (ms / awkMs).toFixed(2),
      ...(ipvsadmOk ? [(ms / ipvsMs).toFixed(2)] : []), block, slice, p99, goal,
    ];
    const p99 = (rs: Run[]) => {
      const all = rs.flatMap((r) => r.slices).sort((a, b) => a - b);
      return all.length ? all[Math.floor(all.length * 0.99)]!.toFixed(2) : '-';
    };
    const maxBlock = (rs: Run[]) => Math.max(...rs.map((r) => Math.max(r.maxBlockMs, r.probeMaxGapMs))).toFixed(1);
    const maxSlice = (rs: Run[]) => Math.max(...rs.map((r) => r.maxSliceMs)).toFixed(1);
    MODES.forEach((m, k) => {
      const goal = m.key === 'worker' ? '≤1.5× cat, ≤0.5× ipvsadm, block ≤50 ms' : '';
      rows.push(row(`summary, ${m.name}`, median(sum[k]!.map((r) => r.ms)), maxBlock(sum[k]!), maxSlice(sum[k]!), p99(sum[k]!), goal));
    });
    MODES.forEach((m, k) => {
      rows.push(row(`filtered page, ${m.name}`, median(pages[k]!.map((r) => r.ms)), maxBlock(pages[k]!), maxSlice(pages[k]!), p99(pages[k]!), ''));
    });
    rows.push(['(no reader: 1 s timer, probes only)', '', '', '', ...(ipvsadmOk ? [''] : []), maxBlock(floors), '', '', 'floor of max block']);
    for (const [n] of anchors) rows.push(row(n, median(times[n]!), '', '', '', 'anchor'));
    const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
    for (const r of rows) console.log(r.map((x, c) => x.padEnd(widths[c]!)).join('  '));
    console.log(`runs: ${RUNS} after 1 warm-up; peak RSS ${maxRssMb.toFixed(0)} MB (process, incl. generation), ` +
      `RSS after runs ${(rssPeak / 2 ** 20).toFixed(0)} MB (a worker's heap counts too); max block = max of monitorEventLoopDelay(1 ms) and a 1 ms setInterval probe gap ` +
      `(includes GC and being descheduled); max slice = longest synchronous work of the reader on the main thread (one chunk's parse; with a worker, taking in the result)`);
  } finally {
    if (tmp) rmSync(tmp, { recursive: true, force: true });
  }
}

await main();
