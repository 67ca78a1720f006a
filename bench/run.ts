/**
 * `npm run bench [-- --services N --runs N --only table,conn ...]`: boots ONE lab kernel, runs
 * bench/lab/suite.ts inside it (Director beside ipvsadm on the same table),
 * prints one table (measure | Director | anchor | ratio | goal | pass/fail),
 * writes the raw results to bench/out/ and the table to bench/RESULTS.md.
 * Arguments after `--` go to the suite unchanged: --only picks sections
 * (startup, table, conn, agent; default all), --services/--dests/--runs size
 * the table measures, --conn-entries/--conn-big/--conn-runs measure (e).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describeFailure, runInLab } from '../server/lab/uml';
import { HostWatch } from './host-watch';
import { median } from './stats';
import type { Row } from './lab/suite';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const suiteArgs = process.argv.slice(2).filter((a) => a !== '--');
const loadBefore = os.loadavg();
const started = new Date();
const host = new HostWatch();

const r = await runInLab({
  command: [process.execPath, '--import', 'tsx', path.join(root, 'bench/lab/suite.ts'), ...suiteArgs],
  cwd: root, memoryMb: 2048, timeoutMs: 60 * 60_000,
  env: {
    BENCH_ONLY: process.env.BENCH_ONLY ?? 'startup,table,conn,agent',
    // bench/lab/agent.ts: a V8 CPU profile of the agent, its heaviest functions printed after the run
    ...(process.env.AGENT_CPU_PROF ? { AGENT_CPU_PROF: process.env.AGENT_CPU_PROF } : {}),
  },
  onOutput: (s) => {
    if (s.startsWith('@@host-mark')) host.onLine(s);
    else if (!s.startsWith('@@bench-result@@')) process.stderr.write(s);
  },
});
const loadAfter = os.loadavg();
const line = r.output.split('\n').find((l) => l.startsWith('@@bench-result@@ '));
if (!line) {
  process.stderr.write(`bench: no result from the lab kernel. ${describeFailure(r)}\n`);
  process.exit(1);
}
const result = JSON.parse(line.slice('@@bench-result@@ '.length)) as { rows: Row[]; info: Record<string, unknown>; errors: string[] };

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
const ALL_SECTIONS = ['startup', 'table', 'restore', 'conn', 'agent'];
// table order: (a)..(e), then the agent's (f)(g)
const ran = (result.info.sections as string[] | undefined) ?? ALL_SECTIONS;
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
  else pass = row.director === null ? '—' : row.director <= row.goal.value ? 'pass' : 'FAIL';
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
const record = { date: started.toISOString(), commit, dirty, machine, labSeconds: r.durationMs / 1000, ...result };
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
- lab kernel: user-mode Linux ${machine.labKernel}, ${machine.labMemoryMb} MB; whole run ${(r.durationMs / 1000).toFixed(0)} s
- load average (1/5/15 min) before: ${machine.loadavgBefore.join(' / ')}, after: ${machine.loadavgAfter.join(' / ')}
- parameters: ${JSON.stringify(result.info.params)}
- process start-up inside the lab (ms, median of 3): ${JSON.stringify(result.info.startup) ?? 'not measured in this run'}
- identical output checks: ${JSON.stringify(result.info.identical) ?? 'not measured in this run'}
- sections measured in this run: ${ran.join(', ')}${carried.length ? `; carried over from an earlier run: ${carried.join(', ')}` : ''}
${result.errors.length ? `- errors: ${result.errors.join('; ')}\n` : ''}
${md(header)}
${md(header.map(() => '---'))}
${table.map((t) => md(cols.map((c) => t[c]))).join('\n')}

${notes || '## Notes\n'}`);
process.stdout.write(`\nwrote bench/out/latest.json and bench/RESULTS.md (lab ${(r.durationMs / 1000).toFixed(0)} s)\n`);
process.exit(r.status === 0 ? 0 : 1);
