/**
 * For kernel tests: the agent's API over HTTP and WebSocket on 127.0.0.1, on the lab kernel's real table (a
 * kernel hub at the given tick, a journal in memory). `table` runs after the netlink handle is open and the
 * table flushed, before the hub's first sample.
 */
import type { Logger } from 'pino';
import type { Role } from '@/lib/auth/identity';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import { openIpvs } from '../ipvs/open';
import { kernelHub, type TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { Auth } from './auth';
import { startAgentServer, type AgentServer } from './server';

export interface KernelAgent { backend: IpvsBackend; hub: TableHub; srv: AgentServer; close(): Promise<void> }

export async function kernelAgent(o: { tokens: Record<Role, string>; log: Logger; tickMs: number; table?: () => void }): Promise<KernelAgent> {
  const backend = await openIpvs();
  let hub: TableHub | null = null;
  let srv: AgentServer | null = null;
  const close = async () => {
    await srv?.close();
    hub?.close();
    await backend.flush().catch(() => undefined);
    backend.close();
  };
  try {
    await backend.flush();
    o.table?.();
    hub = kernelHub({ backend, log: o.log, tickMs: o.tickMs });
    hub.start();
    srv = await startAgentServer({
      deps: { backend, hub, journal: await Journal.open(null), writeLock: new Mutex(), log: o.log, conns: null, version: 'kernel-test', startedAt: Date.now() },
      auth: Auth.fromTokens(o.tokens, o.log),
      listen: { host: '127.0.0.1', port: 0 },
      allowOrigins: [],
    });
    return { backend, hub, srv, close };
  } catch (e) {
    await close();
    throw e;
  }
}
