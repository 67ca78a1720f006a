/**
 * `npm run bench [-- --only table,conn ... | --full | --services N ...]`: every section in one run by default,
 * one table. Boots ONE lab kernel and runs bench/lab/suite.ts inside it (startup, table, restore, agent, conn:
 * Director beside ipvsadm on the same table), then the console section on the host (bench/console/section.ts:
 * the e2e tests' lab and Chromium). Prints one table (measure | Director | anchor | ratio | goal | pass/fail),
 * writes the raw results to bench/out/ and the table to bench/RESULTS.md.
 * Arguments after `--` go to the suite unchanged, except --only (sections, default all) and the console's
 * --console-services/--console-conns/--console-changes/--console-live-seconds. The defaults fit about
 * 25 minutes on a 2-core machine; --full gives the suite the longer windows of earlier runs.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { build } from 'esbuild';
import { describeFailure, runInLab } from '../server/lab/uml';
import { runConsoleMeasures } from './console/section';
import { HostWatch } from './host-watch';
import { median } from './stats';
import type { Row } from './lab/row';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const ALL_SECTIONS = ['startup', 'table', 'restore', 'conn', 'agent', 'console'];
const { values: mine, tokens } = parseArgs({
  args: process.argv.slice(2).filter((a) => a !== '--'), strict: false, tokens: true,
  options: {
    only: { type: 'string' },
    'console-services': { type: 'string', default: '10000' },
    'console-conns': { type: 'string', default: '100000' },
    'console-changes': { type: 'string', default: '20' },
    'console-live-seconds': { type: 'string', default: '10' },
    // the whole run's time limit: the lab suite is stopped when it would pass it, and the table keeps what it measured
    'max-minutes': { type: 'string', default: '30' },
  },
});
const only = String(mine.only ?? process.env.BENCH_ONLY ?? ALL_SECTIONS.join(',')).split(',');
const unknown = only.filter((s) => !ALL_SECTIONS.includes(s));
if (unknown.length) {
  process.stderr.write(`bench: unknown section(s) ${unknown.join(', ')} (known: ${ALL_SECTIONS.join(', ')})\n`);
  process.exit(2);
}
// what the suite in the lab gets: everything but the options read here
const suiteArgs: string[] = [];
for (const t of tokens ?? []) {
  if (t.kind === 'option' && !['only', 'console-services', 'console-conns', 'console-changes', 'console-live-seconds', 'max-minutes'].includes(t.name)) {
    suiteArgs.push(t.rawName, ...(t.value !== undefined ? [t.value] : []));
  } else if (t.kind === 'positional') suiteArgs.push(t.value);
}
const consoleParams = {
  services: Number(mine['console-services']), conns: Number(mine['console-conns']),
  changes: Number(mine['console-changes']), liveSeconds: Number(mine['console-live-seconds']),
};
const labSections = only.filter((s) => s !== 'console');
const loadBefore = os.loadavg();
const started = new Date();
const host = new HostWatch();
const log = (s: string) => process.stderr.write(`bench: ${s}\n`);
const durations: Record<string, number> = {};

// the floors' process (bench/lab/floor.ts), bundled so it starts as the CLI's bundle does
await build({
  entryPoints: [path.join(root, 'bench/lab/floor.ts')], outfile: path.join(root, 'bench/out/floor.mjs'), bundle: true, format: 'esm',
  platform: 'node', target: 'node20', tsconfig: path.join(root, 'tsconfig.json'), external: ['netlink'], logLevel: 'warning',
});

let result: { rows: Row[]; info: Record<string, unknown>; errors: string[] } = { rows: [], info: {}, errors: [] };
let labStatus = 0, labSeconds = 0;
// the console first: it needs its own lab (the tap's), and the lab suite's time limit is what remains after it
if (only.includes('console')) {
  const t = Date.now();
  const rows: Row[] = [];
  try {
    await runConsoleMeasures({ ...consoleParams, log }, rows);
  } catch (e) {
    result.errors.push(`console: ${(e as Error).message.split('\n')[0]}`);
    log(`FAILED console: ${(e as Error).stack}`);
  }
  for (const row of rows) row.section = 'console';
  result.rows.push(...rows);
  durations.console = (Date.now() - t) / 1000;
}
if (labSections.length) {
  const r = await runInLab({
    command: [process.execPath, '--import', 'tsx', path.join(root, 'bench/lab/suite.ts'), ...suiteArgs],
    cwd: root, memoryMb: 2048, timeoutMs: Math.max(60_000, Number(mine['max-minutes']) * 60_000 - (Date.now() - started.getTime())),
    env: {
      BENCH_ONLY: labSections.join(','),
      // bench/lab/agent.ts: a V8 CPU profile of the agent, its heaviest functions printed after the run
      ...(process.env.AGENT_CPU_PROF ? { AGENT_CPU_PROF: process.env.AGENT_CPU_PROF } : {}),
    },
    onOutput: (s) => {
      if (s.startsWith('@@host-mark')) host.onLine(s);
      else if (!s.startsWith('@@bench-result@@')) process.stderr.write(s);
    },
  });
  labStatus = r.status;
  labSeconds = r.durationMs / 1000;
  // the suite prints what it has after each section: the last one is the whole run, or as far as it got
  const line = r.output.split('\n').filter((l) => l.startsWith('@@bench-result@@ ')).at(-1);
  if (!line) {
    process.stderr.write(`bench: no result from the lab kernel. ${describeFailure(r)}\n`);
    process.exit(1);
  }
  const consoleRows = result.rows, consoleErrors = result.errors;
  result = JSON.parse(line.slice('@@bench-result@@ '.length)) as typeof result;
  result.rows.push(...consoleRows);
  result.errors.push(...consoleErrors);
  if (r.timedOut) {
    const done = (result.info.sections as string[] | undefined) ?? [];
    result.errors.push(`the lab suite was stopped at the run's time limit (--max-minutes ${mine['max-minutes']}) after sections: ${done.join(', ') || 'none'}`);
  }
  Object.assign(durations, result.info.sectionSeconds as Record<string, number> | undefined);
}
const runSeconds = (Date.now() - started.getTime()) / 1000;
const loadAfter = os.loadavg();

// the agent's CPU windows as the host measured them: one row per figure, the median window, beside the guest's
const byFigure = new Map<string, typeof host.windows>();
for (const w of host.windows) {
  const label = w.label.replace(/ #\d+$/, '');
  byFigure.set(label, [...(byFigure.get(label) ?? []), w]);
}
for (const [label, ws] of byFigure) {
  const at = result.rows.findIndex((row) => row.measure.startsWith(`(f) agent CPU, ${label},`));
  const guest = result.rows[at];
  result.rows.splice(at === -1 ? result.rows.length : at + 1, 0, {
    measure: `(f) agent user CPU seen from the host, ${label}`, director: median(ws.map((w) => w.userPct)), anchor: null, anchorName: '—',
    unit: '% of a core', goal: null, section: guest?.section,
    note: `the agent's own code, without the lab kernel's work for its system calls (bench/host-watch.ts); windows ${ws.map((w) => w.userPct.toFixed(2)).join(' / ')} %; `
      + `host system time of that process (user-mode Linux's traps) ${median(ws.map((w) => w.sysPct)).toFixed(1)} %; whole lab kernel ${median(ws.map((w) => w.labPct)).toFixed(0)} % of a core; host steal ${ws.map((w) => w.stealPct.toFixed(1)).join(' / ')} %; the agent: ${host.agentNote}`,
  });
}
if (host.problems.length) result.errors.push(...host.problems);

// A run of some sections keeps the other sections' rows from the last run that measured them, marked with their date.
const ran = only;
const carried: string[] = [];
try {
  const prev = JSON.parse(readFileSync(path.join(root, 'bench/out/latest.json'), 'utf8')) as { date: string; rows: Row[] };
  for (const row of prev.rows) {
    if (!row.section || ran.includes(row.section)) continue;
    result.rows.push(row.note?.includes('from the run of') ? row : { ...row, note: `${row.note ? `${row.note}; ` : ''}from the run of ${prev.date.slice(0, 16)}Z` });
    if (!carried.includes(row.section)) carried.push(row.section);
  }
} catch { /* no earlier run */ }
result.rows.sort((x, y) => ALL_SECTIONS.indexOf(x.section ?? '') - ALL_SECTIONS.indexOf(y.section ?? ''));

const fmt = (v: number | null, unit: string) => {
  if (v === null || Number.isNaN(v)) return '—';
  if (unit === 'ms') return v >= 1000 ? `${(v / 1000).toFixed(2)} s` : `${v.toFixed(v < 10 ? 1 : 0)} ms`;
  if (unit === 'errors') return String(v);
  return `${v.toFixed(v < 10 ? 2 : 1)} ${unit}`;
};
const table = result.rows.map((row) => {
  const ratio = row.director !== null && row.anchor ? row.director / row.anchor : null;
  let pass: string;
  if (!row.goal) pass = '(info)';
  else if (row.goal.kind === 'ratio') pass = ratio === null ? '—' : ratio <= row.goal.value ? 'pass' : 'FAIL';
  else pass = row.director === null ? 'FAIL (not measured)' : row.director <= row.goal.value ? 'pass' : 'FAIL';
  return {
    measure: row.measure, director: fmt(row.director, row.unit),
    anchor: row.anchor === null ? '—' : `${fmt(row.anchor, row.unit)} (${row.anchorName})`,
    ratio: ratio === null ? '—' : `${ratio.toFixed(3)}×`, goal: row.goal?.text ?? '—', pass, note: row.note ?? '',
  };
});
const cols = ['measure', 'director', 'anchor', 'ratio', 'goal', 'pass', 'note'] as const;
const header = ['measure', 'Director', 'anchor', 'ratio (D/anchor)', 'goal', 'pass/fail', 'note'];
const widths = cols.map((c, i) => Math.max(header[i]!.length, ...table.map((t) => t[c].length)));
const text = [header, ...table.map((t) => cols.map((c) => t[c]))].map((r) => r.map((x, i) => x.padEnd(widths[i]!)).join(' | ')).join('\n');
process.stdout.write(`\n${text}\n`);
if (result.errors.length) process.stdout.write(`\nerrors:\n${result.errors.join('\n')}\n`);

const commit = execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: root, encoding: 'utf8' }).trim();
const dirty = execFileSync('git', ['status', '--porcelain', '--untracked-files=no'], { cwd: root, encoding: 'utf8' }).trim() !== '';
const machine = {
  cores: os.cpus().length, memoryGb: +(os.totalmem() / 2 ** 30).toFixed(1), hostKernel: os.release(),
  labKernel: result.info.guestKernel, labMemoryMb: result.info.guestMemMb,
  loadavgBefore: loadBefore.map((x) => +x.toFixed(2)), loadavgAfter: loadAfter.map((x) => +x.toFixed(2)),
};
mkdirSync(path.join(root, 'bench/out'), { recursive: true });
const record = { date: started.toISOString(), commit, dirty, machine, labSeconds, runSeconds, durations, consoleParams, ...result };
const stamp = started.toISOString().replace(/[:.]/g, '-');
writeFileSync(path.join(root, `bench/out/results-${stamp}.json`), JSON.stringify(record, null, 2));
writeFileSync(path.join(root, 'bench/out/latest.json'), JSON.stringify(record, null, 2));

const md = (cells: string[]) => `| ${cells.map((c) => c.replace(/\|/g, '\\|')).join(' | ')} |`;
const resultsMd = path.join(root, 'bench/RESULTS.md');
let notes = '';
try {
  const old = readFileSync(resultsMd, 'utf8');
  const i = old.indexOf('\n## Notes');
  if (i !== -1) notes = old.slice(i + 1);
} catch { /* first run */ }
writeFileSync(resultsMd, `# Benchmark results (\`npm run bench\`)

Generated by bench/run.ts; the notes section below the table is kept across runs.

- date: ${started.toISOString()}
- commit: ${commit}${dirty ? ' (with uncommitted changes)' : ''}
- machine: ${machine.cores} cores, ${machine.memoryGb} GB, host kernel ${machine.hostKernel}
- lab kernel: user-mode Linux ${machine.labKernel}, ${machine.labMemoryMb} MB
- whole run ${(runSeconds / 60).toFixed(1)} min (${runSeconds.toFixed(0)} s); seconds per section: ${Object.entries(durations).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ')}
- load average (1/5/15 min) before: ${machine.loadavgBefore.join(' / ')}, after: ${machine.loadavgAfter.join(' / ')}
- parameters (lab suite${result.info.full ? ', --full' : ''}): ${JSON.stringify(result.info.params)}
- parameters (console): ${JSON.stringify(consoleParams)}
- process start-up inside the lab (ms, median of 3): ${JSON.stringify(result.info.startup) ?? 'not measured in this run'}
- identical output checks: ${JSON.stringify(result.info.identical) ?? 'not measured in this run'}
- sections measured in this run: ${ran.join(', ')}${carried.length ? `; carried over from an earlier run: ${carried.join(', ')}` : ''}
${result.errors.length ? `- errors: ${result.errors.join('; ')}\n` : ''}
${md(header)}
${md(header.map(() => '---'))}
${table.map((t) => md(cols.map((c) => t[c]))).join('\n')}

${notes || '## Notes\n'}`);
process.stdout.write(`\nwrote bench/out/latest.json and bench/RESULTS.md (whole run ${runSeconds.toFixed(0)} s)\n`);
process.exit(labStatus === 0 && result.errors.length === 0 ? 0 : 1);
