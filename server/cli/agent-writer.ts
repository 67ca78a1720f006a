/**
 * CLI writes through this host's running agent: each ipvsadm command becomes
 * the API mutation the console uses for it, so it takes the agent's write lock
 * and gets one journal entry (undoable where the journal can undo it).
 */
import type { IpvsadmCommand } from '../../lib/ipvsadm/command';
import { agentListening, agentMutation, findLocalAgent, type AgentTarget } from './local-agent';
import type { Writer } from './ipvsadm';

type Cmd = Parameters<Writer['write']>[0];

function call(cmd: Cmd): [string, unknown] {
  switch (cmd.kind) {
    case 'add-service': return ['services.create', { service: cmd.spec, destinations: [] }];
    case 'edit-service': {
      const { key, ...patch } = cmd.spec;
      return ['services.update', { key, patch }];
    }
    case 'delete-service': return ['services.remove', { key: cmd.service }];
    case 'add-server': return ['destinations.create', { service: cmd.service, destination: cmd.destination }];
    case 'edit-server': {
      const { family, address, port, ...patch } = cmd.destination;
      return ['destinations.update', { service: cmd.service, destination: { family, address, port }, patch }];
    }
    case 'delete-server': return ['destinations.remove', { service: cmd.service, destination: cmd.destination }];
    case 'zero': return ['stats.zero', cmd.service ? { key: cmd.service } : {}];
    case 'clear': return ['table.clear', {}];
    case 'set-timeouts': {
      // ipvsadm's 0 keeps a value: leave it out
      const t = Object.fromEntries(Object.entries(cmd.timeouts).filter(([, v]) => v !== 0));
      return ['timeouts.set', t];
    }
    case 'start-daemon': return ['sync.start', cmd.config];
    case 'stop-daemon': return ['sync.stop', { state: cmd.state }];
  }
}

export function agentWriterFor(target: AgentTarget): Writer {
  return {
    async write(cmd: Cmd) {
      if (cmd.kind === 'set-timeouts' && cmd.timeouts.tcp === 0 && cmd.timeouts.tcpFin === 0 && cmd.timeouts.udp === 0) {
        return 'nothing to change (0 keeps each timeout)';
      }
      const [procedure, input] = call(cmd);
      const r = await agentMutation<{ journalId?: number }>(target, procedure, input);
      return `through the agent at ${target.label}${r?.journalId !== undefined ? `, journal #${r.journalId}` : ''}`;
    },
    close() {},
  };
}

/** The agent writer when this host's agent answers, else null (the caller writes to the kernel). */
export async function localAgentWriter(): Promise<Writer | null> {
  const target = findLocalAgent();
  if (!(await agentListening(target))) return null;
  return agentWriterFor(target);
}

export type { IpvsadmCommand };
