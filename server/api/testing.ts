/** Builders for agent tests: real modules over the in-memory fake kernel. */
import pino from 'pino';
import type { ProcIpvs } from '@/lib/proc/ip-vs';
import { FakeIpvs } from '../ipvs/fake';
import type { Identity } from '@/lib/auth/identity';
import { createContextInner, type AgentDeps } from './context';
import { TableHub } from '../live/hub';
import { Journal } from '../table/journal';
import { Mutex } from '../table/mutex';
import { SlowStarts } from '../table/slow-start';
import { DrainRemovals } from '../table/drain-removals';
import { createCallerFactory } from './trpc';
import { appRouter } from './router';

export const silentLog = pino({ level: 'silent' });

export async function makeDeps(opts: { tickMs?: number; stateDir?: string | null; fake?: FakeIpvs } = {}): Promise<AgentDeps & { fake: FakeIpvs }> {
  const fake = opts.fake ?? new FakeIpvs();
  const hub = new TableHub({ backend: fake, log: silentLog, tickMs: opts.tickMs ?? 20, structure: fakeStructure(fake) });
  return {
    fake,
    backend: fake,
    journal: await Journal.open(opts.stateDir ?? null),
    hub,
    writeLock: new Mutex(),
    log: silentLog,
    conns: null,
    version: 'test',
    startedAt: Date.now(),
    slowStarts: new SlowStarts(),
    drainRemovals: new DrainRemovals(opts.tickMs ?? 20),
  };
}

/**
 * What /proc/net/ip_vs would show for the fake's table: structure, weights,
 * forwarding and active/inactive counts, nothing the file lacks.
 */
export function fakeStructure(fake: FakeIpvs): () => Promise<ProcIpvs> {
  return async () => {
    const table = await fake.dump();
    return {
      version: '1.2.1',
      connTableSize: 4096,
      services: table.map((s) => ({
        key: s.key, scheduler: s.scheduler, persistent: s.flags.persistent, timeout: s.timeout, timeoutJiffies: s.timeout * 250,
        netmask: s.flags.persistent ? s.netmask : '', onePacket: s.flags.onePacket,
        destinations: s.destinations.map((d) => ({
          family: d.family, address: d.address, port: d.port,
          // the kernel prints any method it does not name as Masq
          forward: d.forward === 'bypass' ? 'nat' : d.forward,
          weight: d.weight, activeConns: d.activeConns, inactiveConns: d.inactiveConns,
        })),
      })),
    };
  };
}

export const OPERATOR: Identity = { role: 'operator', tokenName: 'operator' };
export const VIEWER: Identity = { role: 'viewer', tokenName: 'viewer' };

const createCaller = createCallerFactory(appRouter);

export function callerFor(deps: AgentDeps, who: Identity | null, signal?: AbortSignal) {
  return createCaller(createContextInner(deps, who, 'test'), signal ? { signal } : {});
}
