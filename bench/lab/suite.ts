/**
 * The benchmark suite, run INSIDE one lab kernel by bench/run.ts (as root,
 * with ipvsadm beside Director on the same IPVS table). Prints progress on
 * stderr-like lines and, last, one line `@@bench-result@@ {json}` that the
 * host side turns into the table, bench/out/ and bench/RESULTS.md.
 *
 *   node --import tsx bench/lab/suite.ts [--services N] [--dests N] [--runs N] [--agent-seconds S] [--agent-windows N]
 *
 * Every timed pair alternates Director and the anchor, after one warm-up
 * round, and reports medians. Processes are timed from spawn to exit.
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { parseArgs } from 'node:util';
import { NetlinkIpvs } from '../../server/ipvs/netlink-client';
import { parseSnapshot } from '../../lib/snapshot/parse';
import { planRestore } from '../../lib/snapshot/plan';
import { runConnMeasures } from './conn';
import { runAgentMeasures } from './agent';
import { median } from '../stats';
import type { Row } from './row';

// The defaults fit the whole run (every section, console included) in about 25 minutes on a 2-core
// machine; --full takes the longer windows of the runs before it (about 45 minutes without the console).
const { values: given } = parseArgs({
  options: {
    full: { type: 'boolean', default: false },
    services: { type: 'string' },
    dests: { type: 'string' },
    runs: { type: 'string' },
    'agent-services': { type: 'string' },
    'agent-seconds': { type: 'string' },
    // CPU windows per agent figure: the median is reported (single windows in the lab kernel vary 2x)
    'agent-windows': { type: 'string' },
    subscribers: { type: 'string' },
    'hold-seconds': { type: 'string' },
    // traffic before the agent's steady-state CPU window (the first half-minute is V8 optimising new paths)
    'warm-seconds': { type: 'string' },
    'conn-entries': { type: 'string' },
    'conn-big': { type: 'string' },
    'conn-runs': { type: 'string' },
    only: { type: 'string' },
  },
});
const DEFAULTS = {
  services: '10000', dests: '4', runs: '3', 'agent-services': '1000', 'agent-seconds': '10', 'agent-windows': '3',
  subscribers: '50', 'hold-seconds': '60', 'warm-seconds': '60', 'conn-entries': '100000', 'conn-big': '1000000', 'conn-runs': '3',
};
const FULL: Partial<typeof DEFAULTS> = { runs: '5', 'agent-seconds': '20', 'hold-seconds': '300', 'warm-seconds': '120' };
const values = Object.fromEntries(Object.entries(DEFAULTS).map(([k, v]) => [k, (given as Record<string, unknown>)[k] as string | undefined
  ?? (given.full ? FULL[k as keyof typeof DEFAULTS] : undefined) ?? v])) as typeof DEFAULTS & { only?: string };
values.only = given.only;
const FULL_RUN = given.full === true;
const N = Number(values.services), D = Number(values.dests), RUNS = Number(values.runs);
const AGENT_N = Number(values['agent-services']), AGENT_S = Number(values['agent-seconds']);
const SUBS = Number(values.subscribers), HOLD_S = Number(values['hold-seconds']), WARM_S = Number(values['warm-seconds']);
const WINDOWS = Number(values['agent-windows']);
const ROOT = path.resolve(import.meta.dirname, '../..');
const DIRECTOR = `node ${ROOT}/bin/director.mjs`;
const WORK = '/tmp/bench';
/** How long the restore rounds wait for the lab kernel to finish a namespace's teardown: on a loaded host its CPU never looks idle */
const IDLE_WAIT_S = 20;
mkdirSync(WORK, { recursive: true });

const rows: Row[] = [];
const info: Record<string, unknown> = {};

const log = (s: string) => process.stdout.write(`bench: ${s}\n`);

/** Waits (up to maxSeconds) for a second in which the lab kernel's CPU was at least 90 % idle. */
function waitIdle(maxSeconds = 60): void {
  const cpu = () => readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  for (let i = 0; i < maxSeconds; i++) {
    const a = cpu();
    spawnSync('sleep', ['1']);
    const b = cpu();
    const total = b.reduce((x, v, k) => x + v - a[k]!, 0);
    if (total > 0 && (b[3]! - a[3]!) / total >= 0.9) return;
  }
  log(`waitIdle: the lab kernel stayed busy for ${maxSeconds} s`);
}

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

/** One warm-up round, then RUNS rounds alternating which side goes first; `floor`, when given, runs last in each round. */
async function pair(name: string, director: () => number | Promise<number>, anchor: () => number | Promise<number>, before?: () => void,
  floor?: () => number): Promise<{ d: number[]; a: number[]; f: number[] }> {
  const d: number[] = [], a: number[] = [], f: number[] = [];
  for (let i = 0; i <= RUNS; i++) {
    const order = i % 2 === 0 ? ['d', 'a'] : ['a', 'd'];
    for (const side of order) {
      before?.();
      const ms = side === 'd' ? await director() : await anchor();
      if (i > 0) (side === 'd' ? d : a).push(ms);
    }
    if (floor) {
      const ms = floor();
      if (i > 0) f.push(ms);
    }
    log(`${name}: round ${i}${i === 0 ? ' (warm-up)' : ''} director ${d.at(-1)?.toFixed(0) ?? '-'} ms, anchor ${a.at(-1)?.toFixed(0) ?? '-'} ms${floor ? `, floor ${f.at(-1)?.toFixed(0) ?? '-'} ms` : ''}`);
  }
  return { d, a, f };
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
const FLOOR = `node ${ROOT}/bench/out/floor.mjs`;
function startup(): void {
  const t = (cmd: string) => median([0, 1, 2].map(() => timed(cmd)));
  const nodeMs = t('node -e 0'), helpMs = t(`${DIRECTOR} --help`);
  info.startup = {
    'node -e 0': nodeMs,
    'director --help (bundle)': helpMs,
    ...(FULL_RUN ? { 'director --help (tsx)': t(`DIRECTOR_NO_BUNDLE=1 ${DIRECTOR} --help`) } : {}),
  };
  log(`start-up ms: ${JSON.stringify(info.startup)}`);
  rows.push({ measure: 'start-up: `director --help` from the bundle (process start to exit)', director: helpMs, anchor: nodeMs, anchorName: 'node -e 0',
    unit: 'ms', goal: null, note: 'every Director command pays this before any IPVS work; the difference is loading bin/director.mjs and the bundle (median of 3)' });
}

/**
 * A ratio goal against ipvsadm that node's own start-up and the reads a command cannot do without already
 * exceed is rewritten, in this run, to "within 1.2× of that floor": the ipvsadm row keeps its figures as (info)
 * and says why; the floor row carries the goal. When the goal is reachable the ipvsadm row keeps it.
 */
function addWithFloor(measure: string, anchorName: string, r: { d: number[]; a: number[] }, goal: { value: number; text: string },
  floorName: string, floor: number[], note?: string): void {
  const anchor = median(r.a), floorMs = median(floor);
  const unreachable = floorMs > goal.value * anchor;
  rows.push({ measure, director: median(r.d), anchor, anchorName, unit: 'ms', samples: { director: r.d, anchor: r.a },
    goal: unreachable ? null : { kind: 'ratio', ...goal },
    note: `${note ? `${note}; ` : ''}${unreachable ? `goal ${goal.text} ${anchorName} rewritten: the floor (next row) alone is ${(floorMs / anchor).toFixed(2)}× ${anchorName}` : `floor ${(floorMs / anchor).toFixed(2)}× ${anchorName}`}` });
  rows.push({ measure: `${measure.replace(/^\((\w+)\)/, '($1) floor:')} against ${floorName}`, director: median(r.d), anchor: floorMs, anchorName: `floor: ${floorName}`,
    unit: 'ms', samples: { director: r.d, anchor: floor },
    goal: unreachable ? { kind: 'ratio', value: 1.2, text: `≤ 1.2× floor (was ${goal.text} ${anchorName})` } : null });
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
  sh(`${DIRECTOR} save > ${WORK}/d-save.txt; ${DIRECTOR} save --no-thresholds > ${WORK}/d-save-plain.txt; ipvsadm -Sn > ${WORK}/i-save.txt`);
  const sortLines = (f: string) => readFileSync(f, 'utf8').split('\n').filter(Boolean).sort().join('\n');
  const saveSame = sortLines(`${WORK}/d-save.txt`) === sortLines(`${WORK}/i-save.txt`);
  const plainSame = readFileSync(`${WORK}/d-save-plain.txt`, 'utf8') === readFileSync(`${WORK}/i-save.txt`, 'utf8');
  info.identical = { list: listSame, saveSortedLines: saveSame, saveNoThresholdsBytes: plainSame };
  log(`identical output: list ${listSame}, save (sorted lines) ${saveSame}, save --no-thresholds (bytes) ${plainSame}`);

  // the floors: a node process making only the reads the command needs (bench/lab/floor.ts), nothing decoded or printed
  const listFloorName = 'node reading /proc/net/ip_vs + one GET_SERVICE dump';
  const a = await pair('a', () => timed(`${DIRECTOR} list > /dev/null`), () => timed('ipvsadm -Ln > /dev/null'), undefined, () => timed(`${FLOOR} list`));
  addWithFloor(`(a) list ${N}×${D}, no per-dest stats`, 'ipvsadm -Ln', a, { value: 0.1, text: '≤ 0.1×' }, listFloorName, a.f,
    listSame ? 'output identical' : 'OUTPUT DIFFERS');
  const a2 = await pair('a2', () => timed(`${DIRECTOR} list --stats --json > /dev/null`), () => timed('ipvsadm -Ln --stats --exact > /dev/null'), undefined,
    () => timed(`${FLOOR} dests`));
  addWithFloor(`(a2) list --stats --json ${N}×${D} (process)`, 'ipvsadm -Ln --stats --exact', a2, { value: 0.5, text: '≤ 0.5×' },
    `node making the GET_SERVICE dump + ${N} GET_DEST dumps`, a2.f, 'per-real-server counters exist only in GET_DEST replies: one dump per service, as ipvsadm');
  // `save --no-thresholds` prints exactly what `ipvsadm -Sn` prints; plain `save` adds -x/-y, which costs one GET_DEST dump per service
  const b = await pair('b', () => timed(`${DIRECTOR} save --no-thresholds > /dev/null`), () => timed('ipvsadm -Sn > /dev/null'), undefined,
    () => timed(`${FLOOR} list`));
  addWithFloor(`(b) save --no-thresholds ${N}×${D}`, 'ipvsadm -Sn', b, { value: 0.5, text: '≤ 0.5×' }, listFloorName, b.f,
    plainSame ? 'output identical' : 'OUTPUT DIFFERS');
  const fullSave: number[] = [];
  for (let i = 0; i <= (FULL_RUN ? 3 : 1); i++) {
    const ms = timed(`${DIRECTOR} save > /dev/null`);
    if (i > 0) fullSave.push(ms);
  }
  rows.push({ measure: `(b) save ${N}×${D} with thresholds (one GET_DEST dump per service)`, director: median(fullSave), anchor: null,
    anchorName: '—', unit: 'ms', goal: null, samples: { director: fullSave, anchor: [] }, note: saveSame ? 'same lines as ipvsadm -Sn' : 'LINES DIFFER' });

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
  for (let i = 0; i <= (FULL_RUN ? 3 : 1); i++) {
    const ms = timed(`${DIRECTOR} restore --dry-run ${file} | grep -q 'no changes'`);
    if (i > 0) dry.push(ms);
  }
  rows.push({ measure: '(d) restore --dry-run as a process (read + parse + dump + plan)', director: median(dry), anchor: null, anchorName: '—',
    unit: 'ms', goal: null, samples: { director: dry, anchor: [] } });
}

// ---------------------------------------------------------------- c
async function restoreMeasures(): Promise<void> {
  const file = `${WORK}/table.txt`;
  writeFileSync(file, tableText(N, D));
  const sortText = (t: string) => t.split('\n').filter(Boolean).sort().join('\n');
  sh('ipvsadm -C');
  waitIdle(IDLE_WAIT_S);
  // (c) restore into an empty table. Each round gets a fresh network namespace, i.e. its own empty IPVS
  // table: after `ipvsadm -C` the kernel keeps every deleted real server in a trash list for 60-120 s and
  // each later add walks that list (ip_vs_trash_get_dest), so a flushed table is not an empty one and the
  // cost of a round would depend on how many rounds came before it. The after-flush case is kept as (info).
  // No warm-up round and no separate reference load (the section never finished inside a full run with
  // them: nine restores of 10,000 x 4, `ipvsadm -R` alone 35-50 s each): a round is a new process in a new
  // namespace, so a warm-up warms nothing but the file, and the table ipvsadm -R makes in the first round
  // is the one Director's must equal.
  let nsSeq = 0;
  const inFreshNetns = (cmd: string, check?: (ns: string) => void): number => {
    const ns = `bench-c${nsSeq++}`;
    // lo up creates the namespace's routing tables; without them the kernel calls every real server "not unicast"
    sh(`ip netns add ${ns} && ip -n ${ns} link set lo up`);
    try {
      const ms = timed(`ip netns exec ${ns} ${cmd}`);
      check?.(ns);
      return ms;
    } finally {
      // the namespace's teardown (freeing 50,000 objects, stopping its estimator threads) runs in kernel
      // workers after `ip netns del` returns: wait for the CPU to go idle so it does not run beside the next round
      sh(`ip netns exec ${ns} ipvsadm -C; ip netns del ${ns}`);
      waitIdle(IDLE_WAIT_S);
    }
  };
  const c = { d: [] as number[], a: [] as number[] };
  const tables = { d: '', a: '' };
  for (let i = 0; i < RUNS; i++) {
    for (const side of i % 2 === 0 ? ['d', 'a'] as const : ['a', 'd'] as const) {
      const cmd = side === 'd' ? `${DIRECTOR} restore ${file}` : `sh -c 'ipvsadm -R < ${file}'`;
      c[side].push(inFreshNetns(cmd, (ns) => { if (i === 0) tables[side] = sortText(sh(`ip netns exec ${ns} ipvsadm -Sn`)); }));
    }
    log(`c: round ${i + 1} director ${c.d.at(-1)!.toFixed(0)} ms, anchor ${c.a.at(-1)!.toFixed(0)} ms`);
  }
  addPair(`(c) restore ${N}×${D} into an empty table (fresh network namespace per round)`, 'ipvsadm -R', c, { kind: 'ratio', value: 0.5, text: '≤ 0.5×' },
    tables.d === tables.a ? 'same table as ipvsadm -R' : 'TABLE DIFFERS');
  // the same restore right after `ipvsadm -C` of the same table, one round each, for the record (--full: it costs 3 minutes)
  if (!FULL_RUN) {
    sh('ipvsadm -C');
    return;
  }
  const flushed = { d: [] as number[], a: [] as number[] };
  sh(`ipvsadm -C; ipvsadm -R < ${file}; ipvsadm -C`);
  flushed.d.push(timed(`${DIRECTOR} restore ${file}`));
  sh('ipvsadm -C');
  flushed.a.push(timed(`ipvsadm -R < ${file}`));
  rows.push({ measure: `(c) restore ${N}×${D} right after ipvsadm -C of the same table (one round each)`, director: flushed.d[0]!, anchor: flushed.a[0]!,
    anchorName: 'ipvsadm -R', unit: 'ms', goal: null, samples: { director: flushed.d, anchor: flushed.a },
    note: 'the kernel walks its trash of deleted real servers on every add: both sides pay it' });
  sh('ipvsadm -C');
}


// ---------------------------------------------------------------- f, g, a2 agent (bench/lab/agent.ts)
const agentMeasures = () => runAgentMeasures({
  rows, log, sh, timed, pair, addPair, tableText, root: ROOT, work: WORK,
  services: N, dests: D, agentServices: AGENT_N, agentSeconds: AGENT_S, subscribers: SUBS, holdSeconds: HOLD_S, warmSeconds: WARM_S, windows: WINDOWS,
});

const only = (values.only ?? process.env.BENCH_ONLY ?? 'startup,table,restore,conn,agent').split(',');
const t0 = performance.now();
info.params = { services: N, dests: D, runs: RUNS, connEntries: Number(values['conn-entries']), connBig: Number(values['conn-big']), connRuns: Number(values['conn-runs']), agentServices: AGENT_N, agentSeconds: AGENT_S, subscribers: SUBS, holdSeconds: HOLD_S, warmSeconds: WARM_S, agentWindows: WINDOWS };
info.guestKernel = sh('uname -r').trim();
info.guestMemMb = Math.round(Number(/MemTotal:\s+(\d+)/.exec(readFileSync('/proc/meminfo', 'utf8'))?.[1] ?? 0) / 1024);
const errors: string[] = [];
const sectionSeconds: Record<string, number> = {};
const done: string[] = [];
const connMeasures = () => runConnMeasures({
  rows, log, sh, timed, root: ROOT, work: WORK,
  entries: Number(values['conn-entries']), bigEntries: Number(values['conn-big']), runs: Number(values['conn-runs']),
});
// conn after agent: its entries outlive the section (7,200 s timeouts) and would load the agent's connection
// summary; restore last (each round in a fresh namespace, untouched by them), the section a time limit may cut
for (const [name, fn] of [['startup', startup], ['table', tableMeasures], ['agent', agentMeasures], ['conn', connMeasures], ['restore', restoreMeasures]] as const) {
  if (!only.includes(name)) continue;
  const first = rows.length;
  const t = performance.now();
  try {
    await fn();
  } catch (e) {
    errors.push(`${name}: ${(e as Error).message}`);
    log(`FAILED ${name}: ${(e as Error).stack}`);
  }
  for (const r of rows.slice(first)) r.section = name;
  sectionSeconds[name] = (performance.now() - t) / 1000;
  log(`section ${name}: ${sectionSeconds[name].toFixed(0)} s`);
  // what is measured so far: bench/run.ts keeps the last of these if the run is stopped at its time limit
  done.push(name);
  info.sections = done;
  info.sectionSeconds = sectionSeconds;
  process.stdout.write(`@@bench-result@@ ${JSON.stringify({ rows, info, errors })}\n`);
}
info.sections = done;
info.sectionSeconds = sectionSeconds;
info.full = FULL_RUN;
info.suiteSeconds = (performance.now() - t0) / 1000;
process.stdout.write(`@@bench-result@@ ${JSON.stringify({ rows, info, errors })}\n`);
process.exit(0);
