/**
 * The one sampler shared by every subscriber: it dumps the kernel table once
 * per tick, computes per-object samples and rates, and fans out stats deltas
 * and table-change events. Subscribers never touch the kernel themselves.
 */
import type { Logger } from 'pino';
import type { IpvsBackend } from '@/lib/ipvs/backend';
import type { ServiceEntry } from '@/lib/ipvs/model';
import type { StatsTick, TableChangeEvent } from '@/lib/agent/events';

export interface TableHubOptions {
  backend: IpvsBackend;
  log: Logger;
  tickMs?: number;
}

export class TableHub {
  readonly tickMs: number;
  constructor(private readonly opts: TableHubOptions) {
    this.tickMs = opts.tickMs ?? 1000;
  }

  latest(): ServiceEntry[] | null {
    return null;
  }

  /** Sample now (after a write) so change events do not wait for the next tick. */
  poke(): void {}

  async *stats(_signal: AbortSignal | undefined, _lastEventId?: string | null): AsyncGenerator<StatsTick> {
    throw new Error('not implemented');
  }

  async *changes(_signal: AbortSignal | undefined, _lastEventId?: string | null): AsyncGenerator<TableChangeEvent> {
    throw new Error('not implemented');
  }

  close(): void {}
}
