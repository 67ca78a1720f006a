/**
 * The benchmark suite, run INSIDE one lab kernel by bench/run.ts (as root,
 * with ipvsadm beside Director on the same IPVS table). Prints progress on
 * stderr-like lines and, last, one line `@@bench-result@@ {json}` that the
 * host side turns into the table, bench/out/ and bench/RESULTS.md.
 *
 *   node --import tsx bench/lab/suite.ts [--services N] [--dests N] [--runs N] [--agent-seconds S]
 *
 * Every timed pair alternates Director and the anchor, after one warm-up
 * round, and reports medians. Processes are timed from spawn to exit.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { createTRPCClient, createWSClient, httpLink, wsLink } from '@trpc/client';
import WebSocket from 'ws';
import type { AppRouter } from '../../server/agent/router';
import { NetlinkIpvs } from '../../server/ipvs/netlink-client';
import { parseSnapshot } from '../../lib/snapshot/parse';
import { planRestore } from '../../lib/snapshot/plan';

const { values } = parseArgs({
  options: {
    services: { type: 'string', default: '10000' },
    dests: { type: 'string', default: '4' },
    runs: { type: 'string', default: '5' },
    'agent-services': { type: 'string', default: '1000' },
    'agent-seconds': { type: 'string', default: '30' },
    subscribers: { type: 'string', default: '50' },
    'hold-seconds': { type: 'string', default: '20' },
  },
});
const N = Number(values.services), D = Number(values.dests), RUNS = Number(values.runs);
const AGENT_N = Number(values['agent-services']), AGENT_S = Number(values['agent-seconds']);
const SUBS = Number(values.subscribers), HOLD_S = Number(values['hold-seconds']);
const ROOT = path.resolve(import.meta.dirname, '../..');
const DIRECTOR = `node ${ROOT}/bin/director.mjs`;
const WORK = '/tmp/bench';
mkdirSync(WORK, { recursive: true });

export interface Row {
  measure: string;
  director: number | null;
  anchor: number | null;
  anchorName: string;
  unit: string;
  /** Director/anchor must be at most this (ratio goals), or Director at most this (absolute goals) */
  goal: { kind: 'ratio' | 'max'; value: number; text: string } | null;
  samples?: { director: number[]; anchor: number[] };
  note?: string;
}
const rows: Row[] = [];
const info: Record<string, unknown> = {};

const log = (s: string) => process.stdout.write(`bench: ${s}\n`);
const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length === 0 ? NaN : s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

/** Runs a shell command, returns wall ms; throws with its stderr when it fails. */
function timed(cmd: string): number {
  const t = performance.now();
  const r = spawnSync('bash', ['-c', cmd], { stdio: ['ignore', 'ignore', 'pipe'], encoding: 'utf8', maxBuffer: 1 << 26 });
  const ms = performance.now() - t;
  if (r.status !== 0) throw new Error(`'${cmd}' exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return ms;
}
const sh = (cmd: string, input?: string) => {
  const r = spawnSync('bash', ['-c', cmd], { input, encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`'${cmd}' exited ${r.status}: ${r.stderr.slice(0, 500)}`);
  return r.stdout;
};

/** One warm-up round, then RUNS rounds alternating which side goes first. */
async function pair(name: string, director: () => number | Promise<number>, anchor: () => number | Promise<number>, before?: () => void): Promise<{ d: number[]; a: number[] }> {
  const d: number[] = [], a: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const order = i % 2 === 0 ? ['d', 'a'] : ['a', 'd'];
    for (const side of order) {
      before?.();
      const ms = side === 'd' ? await director() : await anchor();
      if (i > 0) (side === 'd' ? d : a).push(ms);
    }
    log(`${name}: round ${i}${i === 0 ? ' (warm-up)' : ''} director ${d.at(-1)?.toFixed(0) ?? '-'} ms, anchor ${a.at(-1)?.toFixed(0) ?? '-'} ms`);
  }
  return { d, a };
}

function addPair(measure: string, anchorName: string, r: { d: number[]; a: number[] }, goal: Row['goal'], note?: string): void {
  rows.push({ measure, director: median(r.d), anchor: median(r.a), anchorName, unit: 'ms', goal, samples: { director: r.d, anchor: r.a }, note });
}

function tableText(services: number, dests: number, base = 0): string {
  const lines: string[] = [];
  for (let j = 0; j < services; j++) {
    const i = j + base;
    const vip = `10.${100 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;
    lines.push(`-A -t ${vip}:80 -s rr`);
    for (let d = 0; d < dests; d++) lines.push(`-a -t ${vip}:80 -r 172.31.${d}.${(i % 250) + 1}:80 -g -w 1`);
  }
  return `${lines.join('\n')}\n`;
}

// ---------------------------------------------------------------- start-up
function startup(): void {
  const t = (cmd: string) => median([0, 1, 2].map(() => timed(cmd)));
  info.startup = {
    'node -e 0': t('node -e 0'),
    'director --help (bundle)': t(`${DIRECTOR} --help`),
    'director --help (tsx)': t(`DIRECTOR_NO_BUNDLE=1 ${DIRECTOR} --help`),
  };
  log(`start-up ms: ${JSON.stringify(info.startup)}`);
}

// ---------------------------------------------------------------- a, a2, b, c, d
async function tableMeasures(): Promise<void> {
  const file = `${WORK}/table.txt`;
  writeFileSync(file, tableText(N, D));
  sh('ipvsadm -C');
  const t0 = performance.now();
  sh(`ipvsadm -R < ${file}`);
  log(`loaded ${N} x ${D} with ipvsadm -R in ${(performance.now() - t0).toFixed(0)} ms`);

  // correctness first: the timed outputs must be the same text
  sh(`${DIRECTOR} list > ${WORK}/d-list.txt; ipvsadm -Ln > ${WORK}/i-list.txt`);
  const listSame = readFileSync(`${WORK}/d-list.txt`, 'utf8') === readFileSync(`${WORK}/i-list.txt`, 'utf8');
  sh(`${DIRECTOR} save > ${WORK}/d-save.txt; ipvsadm -Sn > ${WORK}/i-save.txt`);
  const sortLines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).sort().join('\n');
  const saveSame = sortLines(`${WORK}/d-save.txt`) === sortLines(`${WORK}/i-save.txt`);
  info.identical = { list: listSame, saveSortedLines: saveSame };
  log(`identical output: list ${listSame}, save (sorted lines) ${saveSame}`);

  addPair(`(a) list ${N}×${D}, no per-dest stats`, 'ipvsadm -Ln',
    await pair('a', () => timed(`${DIRECTOR} list > /dev/null`), () => timed('ipvsadm -Ln > /dev/null')),
    { kind: 'ratio', value: 0.1, text: '≤ 0.1×' }, listSame ? 'output identical' : 'OUTPUT DIFFERS');
  addPair(`(a2) list --stats --json ${N}×${D} (process)`, 'ipvsadm -Ln --stats --exact',
    await pair('a2', () => timed(`${DIRECTOR} list --stats --json > /dev/null`), () => timed('ipvsadm -Ln --stats --exact > /dev/null')),
    { kind: 'ratio', value: 0.5, text: '≤ 0.5×' });
  addPair(`(b) save ${N}×${D}`, 'ipvsadm -Sn',
    await pair('b', () => timed(`${DIRECTOR} save > /dev/null`), () => timed('ipvsadm -Sn > /dev/null')),
    { kind: 'ratio', value: 0.5, text: '≤ 0.5×' }, saveSame ? 'same lines' : 'LINES DIFFER');

  // (d) plan of the table against itself: the pure planning step, and the whole dry run as a process
  const parsed = await parseSnapshot(readFileSync(file, 'utf8'));
  const ipvs = await NetlinkIpvs.connect();
  const live = await ipvs.dump();
  ipvs.close();
  const planMs: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const t = performance.now();
    const ops = planRestore(live, parsed.services, { lines: parsed.lines });
    if (ops.length !== 0) throw new Error(`plan of the table against itself has ${ops.length} operations`);
    if (i > 0) planMs.push(performance.now() - t);
  }
  rows.push({ measure: `(d) plan ${N}×${D} against itself (in process)`, director: median(planMs), anchor: null, anchorName: '—', unit: 'ms',
    goal: { kind: 'max', value: 1000, text: '< 1 s' }, samples: { director: planMs, anchor: [] } });
  const dry: number[] = [];
  for (let i = 0; i <= Math.min(RUNS, 3); i++) {
    const ms = timed(`${DIRECTOR} restore --dry-run ${file} | grep -q 'no changes'`);
    if (i > 0) dry.push(ms);
  }
  rows.push({ measure: '(d) restore --dry-run as a process (read + parse + dump + plan)', director: median(dry), anchor: null, anchorName: '—',
    unit: 'ms', goal: null, samples: { director: dry, anchor: [] } });

  // (c) restore into an empty table
  let restoredSame: boolean | null = null;
  const c = await pair('c', () => {
    sh('ipvsadm -C');
    const ms = timed(`${DIRECTOR} restore ${file}`);
    if (restoredSame === null) restoredSame = sortLines(`${WORK}/i-save.txt`) === sh('ipvsadm -Sn').split('\n').filter(Boolean).sort().join('\n');
    return ms;
  }, () => {
    sh('ipvsadm -C');
    return timed(`ipvsadm -R < ${file}`);
  });
  addPair(`(c) restore ${N}×${D} into an empty table`, 'ipvsadm -R', c, { kind: 'ratio', value: 0.5, text: '≤ 0.5×' },
    restoredSame ? 'same table as ipvsadm -R' : 'TABLE DIFFERS');
  sh('ipvsadm -C');
}

// ---------------------------------------------------------------- f, g, a2 agent
function procStat(pid: number): { cpuTicks: number; rssKb: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields 14 utime, 15 stime (1-based) → index 11, 12 after the comm; rss pages at 24 → index 21
  return { cpuTicks: Number(f[11]) + Number(f[12]), rssKb: Number(f[21]) * 4 };
}

async function sleep(ms: number): Promise<void> { await new Promise((r) => setTimeout(r, ms)); }

async function startAgent(): Promise<{ pid: number; url: string; token: string; stop: () => Promise<void> }> {
  const stateDir = `${WORK}/agent-state`;
  const child = spawn('node', [`${ROOT}/bin/director.mjs`, 'agent', '--listen', '127.0.0.1:9581', '--state-dir', stateDir,
    '--allow-origin', 'http://bench.invalid', '--log-level', 'warn'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (b: Buffer) => { err += b.toString(); });
  const deadline = Date.now() + 300_000;
  while (!/listening on/.test(err)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`agent did not start: ${err.slice(0, 1000)}`);
    await sleep(200);
  }
  // the `node` we spawned is bin/director.mjs, which runs the bundle in-process (or spawns tsx: then measure its child)
  const token = readFileSync(`${stateDir}/tokens/viewer.token`, 'utf8').trim();
  return {
    pid: child.pid!, url: 'http://127.0.0.1:9581', token,
    stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.once('exit', r)); },
  };
}

async function agentMeasures(): Promise<void> {
  const hz = Number(sh('getconf CLK_TCK').trim()) || 100;
  sh('ipvsadm -C');
  const agent = await startAgent();
  try {
    const sample = async (label: string) => {
      await sleep(3000); // let the hub settle after a table change
      const a = procStat(agent.pid);
      const t = performance.now();
      let rssMax = a.rssKb;
      for (let s = 0; s < AGENT_S; s++) {
        await sleep(1000);
        rssMax = Math.max(rssMax, procStat(agent.pid).rssKb);
      }
      const b = procStat(agent.pid);
      const secs = (performance.now() - t) / 1000;
      const cpuPct = ((b.cpuTicks - a.cpuTicks) / hz / secs) * 100;
      rows.push({ measure: `(f) agent CPU, ${label}, 1 s ticks, ${AGENT_S} s`, director: cpuPct, anchor: null, anchorName: '—', unit: '% of a core',
        goal: { kind: 'max', value: 2, text: '< 2%' } });
      rows.push({ measure: `(f) agent RSS max, ${label}`, director: rssMax / 1024, anchor: null, anchorName: '—', unit: 'MB',
        goal: { kind: 'max', value: 150, text: '< 150 MB' } });
      log(`agent ${label}: cpu ${cpuPct.toFixed(2)}%, rss max ${(rssMax / 1024).toFixed(0)} MB`);
    };
    await sample('idle (empty table)');
    sh('ipvsadm -R', tableText(AGENT_N, D, 50_000));
    await sample(`${AGENT_N} services × ${D}`);

    // (g) WebSocket bytes per tick per client, and SUBS concurrent subscribers
    const subscribe = (counter: { bytes: number; ticks: number; errors: number }) => {
      const wsc = createWSClient({
        url: 'ws://127.0.0.1:9581/trpc-ws',
        WebSocket: class extends WebSocket {
          constructor(url: string | URL, protocols?: string | string[]) {
            super(url, protocols, { headers: { origin: 'http://bench.invalid' } });
            this.on('message', (d: Buffer) => { counter.bytes += d.length; });
          }
        } as unknown as typeof globalThis.WebSocket,
        connectionParams: { token: agent.token },
        retryDelayMs: () => 60_000,
      });
      const c = createTRPCClient<AppRouter>({ links: [wsLink({ client: wsc })] });
      const sub = c.stats.onTick.subscribe({}, {
        onData: () => { counter.ticks++; },
        onError: () => { counter.errors++; },
      });
      return { close: () => { sub.unsubscribe(); wsc.close(); } };
    };
    const one = { bytes: 0, ticks: 0, errors: 0 };
    const s1 = subscribe(one);
    while (one.ticks < 2) await sleep(100); // the first tick is the full table
    const first = { ...one };
    await sleep(10_000);
    s1.close();
    const steady = (one.bytes - first.bytes) / Math.max(1, one.ticks - first.ticks);
    rows.push({ measure: `(g) WS bytes per tick per client, ${AGENT_N} services, steady (idle counters)`, director: steady / 1000, anchor: null,
      anchorName: '—', unit: 'kB', goal: { kind: 'max', value: 50, text: '≤ 50 kB' }, note: `first (full) tick ${(first.bytes / 1000).toFixed(1)} kB incl. handshake` });

    const counters = Array.from({ length: SUBS }, () => ({ bytes: 0, ticks: 0, errors: 0 }));
    const subs = counters.map(subscribe);
    await sleep(HOLD_S * 1000);
    subs.forEach((s) => s.close());
    const errors = counters.reduce((n, c) => n + c.errors, 0);
    const minTicks = Math.min(...counters.map((c) => c.ticks));
    rows.push({ measure: `(g) ${SUBS} concurrent subscribers held ${HOLD_S} s: errors`, director: errors, anchor: null, anchorName: '—', unit: 'errors',
      goal: { kind: 'max', value: 0, text: '0 errors' }, note: `fewest ticks received by a client: ${minTicks}` });

    // (a2) agent warm: services.list over HTTP on the running agent, against ipvsadm on the same table
    const http = createTRPCClient<AppRouter>({ links: [httpLink({ url: `${agent.url}/trpc`, headers: { authorization: `Bearer ${agent.token}` } })] });
    sh('ipvsadm -C');
    sh(`ipvsadm -R < ${WORK}/table.txt`);
    await sleep(3000);
    addPair(`(a2) agent warm: services.list ${N}×${D} (tRPC HTTP)`, 'ipvsadm -Ln --stats --exact',
      await pair('a2-agent', async () => {
        const t = performance.now();
        const list = await http.services.list.query();
        if (list.length !== N) throw new Error(`services.list returned ${list.length}`);
        return performance.now() - t;
      }, () => timed('ipvsadm -Ln --stats --exact > /dev/null')),
      { kind: 'ratio', value: 0.5, text: '≤ 0.5×' });
  } finally {
    await agent.stop();
    sh('ipvsadm -C');
  }
}

const only = (process.env.BENCH_ONLY ?? 'startup,table,agent').split(',');
const t0 = performance.now();
info.params = { services: N, dests: D, runs: RUNS, agentServices: AGENT_N, agentSeconds: AGENT_S, subscribers: SUBS, holdSeconds: HOLD_S };
info.guestKernel = sh('uname -r').trim();
info.guestMemMb = Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024);
const errors: string[] = [];
for (const [name, fn] of [['startup', startup], ['table', tableMeasures], ['agent', agentMeasures]] as const) {
  if (!only.includes(name)) continue;
  try {
    await fn();
  } catch (e) {
    errors.push(`${name}: ${(e as Error).message}`);
    log(`FAILED ${name}: ${(e as Error).stack}`);
  }
}
info.suiteSeconds = (performance.now() - t0) / 1000;
process.stdout.write(`@@bench-result@@ ${JSON.stringify({ rows, info, errors })}\n`);
process.exit(0);
