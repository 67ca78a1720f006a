/**
 * Lab kernel command line:
 *   tsx server/lab/cli.ts run [--mem MB] [--timeout S] -- CMD [ARGS...]
 *   tsx server/lab/cli.ts test [VITEST FILTERS...]
 * Exits with the command's status (124 on timeout).
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { LabUnavailableError, describeFailure, runInLab } from './uml';

const projectRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function main(argv: string[]): Promise<number> {
  const [sub, ...rest] = argv;
  let mem: number | undefined;
  let timeoutS = 1200;
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
  const r = await runInLab({
    command, cwd: projectRoot, memoryMb: mem, timeoutMs: timeoutS * 1000,
    // the guest console is a TTY; CI=true keeps vitest from redrawing its progress on it
    env: { CI: sub === 'test' ? 'true' : (process.env.CI ?? ''), FORCE_COLOR: process.stdout.isTTY ? '1' : '0' },
    onOutput: (s) => process.stdout.write(s),
  });
  if (r.status !== 0 && (r.timedOut || r.output === '')) process.stderr.write(`lab: ${describeFailure(r)}\n`);
  process.stderr.write(`lab: finished in ${(r.durationMs / 1000).toFixed(1)} s, status ${r.status}\n`);
  return r.status;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (e: unknown) => {
    process.stderr.write(`lab: ${e instanceof LabUnavailableError ? e.message : (e as Error).stack}\n`);
    process.exit(2);
  },
);
