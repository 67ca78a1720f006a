/**
 * director drain [--remove-when-drained] SERVICE -r SERVER [-r SERVER ...] [SERVICE -r SERVER ...]
 * Drains a set of real servers at once (a rack, a host leaving) through the
 * running agent's destinations.drainMany: every one is checked first, so a
 * name that is not there drains none; each weight 0 is journaled. Services
 * and servers are written as ipvsadm writes them, and read by its grammar.
 */
import { formatCommandError, parseIpvsadmArgs } from '../../../lib/ipvsadm/command';
import { formatDestination, formatServiceKey } from '../../../lib/ipvs/format';
import type { DestinationKey, ServiceKey } from '../../../lib/ipvs/model';
import { AgentCallError, agentListening, agentMutation, findLocalAgent, type AgentTarget } from '../local-agent';
import type { CliIo } from '../io';

const USAGE = `usage: director drain [--remove-when-drained] SERVICE -r SERVER [-r SERVER ...] [SERVICE -r SERVER ...]
  SERVICE   -t|--tcp-service VIP:PORT, -u|--udp-service VIP:PORT, --sctp-service VIP:PORT, -f|--fwmark-service MARK [-6]
  -r SERVER a real server of the service named before it: ADDRESS[:PORT] or [IPv6]:PORT (-r|--real-server)
Sets each real server's weight to 0 (new connections stop, existing ones finish), up to 256 at once.
All are checked first: if one is not there, none is drained. Restore each from the console.
  --remove-when-drained   the agent removes each once no connection and no persistence template is left
`;

const SERVICE_OPTS = new Set(['-t', '--tcp-service', '-u', '--udp-service', '--sctp-service', '-f', '--fwmark-service']);
const SERVER_OPTS = new Set(['-r', '--real-server']);

type Item = { service: ServiceKey; destination: DestinationKey };

/** The (service, server) pairs named on the command line, or why not (the word at fault). */
export async function readDrainArgs(args: readonly string[]): Promise<{ items: Item[]; removeWhenDrained: boolean } | { error: string }> {
  let service: string[] | null = null;
  let removeWhenDrained = false;
  const items: Item[] = [];
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === '--remove-when-drained') { removeWhenDrained = true; continue; }
    if (a === '-6' && service && (service[0] === '-f' || service[0] === '--fwmark-service')) { service.push(a); continue; }
    const value = args[i + 1];
    if (SERVICE_OPTS.has(a) || SERVER_OPTS.has(a)) {
      if (value === undefined || value.startsWith('-')) return { error: `${a}: needs a value` };
      i++;
      if (SERVICE_OPTS.has(a)) { service = [a, value]; continue; }
      if (!service) return { error: `${a} ${value}: name its service first (-t, -u, --sctp-service or -f)` };
      // ipvsadm's own grammar reads the pair: the same addresses, ports and checks as "ipvsadm -d"
      const cmd = await parseIpvsadmArgs(['-d', ...service, '-r', value]);
      if (!('kind' in cmd)) return { error: formatCommandError(cmd) };
      if (cmd.kind !== 'delete-server') return { error: `${a} ${value}: not a real server` };
      items.push({ service: cmd.service, destination: cmd.destination });
      continue;
    }
    return { error: `unknown option '${a}'` };
  }
  if (items.length === 0) return { error: service ? 'name at least one real server (-r) of the service' : 'name a service and its real servers' };
  return { items, removeWhenDrained };
}

export default async function drain(args: string[], io: CliIo, target: AgentTarget = findLocalAgent()): Promise<number> {
  if (args.length === 0 || args[0] === '--help' || args[0] === '-h') { io.stdout(USAGE); return args.length ? 0 : 2; }
  const read = await readDrainArgs(args);
  if ('error' in read) {
    io.stderr(`director drain: ${read.error}\n${USAGE}`);
    return 2;
  }
  if (!(await agentListening(target))) {
    io.stderr(`director drain: no agent answers at ${target.label}; drains go through the running agent (it journals them and removes when drained)\n`);
    return 1;
  }
  try {
    const r = await agentMutation<{ drained: { service: ServiceKey; destination: DestinationKey; journalId: number }[] }>(
      target, 'destinations.drainMany', { items: read.items, ...(read.removeWhenDrained ? { removeWhenDrained: true } : {}) },
    );
    for (const d of r.drained) io.stdout(`drained ${formatDestination(d.destination)} of ${formatServiceKey(d.service)}: weight 0 (journal #${d.journalId})\n`);
    if (read.removeWhenDrained) io.stdout(`the agent removes each once no connection and no persistence template is left (destinations.pendingRemovals)\n`);
    return 0;
  } catch (e) {
    if (e instanceof AgentCallError) {
      io.stderr(`director drain: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
}
