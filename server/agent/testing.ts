/** Builders for agent tests: real modules over the in-memory fake kernel. */
import pino from 'pino';
import { FakeIpvs } from '../ipvs/fake';
import { createContextInner, type AgentDeps, type Identity } from './context';
import { TableHub } from './hub';
import { Journal } from './journal';
import { Mutex } from './mutex';
import { createCallerFactory } from './trpc';
import { appRouter } from './router';

export const silentLog = pino({ level: 'silent' });

export async function makeDeps(opts: { tickMs?: number; stateDir?: string | null; fake?: FakeIpvs } = {}): Promise<AgentDeps & { fake: FakeIpvs }> {
  const fake = opts.fake ?? new FakeIpvs();
  const hub = new TableHub({ backend: fake, log: silentLog, tickMs: opts.tickMs ?? 20 });
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
  };
}

export const OPERATOR: Identity = { role: 'operator', tokenName: 'operator' };
export const VIEWER: Identity = { role: 'viewer', tokenName: 'viewer' };

const createCaller = createCallerFactory(appRouter);

export function callerFor(deps: AgentDeps, who: Identity | null, signal?: AbortSignal) {
  return createCaller(createContextInner(deps, who, 'test'), signal ? { signal } : {});
}
