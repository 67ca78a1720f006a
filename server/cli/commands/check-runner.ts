/**
 * `director check-runner`: runs misc-check scripts for the agent, as its own
 * unprivileged user (director-checks.service), so a script never runs as the
 * agent's user and never sees its state folder. See server/health/runner/.
 */
import { parseArgs } from 'node:util';
import { DEFAULT_CHECKS_DIR } from '@/lib/schemas/health';
import { effectiveCaps } from '../../health/checkers/misc';
import { startCheckRunner } from '../../health/runner/server';
import type { CliIo } from '../io';

const USAGE = `usage: director check-runner --socket PATH [--checks-dir DIR] [--max-concurrent N]
  --socket          the unix socket the agent connects to (mode 0660; the agent's --check-runner)
  --checks-dir      the only folder scripts run from; it and its scripts must be root-owned and
                    not group- or world-writable (default ${DEFAULT_CHECKS_DIR})
  --max-concurrent  scripts running at once (default 8); more wait, beyond 256 waiting are refused
Refuses to start as root or with any capability: run it as its own user (director-check).
`;

export default async function checkRunner(args: string[], io: CliIo): Promise<number> {
  let values;
  try {
    ({ values } = parseArgs({
      args,
      options: {
        socket: { type: 'string' }, 'checks-dir': { type: 'string' }, 'max-concurrent': { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
      strict: true,
    }));
  } catch (e) {
    io.stderr(`director check-runner: ${(e as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.help) {
    io.stdout(USAGE);
    return 0;
  }
  if (!values.socket?.startsWith('/')) {
    io.stderr(`director check-runner: --socket: an absolute path is required\n${USAGE}`);
    return 2;
  }
  const max = values['max-concurrent'] === undefined ? 8 : Number(values['max-concurrent']);
  if (!Number.isInteger(max) || max < 1 || max > 256) {
    io.stderr(`director check-runner: --max-concurrent must be an integer from 1 to 256, got '${values['max-concurrent']}'\n`);
    return 2;
  }
  // the point of the runner is to hold nothing: a root or capable runner would hand it to every script
  if (process.getuid?.() === 0 || effectiveCaps() !== 0n) {
    io.stderr('director check-runner: refusing to run as root or with capabilities: run it as its own unprivileged user (director-checks.service)\n');
    return 2;
  }
  const dir = values['checks-dir'] ?? DEFAULT_CHECKS_DIR;
  let runner;
  try {
    runner = await startCheckRunner({ socket: values.socket, dir, ownerUid: 0, maxConcurrent: max, maxWaiting: 256 });
  } catch (e) {
    io.stderr(`director check-runner: cannot listen on ${values.socket}: ${(e as Error).message}\n`);
    return 1;
  }
  io.stderr(`director check-runner: listening on ${values.socket}, scripts from ${dir}\n`);
  await new Promise<void>((resolve) => {
    process.once('SIGINT', () => resolve());
    process.once('SIGTERM', () => resolve());
  });
  await runner.close();
  return 0;
}
