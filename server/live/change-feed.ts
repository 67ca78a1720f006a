/**
 * The hub's change events (services.onChange): what each sample found changed, with the services it
 * touched as served, held for subscribers that resume with a lastEventId; and the ids both of the hub's
 * feeds (change events and stats ticks) carry. An id holds the hub's epoch, so one from before an agent
 * restart never matches.
 */
import type { TableChange, TableChangeEvent } from '@/lib/agent/events';
import { keptServiceId, serviceId } from '@/lib/ipvs/ids';
import type { ServiceKey } from '@/lib/ipvs/model';
import type { ServedTable } from './served-table';

/** The services an event's changes touch, by id: what a client must replace (or drop, when gone from the table). */
function touched(changes: readonly TableChange[]): Map<string, ServiceKey> {
  const out = new Map<string, ServiceKey>();
  for (const c of changes) {
    const key = c.type === 'service_added' || c.type === 'service_removed' ? c.service.key : c.type === 'service_changed' ? c.after.key : c.service;
    out.set(serviceId(key), key);
  }
  return out;
}

export class ChangeFeed {
  private readonly epoch = Date.now().toString(36);
  private events: TableChangeEvent[] = [];
  /** seq of the newest event no longer held (resuming before it needs a resync) */
  private droppedUpTo = 0;

  /** `keep`: events held for subscribers that resume */
  constructor(private readonly keep: number) {}

  /** The id of sample `seq`'s event or stats tick. */
  id(seq: number): string {
    return `${this.epoch}:${seq}`;
  }

  /** The id of a piece before a full tick's last: unknown to seqOf, so a subscriber resuming from it gets a full tick. */
  pieceId(seq: number, part: number): string {
    return `${this.id(seq)}.${part}`;
  }

  /** The sample an id names; null for no id, another epoch's, or a piece's. */
  seqOf(id: string | null | undefined): number | null {
    if (!id) return null;
    const [e, s] = id.split(':');
    if (e !== this.epoch || s === undefined || !/^\d+$/.test(s)) return null;
    return Number(s);
  }

  /** Holds the event of sample `seq`, which found `changes` (none: no event) in reading `table`. */
  record(seq: number, changes: TableChange[], table: ServedTable): void {
    if (changes.length === 0) return;
    const ids = touched(changes);
    const services = table.entries.filter((e) => ids.delete(keptServiceId(e))).map((e) => table.served(e));
    this.events.push({ seq, at: table.at, changes, services, removed: [...ids.values()], resync: false });
    if (this.events.length > this.keep) {
      const dropped = this.events.splice(0, this.events.length - this.keep);
      this.droppedUpTo = dropped[dropped.length - 1]!.seq;
    }
  }

  /**
   * Events for one subscriber, while `open()`: what it missed when `lastEventId` names an event still held,
   * else a `resync` event (only when it named one) and what comes from now on. `current()`: the latest
   * sample's seq (0 before the first); `next()` resolves at the next sample.
   */
  async *follow(
    lastEventId: string | null | undefined, current: () => number, next: () => Promise<void>, open: () => boolean,
  ): AsyncGenerator<{ id: string; event: TableChangeEvent }> {
    const resumed = this.seqOf(lastEventId);
    let seen: number;
    if (resumed !== null && resumed >= this.droppedUpTo && resumed <= current()) {
      seen = resumed;
    } else {
      seen = current();
      if (lastEventId) {
        yield { id: this.id(seen), event: { seq: seen, at: Date.now(), changes: [], services: [], removed: [], resync: true } };
      }
    }
    while (open()) {
      const upTo = current();
      const pending = this.events.filter((e) => e.seq > seen && e.seq <= upTo);
      for (const e of pending) yield { id: this.id(e.seq), event: e };
      seen = Math.max(seen, upTo);
      // samples taken while we were yielding are handled without waiting for another
      if (current() === upTo) await next();
    }
  }
}
