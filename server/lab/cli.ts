/**
 * Lab kernel command line:
 *   tsx server/lab/cli.ts run [--mem MB] [--timeout S] -- CMD [ARGS...]
 *   tsx server/lab/cli.ts test [VITEST FILTERS...]
 * Exits with the command's status (124 on timeout).
 *
 * `test` without filters (npm test) runs the kernel test files in two lab kernels at once, each
 * pinned to its own CPU (vitest's --shard), when the host allows two CPUs: the files share one
 * IPVS table per kernel, so within a kernel they still run one after another.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { availableParallelism } from 'node:os';
import { LabUnavailableError, describeFailure, runInLab, type LabRunResult } from './uml';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let mem: number | undefined;
  // a whole kernel suite on a loaded host has taken over 20 minutes
  let timeoutS = sub === 'test' ? 2700 : 1200;
  const args = [...rest];
  while (args[0]?.startsWith('--') && args[0] !== '--') {
    const flag = args.shift()!;
    if (flag === '--mem') mem = Number(args.shift());
    else if (flag === '--timeout') timeoutS = Number(args.shift());
    else break;
  }
  if (args[0] === '--') args.shift();
  let command: string[];
  if (sub === 'run' && args.length > 0) command = args;
  else if (sub === 'test') {
    command = [process.execPath, path.join(projectRoot, 'node_modules/vitest/vitest.mjs'), 'run',
      '--config', path.join(projectRoot, 'vitest.kernel.config.ts'), '--configLoader', 'runner', ...args];
  } else {
    process.stderr.write('usage: lab run [--mem MB] [--timeout S] -- CMD [ARGS...] | lab test [FILTERS...]\n');
    return 2;
  }
  const lab = (cmd: string[], onOutput: (s: string) => void) => runInLab({
    command: cmd, cwd: projectRoot, memoryMb: mem, timeoutMs: timeoutS * 1000,
    // the guest console is a TTY; CI=true keeps vitest from redrawing its progress on it
    env: { CI: sub === 'test' ? 'true' : (process.env.CI ?? ''), FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
    onOutput,
  });
  const report = (r: LabRunResult, name = 'lab') => {
    if (r.status !== 0 && (r.timedOut || r.output === '')) process.stderr.write(`${name}: ${describeFailure(r)}\n`);
    process.stderr.write(`${name}: finished in ${(r.durationMs / 1000).toFixed(1)} s, status ${r.status}\n`);
  };
  if (sub === 'test' && args.length === 0 && availableParallelism() >= 2 && process.env.DIRECTOR_LAB_CPU === undefined) {
    // the first shard's output as it comes, the second's once the first is done; then one summary
    let second = '';
    const [a, b] = await Promise.all([
      lab([...command, '--shard=1/2'], (s) => process.stdout.write(s)),
      lab([...command, '--shard=2/2'], (s) => { second += s; }),
    ]);
    process.stdout.write(second);
    report(a, 'lab shard 1/2');
    report(b, 'lab shard 2/2');
    process.stdout.write(`${summaryOfShards([a.output, b.output])}\n`);
    return a.status !== 0 ? a.status : b.status;
  }
  const r = await lab(command, (s) => process.stdout.write(s));
  report(r);
  return r.status;
}

/** One vitest-style "Tests" line summing the shards' own (npm test reads the last such line). */
function summaryOfShards(outputs: string[]): string {
  const sum = { failed: 0, passed: 0, skipped: 0, todo: 0 };
  for (const out of outputs) {
    // eslint-disable-next-line no-control-regex
    const line = out.replace(/\x1b\[[0-9;?]*[A-Za-z]/g, '').split('\n').reverse().find((l) => /^\s*Tests\s+\d/.test(l));
    for (const k of Object.keys(sum) as (keyof typeof sum)[]) sum[k] += Number(line?.match(new RegExp(`(\\d+) ${k}`))?.[1] ?? 0);
  }
  const parts = (Object.keys(sum) as (keyof typeof sum)[]).filter((k) => sum[k] > 0).map((k) => `${sum[k]} ${k}`);
  return `      Tests  ${parts.join(' | ') || '0 passed'} (both shards)`;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`lab: ${e instanceof LabUnavailableError ? e.message : (e as Error).stack}\n`);
    process.exit(2);
  },
);
