/**
 * "Remove when drained": a drained real server is removed through the one
 * writer (journaled, actor "drain") once it has no connection and no
 * persistence template left. Watching ends when someone gives it a weight
 * again, removes it first, or an operator cancels.
 */
import { destinationId, serviceId } from '@/lib/ipvs/ids';
import type { DestinationKey, ServiceKey } from '@/lib/ipvs/model';
import type { ConnSource } from '../live/conn-source';
import { PreconditionError } from '@/lib/errors';
import { readDestination, removeDestination, type WriteCtx } from './ops';

/** What the watch reads and writes with: a write context without the asker, and the connection table. */
type AgentDeps = Omit<WriteCtx, 'auth' | 'remote'> & { conns: ConnSource | null };

export const DRAIN_ACTOR = 'drain';

export interface PendingRemoval {
  service: ServiceKey;
  destination: DestinationKey;
  since: number;
  by: string;
}

interface Watch { p: PendingRemoval; deps: AgentDeps; timer: NodeJS.Timeout | null }

export class DrainRemovals {
  private readonly watches = new Map<string, Watch>();

  constructor(private readonly everyMs = 1000) {}

  list(): PendingRemoval[] {
    return [...this.watches.values()].map((w) => ({ ...w.p }));
  }

  watch(deps: AgentDeps, service: ServiceKey, d: DestinationKey, by: string): PendingRemoval {
    const id = idOf(service, d);
    this.cancel(service, d);
    const w: Watch = { p: { service, destination: { family: d.family, address: d.address, port: d.port }, since: Date.now(), by }, deps, timer: null };
    this.watches.set(id, w);
    this.schedule(id, w);
    return { ...w.p };
  }

  cancel(service: ServiceKey, d: DestinationKey): boolean {
    const id = idOf(service, d);
    const w = this.watches.get(id);
    if (!w) return false;
    if (w.timer) clearTimeout(w.timer);
    this.watches.delete(id);
    return true;
  }

  close(): void {
    for (const w of this.watches.values()) if (w.timer) clearTimeout(w.timer);
    this.watches.clear();
  }

  private schedule(id: string, w: Watch): void {
    w.timer = setTimeout(() => {
      w.timer = null;
      void this.look(id, w).catch((e: unknown) => {
        w.deps.log.error({ err: e, destination: id }, 'remove-when-drained: look failed; trying again');
        if (this.watches.get(id) === w) this.schedule(id, w);
      });
    }, this.everyMs);
    w.timer.unref?.();
  }

  private async look(id: string, w: Watch): Promise<void> {
    if (this.watches.get(id) !== w) return;
    const { service, destination } = w.p;
    const now = await readDestination(w.deps.backend, service, destination);
    if (!now || now.weight !== 0) {
      w.deps.log.info({ destination: id, weight: now?.weight ?? null }, 'remove-when-drained ends: the server is gone or has a weight again');
      this.watches.delete(id);
      return;
    }
    const empty = now.activeConns === 0 && now.inactiveConns === 0 && now.persistentConns === 0 && (await templatesLeft(w.deps, destination)) === 0;
    if (!empty) return this.schedule(id, w);
    if (this.watches.get(id) !== w) return;
    const ctx: WriteCtx = { ...w.deps, auth: { role: 'operator', tokenName: DRAIN_ACTOR, actor: `${DRAIN_ACTOR} (asked by ${w.p.by})` }, remote: 'agent' };
    let busy = false;
    try {
      // checked again under the lock: a cancel, a weight set (Restore) or new connections since the look above keep the server
      await removeDestination(ctx, service, destination, {
        unless: (d) => {
          if (this.watches.get(id) !== w) return 'the removal was cancelled';
          if (d.weight !== 0) return `it has weight ${d.weight} again`;
          busy = d.activeConns + d.inactiveConns + d.persistentConns > 0;
          return busy ? 'connections reached it meanwhile' : null;
        },
      });
    } catch (e) {
      if (!(e instanceof PreconditionError)) throw e;
      w.deps.log.info({ destination: id, why: e.message }, 'remove-when-drained: not removed');
      // new connections (a persistence template's client): watch on
      if (busy && this.watches.get(id) === w) return this.schedule(id, w);
    }
    if (this.watches.get(id) === w) this.watches.delete(id);
  }
}

/** Persistence templates pointing at the server (any port of it: templates of port-0 services carry 0). */
async function templatesLeft(deps: AgentDeps, d: DestinationKey): Promise<number> {
  if (!deps.conns) return 0;
  const page = await deps.conns.list({ filter: { destination: { address: d.address }, template: true }, limit: 1 });
  return page.total;
}

function idOf(service: ServiceKey, d: DestinationKey): string {
  return `${serviceId(service)}/${destinationId(d)}`;
}
