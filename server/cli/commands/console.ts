/**
 * `director console …`: managing a console from its host's shell.
 * Directors (enrollment): ../console-agents.ts.
 */
import { CONSOLE_AGENTS_USAGE, consoleAgents } from '../console-agents';
import type { CliIo } from '../io';

const AGENT_SUBS = new Set(['add-agent', 'agents', 'rename-agent', 'remove-agent']);

export default async function consoleCommand(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '-h' || sub === '--help') {
    (sub ? io.stdout : io.stderr)(CONSOLE_AGENTS_USAGE);
    return sub ? 0 : 2;
  }
  if (AGENT_SUBS.has(sub)) return consoleAgents(sub, rest, io);
  io.stderr(`director console: unknown subcommand '${sub}'\n${CONSOLE_AGENTS_USAGE}`);
  return 2;
}
